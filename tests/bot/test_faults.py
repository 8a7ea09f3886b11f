"""Faults the line must ride out: nothing lost, nothing sent twice.

The database goes away for ten seconds under load (PostgreSQL behind a TCP proxy the test
cuts); Telegram retries what was refused, as it does; every neighbor gets each reply once,
and replies resume by themselves.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from bot.app import create_app
from tests.bot.test_telegram import api, post_update, private_message, settings_for  # noqa: F401 (fixture)
from tests.doubles.tcp_proxy import TcpProxy
from tests.doubles.telegram_api import TelegramApiDouble

NEIGHBORS = 150
PER_SECOND = 10
OUTAGE_AT_S, OUTAGE_S = 4.0, 10.0
RESUME_WITHIN_S = 30.0
FIRST_CHAT = 7_700_000


async def until_accepted(client: httpx.AsyncClient, update: dict) -> int:
    """Post `update` until the line takes it, as Telegram retries a refused webhook; the tries."""
    tries = 1
    while (await post_update(client, update)).status_code != 200:
        tries += 1
        await asyncio.sleep(0.2)  # Telegram's pace between retries, not a wait for a condition
    return tries


async def test_a_ten_second_database_outage_under_load_loses_nothing_and_sends_nothing_twice(
    api: TelegramApiDouble,  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the outage is a TCP proxy in front of PostgreSQL")
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.restore()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(settings_for(api, proxied, tmp_path, webhook=True))
    try:
        await run_the_outage(app, api, proxy)
    finally:
        await proxy.cut()  # every socket through it closed before the loop ends


async def run_the_outage(app: Starlette, api: TelegramApiDouble, proxy: TcpProxy) -> None:  # noqa: F811
    """Load from 150 neighbors at 10/s; the database away from the 4th second to the 14th."""
    async with app.router.lifespan_context(app):
        await asyncio.to_thread(api.wait_for, 1, method="setWebhook")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://vecinos.example.cl") as client:
            started = time.monotonic()

            async def outage() -> float:
                await asyncio.sleep(OUTAGE_AT_S)
                await proxy.cut()
                assert (await client.get("/readyz")).status_code == 503
                await asyncio.sleep(OUTAGE_S)
                await proxy.restore()
                return time.time()

            async def neighbor(n: int) -> int:
                await asyncio.sleep(n / PER_SECOND)  # the load's pace
                return await until_accepted(client, private_message("hola", chat_id=FIRST_CHAT + n))

            restored, *tries = await asyncio.gather(outage(), *(neighbor(n) for n in range(NEIGHBORS)))
            # Every neighbor is welcomed and asked their commune: two replies each.
            await asyncio.to_thread(api.wait_for, 2 * NEIGHBORS, timeout=RESUME_WITHIN_S + 30)
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
    replies = [c for c in api.calls if c.method == "sendMessage"]
    per_chat = Counter(c.params["chat_id"] for c in replies)
    duplicates = sum(count - 2 for count in per_chat.values())
    refused = sum(t - 1 for t in tries)
    resumed = min(c.at for c in replies if c.at >= restored) - restored
    print(  # the figures for the closing note
        f"\noutage of {OUTAGE_S:.0f} s under {PER_SECOND} updates/s: {refused} webhook posts refused"
        f" and retried, {len(per_chat)} neighbors answered, {duplicates} duplicates, first reply"
        f" {resumed:.1f} s after the database came back, all done {time.monotonic() - started:.1f} s"
        " after the start"
    )
    assert refused > 0  # the outage did happen under load
    assert len(per_chat) == NEIGHBORS and duplicates == 0
    assert resumed < RESUME_WITHIN_S
