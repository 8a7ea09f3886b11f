"""A channel that records what it is asked to send, and fails when told to."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.channels.base import Channel, SendError
from handlers.events import Reply


@dataclass
class RecordingChannel(Channel):
    """Records every send; `fail_next` temporary failures, or `permanent` ones, on demand."""

    name: str = "test"
    sends: list[tuple[str, Reply, int]] = field(default_factory=list)
    fail_next: int = 0
    permanent: bool = False
    retry_after: float | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set at every send

    async def send(self, address: str, reply: Reply, *, outbox_id: int) -> str:
        if self.permanent:
            raise SendError("blocked by the user", permanent=True)
        if self.fail_next:
            self.fail_next -= 1
            raise SendError("temporarily unavailable", retry_after=self.retry_after)
        self.sends.append((address, reply, outbox_id))
        self.arrived.set()
        return f"{self.name}-{outbox_id}"
