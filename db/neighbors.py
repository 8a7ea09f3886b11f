"""Neighbors: one per channel address, with their commune, office and dialog step."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Message, Neighbor
from db.upsert import upsert_returning_row


async def lock_neighbor(
    session: AsyncSession, *, channel: str, address: str, step: str, now: datetime
) -> tuple[Neighbor, bool]:
    """The neighbor at (channel, address), created at `step` if new; True when just created.

    One statement: an upsert that returns the row and, on PostgreSQL, locks it for the
    transaction (SQLite's BEGIN IMMEDIATE already serialises writers), so two messages of
    one neighbor are handled one after the other.
    """
    # The row tells it was created here by carrying this call's own creation stamp (a
    # message's date is only to the second: two messages may share it).
    stamp = datetime.now(UTC)
    values = {
        "channel": channel,
        "address": address,
        "step": step,
        "step_data": {},
        "created_at": stamp,
        "last_inbound_at": now,
    }
    statement = upsert_returning_row(session, Neighbor, ["channel", "address"], ("last_inbound_at",))
    result = await session.execute(statement, values, execution_options={"populate_existing": True})
    neighbor = result.scalar_one()
    return neighbor, neighbor.created_at == stamp


async def find_neighbor(session: AsyncSession, *, channel: str, address: str) -> Neighbor | None:
    query = select(Neighbor).where(Neighbor.channel == channel, Neighbor.address == address)
    return (await session.execute(query)).scalar_one_or_none()


async def add_message(
    session: AsyncSession,
    *,
    neighbor: Neighbor,
    direction: str,
    author: str,
    now: datetime,
    conversation_id: int | None = None,
    text: str = "",
    options: list[dict[str, str]] | None = None,
    media_kind: str | None = None,
    media_ref: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    platform_id: str | None = None,
) -> Message:
    """Append a message to the neighbor's transcript."""
    message = Message(
        neighbor_id=neighbor.id,
        conversation_id=conversation_id,
        direction=direction,
        author=author,
        channel=neighbor.channel,
        text=text,
        options=options or None,
        media_kind=media_kind,
        media_ref=media_ref,
        latitude=latitude,
        longitude=longitude,
        platform_id=platform_id,
        created_at=now,
    )
    session.add(message)
    await session.flush()
    return message


async def add_bot_messages(
    session: AsyncSession,
    *,
    neighbor: Neighbor,
    conversation_id: int | None,
    messages: list[tuple[str, list[dict[str, str]]]],
    now: datetime,
    author: str = "bot",
) -> list[int]:
    """Append outbound (text, options) messages in one statement; their ids, in order."""
    if not messages:
        return []
    rows = [
        {
            "neighbor_id": neighbor.id,
            "conversation_id": conversation_id,
            "direction": "out",
            "author": author,
            "channel": neighbor.channel,
            "text": text,
            "options": options or None,
            "created_at": now,
        }
        for text, options in messages
    ]
    result = await session.execute(insert(Message).returning(Message.id, sort_by_parameter_order=True), rows)
    return list(result.scalars())
