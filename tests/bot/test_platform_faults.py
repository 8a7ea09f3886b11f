"""Platforms having a bad day: each answers 500, 429 or nothing at all, and the line rides it out.

Every neighbor still gets each reply once, in order: nothing lost, nothing sent twice. The
database plays no part here, so these run on SQLite only.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.app import create_app
from db.engine import create_engine, create_sessionmaker
from db.models import OutboxMessage
from tests.bot.test_telegram import post_update, private_message, settings_for
from tests.bot.test_whatsapp import PUBLIC, message, post, whatsapp_settings
from tests.doubles.telegram_api import HANG, TelegramApiDouble
from tests.doubles.twilio_api import TwilioApiDouble

NEIGHBORS = 12
FAULTS = {
    "500": {"telegram": (500, "Internal Server Error", None), "whatsapp": (500, 20500)},
    "429": {"telegram": (429, "Too Many Requests: retry after 1", 1), "whatsapp": (429, 20429)},
    "hanging": {"telegram": (HANG, "", None), "whatsapp": (HANG, 0)},
}


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hanging call is given up after 1 s instead of 20, and retried after 0.2 s, not 2 to 4."""
    monkeypatch.setattr("bot.outbox.SEND_TIMEOUT_S", 1)
    monkeypatch.setattr("bot.outbox.backoff", lambda attempts: 0.2)


async def sent_rows(database_url: str) -> dict[str, list[str]]:
    """What the outbox holds for each address, in order; all of it must be sent."""
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        rows = (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
    await engine.dispose()
    assert {row.status for row in rows} == {"sent"}
    expected: dict[str, list[str]] = {}
    for row in rows:
        expected.setdefault(row.address, []).append(row.payload["text"])
    return expected


@pytest.mark.parametrize("fault", FAULTS)
async def test_telegram_failing_loses_nothing_and_sends_nothing_twice(fault: str, tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'vecinos.db'}"
    chats = [7_800_000 + n for n in range(NEIGHBORS)]
    with TelegramApiDouble() as api:
        for chat in chats[::2]:  # every other neighbor meets the fault, twice
            api.failures[chat] += [FAULTS[fault]["telegram"]] * 2
        app = create_app(settings_for(api, database_url, tmp_path, webhook=True))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
                for chat in chats:
                    response = await post_update(client, private_message("hola", chat_id=chat))
                    assert response.status_code == 200
                await asyncio.to_thread(api.wait_for_delivered, 2 * NEIGHBORS)
        expected = await sent_rows(database_url)
    for chat in chats:
        assert [m["text"] for m in api.delivered(chat)] == expected[str(chat)], chat
    assert len(api.sent()) == 2 * NEIGHBORS + 2 * len(chats[::2])  # each fault tried once more


@pytest.mark.parametrize("fault", FAULTS)
async def test_whatsapp_failing_loses_nothing_and_sends_nothing_twice(fault: str, tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'vecinos.db'}"
    numbers = [f"+5699000{n:04d}" for n in range(NEIGHBORS)]
    with TwilioApiDouble() as api:
        for number in numbers[::2]:
            api.failures[f"whatsapp:{number}"] += [FAULTS[fault]["whatsapp"]] * 2
        app = create_app(whatsapp_settings(api, database_url, tmp_path))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8080") as client:
                for number in numbers:
                    assert (await post(client, message("hola", number=number))).status_code == 200
                await asyncio.to_thread(api.wait_for_delivered, 2 * NEIGHBORS)
        expected = await sent_rows(database_url)
    for number in numbers:
        assert [m["Body"] for m in api.delivered(f"whatsapp:{number}")] == expected[number], number
    assert len(api.sent) == 2 * NEIGHBORS + 2 * len(numbers[::2])
