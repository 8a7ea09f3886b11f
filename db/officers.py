"""Console accounts, and the office queue as officers see it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Conversation, Message, Neighbor, Note, Officer, OutboxMessage, Report


async def create_officer(
    session: AsyncSession,
    *,
    office_id: str,
    name: str,
    email: str,
    role: str,
    password_hash: str,
    now: datetime,
) -> Officer:
    officer = Officer(
        office_id=office_id,
        name=name,
        email=email.lower(),
        role=role,
        password_hash=password_hash,
        must_change_password=True,
        created_at=now,
    )
    session.add(officer)
    await session.flush()
    return officer


async def find_officer(session: AsyncSession, *, email: str) -> Officer | None:
    query = select(Officer).where(Officer.email == email.strip().lower())
    return (await session.execute(query)).scalar_one_or_none()


VIEWS = ("waiting", "mine", "open", "closed")


async def queue_view(
    session: AsyncSession, office_ids: Collection[str], view: str, officer_id: int
) -> Sequence[tuple[Conversation, Neighbor]]:
    """A console view: waiting (urgent first, then oldest), mine, all open, or closed (newest)."""
    query = select(Conversation, Neighbor).join(Neighbor, Neighbor.id == Conversation.neighbor_id)
    query = query.where(Conversation.office_id.in_(office_ids))
    if view == "waiting":
        query = query.where(Conversation.status == "waiting").order_by(
            case((Conversation.urgent.is_(True), 0), else_=1), Conversation.created_at, Conversation.id
        )
    elif view == "mine":
        query = query.where(Conversation.status == "open", Conversation.assigned_officer_id == officer_id)
        query = query.order_by(Conversation.updated_at.desc())
    elif view == "open":
        query = query.where(Conversation.status == "open").order_by(Conversation.updated_at.desc())
    else:
        query = (
            query.where(Conversation.status == "closed").order_by(Conversation.closed_at.desc()).limit(100)
        )
    return [(conversation, neighbor) for conversation, neighbor in (await session.execute(query)).all()]


async def view_counts(session: AsyncSession, office_ids: Collection[str], officer_id: int) -> dict[str, int]:
    """How many conversations each view holds (closed: all of them)."""
    mine = case((Conversation.assigned_officer_id == officer_id, 1), else_=0)
    query = (
        select(Conversation.status, func.count(), func.sum(mine))
        .where(Conversation.office_id.in_(office_ids))
        .group_by(Conversation.status)
    )
    counts = dict.fromkeys(VIEWS, 0)
    for status, count, assigned in (await session.execute(query)).all():
        counts[status] = count
        if status == "open":
            counts["mine"] = int(assigned or 0)
    return counts


async def conversation_transcript(
    session: AsyncSession, conversation_id: int
) -> Sequence[tuple[Message, str | None]]:
    """A conversation's messages, oldest first, each outbound one with its delivery status."""
    query = (
        select(Message, OutboxMessage.status)
        .outerjoin(OutboxMessage, OutboxMessage.message_id == Message.id)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id)
    )
    return [(message, status) for message, status in (await session.execute(query)).all()]


async def earlier_conversations(session: AsyncSession, neighbor_id: int, conversation_id: int) -> int:
    query = select(func.count()).where(
        Conversation.neighbor_id == neighbor_id, Conversation.id < conversation_id
    )
    return (await session.execute(query)).scalar_one()


async def conversation_notes(session: AsyncSession, conversation_id: int) -> Sequence[tuple[Note, str]]:
    """Internal notes, oldest first, with who wrote them."""
    query = (
        select(Note, func.coalesce(Officer.name, ""))
        .outerjoin(Officer, Officer.id == Note.officer_id)
        .where(Note.conversation_id == conversation_id)
        .order_by(Note.id)
    )
    return [(note, name) for note, name in (await session.execute(query)).all()]


async def conversation_report(session: AsyncSession, conversation_id: int) -> Report | None:
    query = select(Report).where(Report.conversation_id == conversation_id)
    return (await session.execute(query)).scalar_one_or_none()
