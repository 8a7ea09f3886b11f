"""SPEC §9's inbound figure: Vecinos on Telegram against a bare PTB echo bot, same double.

    python benchmarks/telegram_inbound.py [--messages 3000] [--clients 20] [--rate 100]
                                          [--seconds 10] [--database-url postgresql+asyncpg://…]

Three processes on this machine: the Bot API double, the bot under test, and this load
generator, which posts webhook updates and reads from the double when each reply arrived.
A message's path: webhook → stored → understood → reply queued → sent by the dispatcher →
sendMessage received by the double. Every message of the load gets exactly one reply
(menu choices, office info, greetings), so the n-th reply to a chat answers its n-th message.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.empty_database import require_empty  # noqa: E402
from tests.doubles.server import Served, free_port  # noqa: E402

TOKEN = "123456:TEST-token"
SECRET = "benchmark-secret"
ONE_REPLY_EACH = ["MENU", "5", "hola", "a que hora atienden", "4", "asdf"]
_ids = itertools.count(1)


def update(chat_id: int, text: str) -> dict:
    message = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Vecino"},
        "text": text,
    }
    return {"update_id": next(_ids), "message": message}


class Target:
    def __init__(self, url: str) -> None:
        self.url = url

    async def post(self, client: httpx.AsyncClient, chat_id: int, text: str) -> float:
        sent_at = time.time()
        response = await client.post(
            f"{self.url}/telegram/webhook",
            json=update(chat_id, text),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        response.raise_for_status()
        return sent_at


async def replies(client: httpx.AsyncClient, double_url: str) -> dict[int, list[float]]:
    by_chat: dict[int, list[float]] = defaultdict(list)
    for chat_id, at in (await client.get(f"{double_url}/_calls")).json()["sendMessage"]:
        by_chat[chat_id].append(at)
    return by_chat


async def wait_for_replies(client: httpx.AsyncClient, double_url: str, total: int) -> dict[int, list[float]]:
    while True:
        seen = await replies(client, double_url)
        if sum(map(len, seen.values())) >= total:
            return seen
        await asyncio.sleep(0.05)


async def measure(
    name: str, target: Target, double_url: str, args: argparse.Namespace, warm_up: list[str]
) -> float:
    chats = [9_000_000 + n for n in range(args.clients)]
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=args.clients * 2)) as client:
        for chat in chats:
            for text in warm_up:
                await target.post(client, chat, text)
        base = sum(map(len, (await wait_for_replies(client, double_url, 0)).values()))
        base = await _settled(client, double_url, base)

        per_chat = args.messages // args.clients

        async def neighbor(chat: int) -> None:
            for text in itertools.islice(itertools.cycle(ONE_REPLY_EACH), per_chat):
                await target.post(client, chat, text)

        started = time.time()
        await asyncio.gather(*(neighbor(c) for c in chats))
        acked = time.time() - started
        await wait_for_replies(client, double_url, base + per_chat * len(chats))
        answered = time.time() - started
        total = per_chat * len(chats)
        rate = total / answered
        rates = f"{total / acked:6.0f} updates/s acknowledged, {rate:6.0f} updates/s answered"
        print(f"{name}: {rates} ({total} updates)")

        before = await replies(client, double_url)
        posts: dict[int, list[float]] = defaultdict(list)
        started = time.time()
        cycle = itertools.cycle(ONE_REPLY_EACH)
        tasks = []
        for n in range(int(args.rate * args.seconds)):
            await asyncio.sleep(max(0.0, started + n / args.rate - time.time()))
            chat = chats[n % len(chats)]
            tasks.append((chat, asyncio.create_task(target.post(client, chat, next(cycle)))))
        for chat, task in tasks:
            posts[chat].append(await task)
        after = await wait_for_replies(client, double_url, sum(map(len, before.values())) + len(tasks))
        latencies = [
            reply - posted
            for chat in chats
            for posted, reply in zip(posts[chat], after[chat][len(before.get(chat, [])) :], strict=False)
        ]
        p50, p99 = statistics.median(latencies) * 1000, statistics.quantiles(latencies, n=100)[98] * 1000
        paced = f"at {args.rate:.0f} updates/s for {args.seconds:.0f} s"
        print(f"{name}: {paced}, webhook → reply p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        return rate


async def _settled(client: httpx.AsyncClient, double_url: str, seen: int) -> int:
    """Wait until the warm-up's replies stop coming (a benchmark may poll)."""
    while True:
        await asyncio.sleep(0.5)
        now = sum(map(len, (await replies(client, double_url)).values()))
        if now == seen:
            return now
        seen = now


def start_double(port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "tests.doubles.telegram_api", str(port)], cwd=ROOT)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/_calls")
            return process
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("the Bot API double did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    if args.database_url:
        require_empty(args.database_url)
    port = free_port()
    double = start_double(port)
    double_url = f"http://127.0.0.1:{port}"
    try:
        echo_port = free_port()
        echo = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "echo_bot.py"), str(echo_port), f"{double_url}/bot"]
        )
        try:
            for _ in range(200):
                try:
                    httpx.post(f"http://127.0.0.1:{echo_port}/telegram/webhook", json=update(1, "warm"))
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            echo_rate = asyncio.run(
                measure("echo bot", Target(f"http://127.0.0.1:{echo_port}"), double_url, args, ["hola"])
            )
        finally:
            echo.terminate()
            echo.wait()

        with tempfile.TemporaryDirectory() as workdir:
            database_url = args.database_url or f"sqlite+aiosqlite:///{Path(workdir) / 'bench.db'}"
            vecinos_port = free_port()
            env = {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": f"{double_url}/bot",
                "TELEGRAM_WEBHOOK_SECRET": SECRET,
                "PUBLIC_URL": f"http://127.0.0.1:{vecinos_port}",
                "SECRET_KEY": "b" * 40,
            }
            with Served(Path(workdir), database_url, port=vecinos_port, **env):
                target = Target(f"http://127.0.0.1:{vecinos_port}")
                vecinos_rate = asyncio.run(
                    measure("vecinos", target, double_url, args, ["hola", "vivo en rengo"])
                )
        print(f"vecinos / echo bot: {vecinos_rate / echo_rate:.0%} (SPEC §9: ≥ 60%)")
    finally:
        double.terminate()
        double.wait()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
