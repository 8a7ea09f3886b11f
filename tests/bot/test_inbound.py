"""The inbound pipeline keeps every message, even when handling it fails on a bug."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.inbound import InboundPipeline
from bot.media import MediaStore
from bot.metrics import Metrics
from db.models import InboundEvent, OutboxMessage
from handlers.alerts import OfficeAlerts
from handlers.events import InboundMessage
from handlers.neighbor import Dialog
from handlers.texts import Texts
from handlers.tips import Tips
from routing.understand import DEFAULT_DATA_DIR


class BrokenDialog(Dialog):
    """A dialog with a bug: every message it handles raises."""

    async def handle(self, session, message):  # type: ignore[override]
        raise RuntimeError("a bug")


async def test_a_bug_loses_no_message_and_still_gives_the_helpline(
    sessions, understander, tmp_path: Path
) -> None:
    texts = Texts.from_dir(DEFAULT_DATA_DIR)
    alerts = OfficeAlerts(texts, understander.directory, understander.timezone)
    dialog = BrokenDialog(texts, understander, Tips.from_dir(DEFAULT_DATA_DIR), alerts)
    pipeline = InboundPipeline(sessions, dialog, texts, MediaStore(tmp_path), Metrics(), asyncio.Event())
    message = InboundMessage(
        channel="test", address="+56911112222", platform_id="m1", received_at=datetime.now(UTC),
        text="me estan robando, ayuda",
    )  # fmt: skip
    assert await pipeline.receive(message) is True
    assert await pipeline.receive(message) is False  # a retry: nothing more
    async with sessions() as session:
        (event,) = (await session.execute(select(InboundEvent))).scalars().all()
        outbox = (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
    assert event.payload["text"] == "me estan robando, ayuda" and "a bug" in event.error
    helpline, kept = (row.payload["text"] for row in outbox)
    assert "📞 133" in helpline
    assert "quedó guardado" in kept
