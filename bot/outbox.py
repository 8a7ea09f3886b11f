"""The outbox dispatcher: sends queued messages through their channel, with retries.

A batch is claimed in one short transaction, sent concurrently with no transaction open,
and marked in another. A crash loses nothing: a claim whose lease ran out is claimed
again. A database gone between a send and its mark resends nothing: the dispatcher keeps
what it sent and marks it first when the database is back. Only a crash of the process in
that window resends the batch's messages once more: the platforms take no idempotency key,
so delivery is at least once, and the window is the few milliseconds of one batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Channel, SendError
from bot.metrics import Metrics
from db.models import OutboxMessage
from db.outbox import (
    claim_due,
    mark_failed,
    mark_retry,
    mark_sent,
    mark_unreachable,
    mark_waiting,
)
from handlers.events import Reply

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SEND_TIMEOUT_S = 20
# A claimed message whose worker died is claimed again after this; it outlasts any send.
LEASE = timedelta(seconds=SEND_TIMEOUT_S + 10)
BATCH = 50
IDLE_POLL_S = 1.0  # how often an idle dispatcher looks for work queued by other processes or retries
MAX_BACKOFF_S = 600


def backoff(attempts: int) -> float:
    """Seconds before attempt `attempts` + 1: exponential with jitter, capped."""
    return min(MAX_BACKOFF_S, 2**attempts) * random.uniform(0.8, 1.2)


class OutboxDispatcher:
    """Runs until cancelled; setting `ready` after queueing makes it send at once.

    While there is work, each batch costs one transaction after its sends: the batch's
    marks and the claim of the next batch go together.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        metrics: Metrics,
        ready: asyncio.Event,
    ) -> None:
        self._sessions = sessions
        self._channels = channels
        self._metrics = metrics
        self._ready = ready
        self._soonest_retry: datetime | None = None  # the earliest retry this dispatcher set
        # Sent, but the database was gone before the mark: marked first when it is back, and
        # never sent again by this process (a restart of `run` keeps them; a crash does not).
        self._unmarked: dict[int, str | None] = {}

    async def run(self) -> None:
        """Send until cancelled; an error ends it, and the app's supervisor starts it again.

        What was claimed and not sent is claimed again when its lease runs out; what was sent
        and not marked is marked first thing.
        """
        claimed: Sequence[OutboxMessage] = []
        while True:
            claimed = await self._cycle(claimed)
            if claimed:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout=self._idle_seconds())

    def _idle_seconds(self) -> float:
        """Until the next look: a retry this dispatcher set, or a poll for other workers' work."""
        if self._soonest_retry is None:
            return IDLE_POLL_S
        wait = (self._soonest_retry - datetime.now(UTC)).total_seconds()
        if wait <= IDLE_POLL_S:
            self._soonest_retry = None  # the next claim takes it
        return min(IDLE_POLL_S, max(0.0, wait))

    async def dispatch_once(self) -> int:
        """Claim due messages, send them, and mark the batch; how many were handled."""
        async with self._sessions.begin() as session:
            claimed = await claim_due(session, now=datetime.now(UTC), limit=BATCH, lease=LEASE)
        if claimed:
            await self._cycle(claimed, claim_next=False)
        return len(claimed)

    async def _cycle(
        self, claimed: Sequence[OutboxMessage], *, claim_next: bool = True
    ) -> Sequence[OutboxMessage]:
        """Send `claimed`; then, in one transaction, mark them and claim the next batch."""
        unsent = [row for row in claimed if row.id not in self._unmarked]
        outcomes = {row.id: self._unmarked[row.id] for row in claimed if row.id in self._unmarked}
        outcomes |= await self._send_all(unsent)
        self._unmarked |= {i: sent for i, sent in outcomes.items() if not isinstance(sent, SendError)}
        self._ready.clear()  # before the claim: whatever is queued after it sets `ready` again
        async with self._sessions.begin() as session:
            await mark_sent(session, self._unmarked, now=datetime.now(UTC))
            for row in claimed:
                if isinstance(error := outcomes[row.id], SendError):
                    await self._failed(session, row, error)
            following = (
                await claim_due(session, now=datetime.now(UTC), limit=BATCH, lease=LEASE)
                if claim_next
                else []
            )
        self._unmarked.clear()
        for row in claimed:
            if not isinstance(outcomes[row.id], SendError):
                self._metrics.outbox_sent.labels(channel=row.channel).inc()
                self._channels[row.channel].sent(row.address)
        return following

    async def _send_all(self, rows: Sequence[OutboxMessage]) -> dict[int, str | SendError | None]:
        """Each neighbor's messages one after the other, in order; neighbors in parallel."""
        conversations: dict[tuple[str, str], list[OutboxMessage]] = defaultdict(list)
        for row in rows:
            conversations[(row.channel, row.address)].append(row)
        outcomes: dict[int, str | SendError | None] = {}
        for part in await asyncio.gather(*(self._send_in_order(group) for group in conversations.values())):
            outcomes.update(part)
        return outcomes

    async def _send_in_order(self, rows: list[OutboxMessage]) -> dict[int, str | SendError | None]:
        """Send one neighbor's messages in order; after a failure the rest wait their turn."""
        outcomes: dict[int, str | SendError | None] = {}
        for index, row in enumerate(rows):
            outcome = outcomes[row.id] = await self._send(row)
            if isinstance(outcome, SendError):
                if outcome.retry_after is None:  # decided now, so that the later ones wait as long
                    outcome.retry_after = backoff(row.attempts)
                for later in rows[index + 1 :]:
                    outcomes[later.id] = (
                        outcome
                        if outcome.unreachable or outcome.waiting
                        else SendError("waiting for an earlier message", retry_after=outcome.retry_after)
                    )
                break
        return outcomes

    async def _send(self, row: OutboxMessage) -> str | SendError | None:
        """The platform's message id, or the error: the batch is marked as a whole."""
        channel = self._channels.get(row.channel)
        if channel is None:
            return SendError(f"channel {row.channel} is not configured", permanent=True)
        try:
            reply = Reply.from_payload(row.payload)
            return await asyncio.wait_for(channel.send(row.address, reply, outbox_id=row.id), SEND_TIMEOUT_S)
        except SendError as exc:
            return exc
        except Exception as exc:
            log.exception("outbox: unexpected error sending message %s", row.id)
            return SendError(repr(exc))

    async def _failed(self, session: AsyncSession, row: OutboxMessage, error: SendError) -> None:
        if error.waiting:
            await mark_waiting(session, row.id, reason=str(error))
            return
        if error.unreachable:
            await mark_unreachable(session, channel=row.channel, address=row.address, error=str(error))
        if error.permanent or row.attempts >= MAX_ATTEMPTS:
            await mark_failed(session, row.id, error=str(error))
            self._metrics.outbox_failed.labels(channel=row.channel).inc()
            log.warning("outbox: message %s failed for good: %s", row.id, error)
        else:
            delay = error.retry_after if error.retry_after is not None else backoff(row.attempts)
            at = datetime.now(UTC) + timedelta(seconds=delay)
            await mark_retry(session, row.id, error=str(error), at=at)
            self._soonest_retry = min(self._soonest_retry or at, at)
