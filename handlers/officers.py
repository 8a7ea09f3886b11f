"""What officers do with a conversation: take, reply, close, transfer, notes, report status.

Channel-agnostic like the neighbor dialog: replies become outbox rows for the channel the
neighbor wrote from. Every function takes the conversation already checked to be one the
officer may see (the console checks it first).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Conversation, Neighbor, Note, Officer, Report, ReportFollower, ReportStatus
from db.neighbors import add_bot_messages
from db.outbox import enqueue_many
from handlers.alerts import OfficeAlerts
from handlers.events import Option, Reply
from handlers.texts import Texts
from handlers.turn import Step
from routing.normalize import strip_accents

OUTCOMES = ("resolved", "derived", "informed", "no_answer")
REPORT_STATUSES = ("received", "in_progress", "resolved", "closed")


def claim(conversation: Conversation, officer: Officer, now: datetime) -> None:
    """A region-wide urgent conversation (no commune yet) becomes the acting officer's office's."""
    conversation.office_id = officer.office_id
    conversation.updated_at = now


def take(conversation: Conversation, officer: Officer, now: datetime) -> None:
    conversation.assigned_officer_id = officer.id
    conversation.status = "open"
    conversation.updated_at = now


async def reply(
    session: AsyncSession,
    conversation: Conversation,
    neighbor: Neighbor,
    officer: Officer,
    text: str,
    now: datetime,
) -> None:
    """An officer's answer, to the neighbor's channel; it opens the conversation if it waited."""
    if conversation.status == "waiting":
        take(conversation, officer, now)
    conversation.first_response_at = conversation.first_response_at or now
    await _send(session, neighbor, conversation, [Reply(text, kind="officer_reply")], now, author="officer")


async def close(
    session: AsyncSession,
    conversation: Conversation,
    neighbor: Neighbor,
    *,
    outcome: str,
    derived_to: str,
    office_name: str,
    texts: Texts,
    now: datetime,
) -> None:
    """Close with an outcome the neighbor is told in plain words, then ask if it was solved."""
    conversation.status, conversation.outcome, conversation.closed_at = "closed", outcome, now
    conversation.updated_at = now
    told = Reply(texts(f"closing.{outcome}", office=office_name, to=derived_to), kind="officer_reply")
    question = Reply(
        texts("closing.question"),
        options=(Option("1", texts("closing.yes")), Option("2", texts("closing.no"))),
        kind="officer_reply",
    )
    await _send(session, neighbor, conversation, [told, question], now, author="bot")
    neighbor.step = Step.CLOSED_FEEDBACK
    neighbor.step_data = {
        "choices": {
            "1": ["yes", strip_accents(texts("closing.yes"))],
            "2": ["no", strip_accents(texts("closing.no"))],
        },
        "closed": conversation.id,
    }


async def transfer(
    session: AsyncSession,
    conversation: Conversation,
    neighbor: Neighbor,
    *,
    to_office: str,
    to_office_name: str,
    reason: str,
    texts: Texts,
    alerts: OfficeAlerts,
    now: datetime,
) -> None:
    """Move the conversation to another office's queue; the neighbor is told why, plainly."""
    conversation.office_id, conversation.status, conversation.assigned_officer_id = to_office, "waiting", None
    conversation.updated_at = now
    told = Reply(texts("transfer.told", office=to_office_name, reason=reason), kind="officer_reply")
    await _send(session, neighbor, conversation, [told], now, author="bot")
    await alerts.waiting(session, conversation, reason="transferred", now=now)


def add_note(
    session: AsyncSession, conversation: Conversation, officer: Officer, text: str, now: datetime
) -> None:
    session.add(Note(conversation_id=conversation.id, officer_id=officer.id, text=text, created_at=now))


async def update_report(
    session: AsyncSession, report: Report, *, status: str, note: str, texts: Texts, now: datetime
) -> None:
    """A new status for a report: kept in its history, told to its author and followers."""
    report.status = status
    session.add(ReportStatus(report_id=report.id, status=status, note=note, created_at=now))
    values = {
        "reference": report.reference,
        "category": texts(f"report.categories.{report.category}"),
        "status": texts(f"report_status.labels.{status}"),
        "note": note,
    }
    told = Reply(
        texts("report_status.told_with_note" if note else "report_status.told", **values),
        kind="report_status",
    )
    followers = select(ReportFollower.neighbor_id).where(ReportFollower.report_id == report.id)
    audience = select(Neighbor).where(or_(Neighbor.id == report.neighbor_id, Neighbor.id.in_(followers)))
    conversation = await session.get(Conversation, report.conversation_id) if report.conversation_id else None
    for neighbor in (await session.execute(audience)).scalars():
        here = conversation if conversation is not None and conversation.neighbor_id == neighbor.id else None
        await _send(
            session,
            neighbor,
            here,
            [told],
            now,
            author="bot",
            key=f"report:{report.id}:{status}:{neighbor.id}",
        )


async def _send(
    session: AsyncSession,
    neighbor: Neighbor,
    conversation: Conversation | None,
    replies: list[Reply],
    now: datetime,
    *,
    author: str,
    key: str | None = None,
) -> None:
    ids = await add_bot_messages(
        session,
        neighbor=neighbor,
        conversation_id=conversation.id if conversation else None,
        messages=[(r.text, [{"key": o.key, "label": o.label} for o in r.options]) for r in replies],
        now=now,
        author=author,
    )
    rows = [
        {
            "dedupe_key": f"{key}:{message_id}" if key else f"message:{message_id}",
            "channel": neighbor.channel,
            "address": neighbor.address,
            "payload": reply_.to_payload(),
            "neighbor_id": neighbor.id,
            "message_id": message_id,
        }
        for reply_, message_id in zip(replies, ids, strict=True)
    ]
    await enqueue_many(session, rows, now=now)
