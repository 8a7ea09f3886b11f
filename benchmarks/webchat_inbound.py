"""The inbound path through the web chat: POST → stored → understood → reply queued and sent.

    python benchmarks/webchat_inbound.py [--clients 20] [--messages 1500] [--rate 100] [--seconds 10]
                                         [--database-url postgresql+asyncpg://…]

Runs `vecinos serve` as a real process (fresh SQLite file unless --database-url), then:
1. throughput: `--clients` neighbors post `--messages` in all as fast as they are answered;
   the rate counts until every reply has been marked sent by the outbox dispatcher;
2. latency: messages at a fixed `--rate` per second for `--seconds`; p50/p99 of the POST.
The load generator runs on the same 2-core machine, as the platforms' doubles will.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.empty_database import require_empty
from db.models import OutboxMessage
from tests.doubles.server import Served

CONVERSATION = ["hay ruidos molestos en la noche", "MENU", "2", "1", "3", "quiero hablar con alguien", "hola"]


async def post(client: httpx.AsyncClient, url: str, token: str, text: str) -> float:
    started = time.perf_counter()
    body = {"token": token, "client_id": secrets.token_hex(8), "text": text}
    response = await client.post(f"{url}/chat/api/messages", json=body)
    response.raise_for_status()
    return time.perf_counter() - started


async def pending(database_url: str) -> int:
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        count = await connection.scalar(
            select(func.count()).where(OutboxMessage.status.in_(("pending", "sending")))
        )
    await engine.dispose()
    return count


async def run(url: str, database_url: str, clients: int, messages: int, rate: float, seconds: float) -> None:
    limits = httpx.Limits(max_connections=clients * 2)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        tokens = [secrets.token_hex(16) for _ in range(clients)]
        for token in tokens:  # each neighbor registered, at the menu
            await post(client, url, token, "hola")
            await post(client, url, token, "vivo en rengo")

        per_client = messages // clients
        latencies: list[float] = []

        async def neighbor(token: str) -> None:
            for text in itertools.islice(itertools.cycle(CONVERSATION), per_client):
                latencies.append(await post(client, url, token, text))

        started = time.perf_counter()
        await asyncio.gather(*(neighbor(t) for t in tokens))
        acked = time.perf_counter() - started
        while await pending(database_url):
            await asyncio.sleep(0.05)
        delivered = time.perf_counter() - started
        total = per_client * clients
        print(f"throughput, {clients} neighbors: {total / acked:7.0f} messages/s acknowledged, "
              f"{total / delivered:7.0f} messages/s with every reply sent ({total} messages)")  # fmt: skip
        print(f"  latency under full load: p50 {statistics.median(latencies) * 1000:.0f} ms, "
              f"p99 {statistics.quantiles(latencies, n=100)[98] * 1000:.0f} ms")  # fmt: skip

        paced: list[float] = []
        tasks = []
        cycle = itertools.cycle(CONVERSATION)
        started = time.perf_counter()
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(post(client, url, tokens[n % clients], next(cycle))))
        paced = await asyncio.gather(*tasks)
        p50, p99 = statistics.median(paced) * 1000, statistics.quantiles(paced, n=100)[98] * 1000
        print(f"latency at {rate:.0f} messages/s for {seconds:.0f} s: p50 {p50:.1f} ms, p99 {p99:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if args.database_url:
        require_empty(args.database_url)
    with tempfile.TemporaryDirectory() as workdir:
        database_url = args.database_url or f"sqlite+aiosqlite:///{Path(workdir) / 'bench.db'}"
        with Served(Path(workdir), database_url, LOG_LEVEL="warning") as server:
            asyncio.run(run(server.url, database_url, args.clients, args.messages, args.rate, args.seconds))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
