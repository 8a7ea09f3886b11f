"""Console accounts, and the office queue as officers see it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Conversation, Message, Neighbor, Officer, OutboxMessage


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


async def waiting_queue(
    session: AsyncSession, office_ids: Collection[str]
) -> Sequence[tuple[Conversation, Neighbor]]:
    """The waiting conversations of these offices: urgent first, then oldest."""
    query = (
        select(Conversation, Neighbor)
        .join(Neighbor, Neighbor.id == Conversation.neighbor_id)
        .where(Conversation.office_id.in_(office_ids), Conversation.status == "waiting")
        .order_by(case((Conversation.urgent.is_(True), 0), else_=1), Conversation.created_at, Conversation.id)
    )
    return [(conversation, neighbor) for conversation, neighbor in (await session.execute(query)).all()]


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
