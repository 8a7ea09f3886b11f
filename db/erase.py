"""BORRAR: erase a neighbor's personal data for real, every personal column in one place.

What a neighbor wrote and who they are goes: their row, transcript, conversations, every
outbox row to their address and the raw platform events. The confirmation, queued after
this, forgets its address and words once sent (the dispatcher's `forget_sent`). Reports
they filed stay for the office's figures (category, commune, status), stripped of
description, place, photo and author.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import InboundEvent, Message, Neighbor, OutboxMessage, Report

ERASED = ""


async def erase_neighbor(session: AsyncSession, neighbor: Neighbor) -> list[str]:
    """Delete the neighbor and everything personal that refers to them.

    Returns the stored media files (photos, voice notes) to delete once this commits.
    """
    media = await session.execute(
        select(Message.media_ref).where(Message.neighbor_id == neighbor.id, Message.media_ref.is_not(None))
    )
    photos = await session.execute(
        select(Report.photo_ref).where(Report.neighbor_id == neighbor.id, Report.photo_ref.is_not(None))
    )
    files = sorted({*media.scalars(), *photos.scalars()})
    await session.execute(
        update(Report)
        .where(Report.neighbor_id == neighbor.id)
        .values(
            neighbor_id=None, description=ERASED, place=ERASED, photo_ref=None, latitude=None, longitude=None
        )
    )
    await session.execute(
        delete(OutboxMessage).where(
            or_(
                OutboxMessage.neighbor_id == neighbor.id,
                and_(OutboxMessage.channel == neighbor.channel, OutboxMessage.address == neighbor.address),
            )
        )
    )
    # The event rows stay as deduplication keys (a platform retry must not recreate anything).
    await session.execute(
        update(InboundEvent)
        .where(InboundEvent.channel == neighbor.channel, InboundEvent.address == neighbor.address)
        .values(address=None, payload=None)
    )
    # Messages, conversations and followed reports go with the row (ON DELETE CASCADE).
    await session.execute(delete(Neighbor).where(Neighbor.id == neighbor.id))
    return files
