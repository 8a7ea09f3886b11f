"""Telling officers that a conversation waits for them, on the chat they linked.

Who is told: in office hours, every linked officer of the conversation's office; out of
hours, only an urgent conversation is told, to the office's officers on call (or, if the
office named none, to all its linked officers: an urgent neighbor must reach someone). A
region-wide urgent conversation (no commune yet) is told to every linked officer of the region.

An alert carries no personal data of the neighbor: only the office, what the conversation
is about, whether it is urgent, and where to open it in the console. It goes through the
outbox in the transaction that queued the conversation, so it is sent once it is true.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
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
    """Queues alerts for officers; `console_url` makes them a link to follow."""

    def __init__(self, texts: Texts, directory: Directory, timezone: tzinfo, console_url: str = "") -> None:
        self._texts = texts
        self._directory = directory
        self._timezone = timezone
        self._console_url = console_url

    async def waiting(
        self, session: AsyncSession, conversation: Conversation, *, reason: Reason, now: datetime
    ) -> None:
        """`conversation` now waits in its office's queue (or the region's), for `reason`."""
        recipients = await self._recipients(session, conversation, now)
        if not recipients:
            return
        texts = self._texts
        reason = "urgent" if conversation.urgent and reason == "new" else reason
        intent = texts(f"console.intents.{conversation.intent}")
        if conversation.office_id is None:
            kind = texts(f"console.emergencies.{conversation.emergency_kind or 'danger'}")
            lines = [texts("alerts.region", kind=kind, intent=intent, number=conversation.id)]
        else:
            office = self._directory.offices[conversation.office_id].name
            lines = [texts(f"alerts.{reason}", office=office, intent=intent, number=conversation.id)]
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

    async def _recipients(
        self, session: AsyncSession, conversation: Conversation, now: datetime
    ) -> Sequence[tuple[int, str, str]]:
        if conversation.office_id is None:
            return await linked_officers(session)
        office = self._directory.offices[conversation.office_id]
        if not office.hours or office.is_open(now.astimezone(self._timezone)):
            return await linked_officers(session, office.id)
        if not conversation.urgent:
            return []  # out of hours it waits for the morning, as the neighbor was told
        return await linked_officers(session, office.id, on_call=True) or await linked_officers(
            session, office.id
        )
