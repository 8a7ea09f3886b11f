"""A neighbor writing through the real inbound pipeline, reading back the replies queued.

Dialog tests read like the conversation they test:

    replies = await neighbor.says("vivo en coya")
    assert "Machalí" in replies[0].text
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.inbound import InboundPipeline
from bot.media import MediaStore
from bot.metrics import Metrics
from db.models import Neighbor as NeighborRow
from db.models import OutboxMessage
from handlers.events import InboundMessage, Location, Media, Reply
from handlers.neighbor import Dialog

_ids = itertools.count(1)


class Neighbor:
    """One neighbor on one channel address."""

    def __init__(
        self,
        pipeline: InboundPipeline,
        sessions: async_sessionmaker[AsyncSession],
        address: str,
        *,
        channel: str = "test",
        clock: datetime,
        contact_shareable: bool = False,
    ) -> None:
        self.pipeline = pipeline
        self.sessions = sessions
        self.address = address
        self.channel = channel
        self.clock = clock
        self.contact_shareable = contact_shareable
        self._seen_outbox_id = 0

    async def says(
        self,
        text: str = "",
        *,
        option: str | None = None,
        location: tuple[float, float] | None = None,
        photo: str | None = None,
    ) -> list[Reply]:
        """Send a message; the replies it produced, in order."""
        self.clock += timedelta(seconds=30)
        message = InboundMessage(
            channel=self.channel,
            address=self.address,
            platform_id=f"{self.address}:{next(_ids)}",
            received_at=self.clock,
            text=text,
            option=option,
            location=Location(*location) if location else None,
            media=(Media("photo", photo, "image/jpeg"),) if photo else (),
            contact_shareable=self.contact_shareable,
        )
        await self.pipeline.receive(message)
        return await self.replies()

    async def row(self) -> NeighborRow:
        """The neighbor's database row, as it is now."""
        async with self.sessions() as session:
            query = select(NeighborRow).where(
                NeighborRow.channel == self.channel, NeighborRow.address == self.address
            )
            return (await session.execute(query)).scalar_one()

    async def replies(self) -> list[Reply]:
        """The replies queued for this neighbor since the last look."""
        async with self.sessions() as session:
            rows = (
                (
                    await session.execute(
                        select(OutboxMessage)
                        .where(OutboxMessage.address == self.address, OutboxMessage.id > self._seen_outbox_id)
                        .order_by(OutboxMessage.id)
                    )
                )
                .scalars()
                .all()
            )
        if rows:
            self._seen_outbox_id = rows[-1].id
        return [Reply.from_payload(row.payload) for row in rows]


def make_pipeline(
    sessions: async_sessionmaker[AsyncSession], dialog: Dialog, media: MediaStore
) -> InboundPipeline:
    return InboundPipeline(sessions, dialog, dialog.texts, media, Metrics(), asyncio.Event())
