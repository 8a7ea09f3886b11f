"""Conversations in an office's queue (urgent first, then oldest), and what an officer reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Conversation, Message, Note, Officer, OutboxMessage, Report

ACTIVE = ("waiting", "open")


async def active_conversation(session: AsyncSession, neighbor_id: int) -> Conversation | None:
    """The neighbor's conversation still waiting or open, if any (the newest)."""
    query = (
        select(Conversation)
        .where(Conversation.neighbor_id == neighbor_id, Conversation.status.in_(ACTIVE))
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def open_conversation(
    session: AsyncSession,
    *,
    neighbor_id: int,
    office_id: str | None,
    intent: str,
    now: datetime,
    topic: str | None = None,
    emergency_kind: str | None = None,
) -> Conversation:
    """Queue a new conversation; the messages since the neighbor's last one become its start."""
    conversation = Conversation(
        neighbor_id=neighbor_id,
        office_id=office_id,
        intent=intent,
        topic=topic,
        status="waiting",
        urgent=emergency_kind is not None,
        emergency_kind=emergency_kind,
        created_at=now,
        updated_at=now,
    )
    session.add(conversation)
    await session.flush()
    last_attached = (
        select(func.coalesce(func.max(Message.id), 0))
        .where(Message.neighbor_id == neighbor_id, Message.conversation_id.is_not(None))
        .scalar_subquery()
    )
    await session.execute(
        update(Message)
        .where(
            Message.neighbor_id == neighbor_id,
            Message.conversation_id.is_(None),
            Message.id > last_attached,
        )
        .values(conversation_id=conversation.id)
    )
    return conversation


def flag_urgent(conversation: Conversation, emergency_kind: str, now: datetime) -> None:
    conversation.urgent = True
    conversation.emergency_kind = conversation.emergency_kind or emergency_kind
    conversation.updated_at = now


async def queue_position(session: AsyncSession, conversation: Conversation) -> int:
    """1 for the next conversation an officer will take; counts only waiting ones."""
    earlier = or_(
        Conversation.created_at < conversation.created_at,
        and_(Conversation.created_at == conversation.created_at, Conversation.id < conversation.id),
    )
    if conversation.urgent:
        ahead = and_(Conversation.urgent.is_(True), earlier)
    else:
        ahead = or_(Conversation.urgent.is_(True), earlier)
    query = select(func.count()).where(
        Conversation.office_id == conversation.office_id,
        Conversation.status == "waiting",
        Conversation.id != conversation.id,
        ahead,
    )
    return (await session.execute(query)).scalar_one() + 1


async def reopen(session: AsyncSession, conversation_id: int, now: datetime) -> Conversation | None:
    """Back to the queue: the neighbor says it was not solved."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is not None:
        conversation.status, conversation.outcome, conversation.closed_at = "waiting", None, None
        conversation.updated_at = now
    return conversation


async def conversation_transcript(
    session: AsyncSession, conversation_id: int
) -> Sequence[tuple[Message, str | None, str | None]]:
    """A conversation's messages, oldest first; outbound ones with delivery status and why it waits."""
    query = (
        select(Message, OutboxMessage.status, OutboxMessage.last_error)
        .outerjoin(OutboxMessage, OutboxMessage.message_id == Message.id)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id)
    )
    return [(message, status, error) for message, status, error in (await session.execute(query)).all()]


async def earlier_conversations(
    session: AsyncSession, neighbor_id: int, conversation_id: int
) -> Sequence[Conversation]:
    """The neighbor's conversations before this one, newest first."""
    query = (
        select(Conversation)
        .where(Conversation.neighbor_id == neighbor_id, Conversation.id < conversation_id)
        .order_by(Conversation.id.desc())
    )
    return (await session.execute(query)).scalars().all()


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
