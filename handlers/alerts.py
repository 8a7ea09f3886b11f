"""Telling an office's officers that a conversation waits for them, on the chat they linked.

An alert carries no personal data of the neighbor: only the office, what the conversation
is about, whether it is urgent, and where to open it in the console. It goes through the
outbox in the transaction that queued the conversation, so it is sent once it is true.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Conversation
from db.officers import linked_officers
from db.outbox import enqueue_many
from handlers.events import Reply
from handlers.texts import Texts
from routing.directory import Directory

Reason = Literal["new", "urgent", "reopened", "transferred"]  # why it waits: `alerts.<reason>` says it


class OfficeAlerts:
    """Queues alerts for the office's officers; `console_url` makes them a link to follow."""

    def __init__(self, texts: Texts, directory: Directory, console_url: str = "") -> None:
        self._texts = texts
        self._directory = directory
        self._console_url = console_url

    async def waiting(
        self, session: AsyncSession, conversation: Conversation, *, reason: Reason, now: datetime
    ) -> None:
        """`conversation` now waits in its office's queue, for `reason`."""
        recipients = await linked_officers(session, conversation.office_id)
        if not recipients:
            return
        texts = self._texts
        reason = "urgent" if conversation.urgent and reason == "new" else reason
        lines = [
            texts(
                f"alerts.{reason}",
                office=self._directory.offices[conversation.office_id].name,
                intent=texts(f"console.intents.{conversation.intent}"),
                number=conversation.id,
            )
        ]
        if self._console_url:
            lines.append(
                texts("alerts.open", url=f"{self._console_url}/console/conversations/{conversation.id}")
            )
        reply = Reply("\n".join(lines), kind="alert")
        stamp = int(now.timestamp() * 1000)
        rows = [
            {
                "dedupe_key": f"alert:{conversation.id}:{reason}:{stamp}:{officer_id}",
                "channel": channel,
                "address": address,
                "payload": reply.to_payload(),
            }
            for officer_id, channel, address in recipients
        ]
        await enqueue_many(session, rows, now=now)
