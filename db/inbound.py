"""The inbound event log: every platform event is stored before it is acknowledged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import InboundEvent
from db.upsert import insert_ignoring_conflict


async def record_inbound(
    session: AsyncSession,
    *,
    channel: str,
    platform_id: str,
    address: str,
    payload: dict[str, Any],
    now: datetime,
    error: str | None = None,
) -> int | None:
    """Store an event; its id, or None when (channel, platform_id) was seen before."""
    values = {
        "channel": channel,
        "platform_id": platform_id,
        "address": address,
        "payload": payload,
        "received_at": now,
        "error": error,
    }
    statement = insert_ignoring_conflict(
        session, InboundEvent, ["channel", "platform_id"], (InboundEvent.id,)
    )
    return (await session.execute(statement, values)).scalar_one_or_none()


async def inbound_exists(session: AsyncSession, *, channel: str, platform_id: str) -> bool:
    """Whether the event is stored already: a platform retry need not download its files again."""
    query = select(InboundEvent.id).where(
        InboundEvent.channel == channel, InboundEvent.platform_id == platform_id
    )
    return (await session.execute(query)).first() is not None
