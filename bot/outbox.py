"""The outbox dispatcher: sends queued messages through their channel, with retries.

Each message is marked before its call and after it. The claim (status "sending", with a
short lease kept alive while the call lasts) commits before any call; the mark "sent"
commits as soon as the call returns, sharing one transaction with whatever else finished
meanwhile (group commit). So a crash of the process re-sends only the messages whose
call was under way or whose mark had not committed yet: the platforms take no
idempotency key, delivery is at least once, and that window is a few milliseconds per
message. A database gone between a send and its mark resends nothing: the outcome waits
in memory and is marked first when the database is back. A claim whose worker died is
claimed again once its lease runs out, within seconds.

Each neighbor's messages go one after the other, in order (a "lane" per neighbor);
neighbors are served in parallel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Channel, SendError
from bot.metrics import Metrics
from db.models import OutboxMessage
from db.outbox import (
    claim_due,
    forget_sent,
    mark_failed,
    mark_retry,
    mark_sent,
    mark_unreachable,
    mark_waiting,
    renew_leases,
    unreachable_neighbors,
)
from handlers.events import Reply

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SEND_TIMEOUT_S = 20
# A claim is renewed while its call lasts, so a short lease only matters when its worker
# died: what it held is claimed again this soon.
LEASE = timedelta(seconds=5)
IN_FLIGHT = 50  # messages claimed and not yet marked, at most, per worker
IDLE_POLL_S = 1.0  # how often an idle dispatcher looks for work queued by other processes or retries
MAX_BACKOFF_S = 600
MARK_ON_EXIT_S = 5  # how long a stopping dispatcher may take to finish its calls, and to mark them

Outcome = str | SendError | None  # the platform's message id (None if it gives none), or the error
Lane = tuple[str, str]  # (channel, address): one neighbor


def backoff(attempts: int) -> float:
    """Seconds before attempt `attempts` + 1: exponential with jitter, capped."""
    return min(MAX_BACKOFF_S, 2**attempts) * random.uniform(0.8, 1.2)


class OutboxDispatcher:
    """Runs until cancelled; setting `ready` after queueing makes it send at once.

    Each turn of `run` is one transaction: the marks of the sends that finished, the
    renewal of leases running out, and the claim of more work. Sends finishing while it
    commits share the next one.
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
        self._lanes: dict[Lane, deque[OutboxMessage]] = {}
        self._senders: set[asyncio.Task[None]] = set()
        self._stopping = False  # set on shutdown: no lane starts another call
        # Claimed and not yet marked: id -> when its lease ends.
        self._leases: dict[int, datetime] = {}
        # When a failed message and its neighbor's later ones are tried again: one moment for all.
        self._retry_at: dict[int, datetime] = {}
        # Finished, to be marked. It outlives a restart of `run` (the database was gone), not a crash.
        self._outcomes: dict[int, tuple[OutboxMessage, Outcome]] = {}

    async def run(self) -> None:
        """Send until cancelled; an error ends it, and the app's supervisor starts it again.

        Sends under way go on meanwhile; their outcomes are marked once it is back.
        """
        try:
            while True:
                await self._settle()
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
                # that comes as the event is set, and the dispatcher would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._idle_seconds()):
                        await self._ready.wait()
        except asyncio.CancelledError:
            await self._stop_senders()
            await self._mark_before_leaving()
            raise

    async def dispatch_once(self) -> int:
        """Claim due messages, send them, and mark them; how many were claimed."""
        claimed = await self._settle()
        while self._senders:
            await asyncio.wait(set(self._senders))
        await self._settle(claim=False)
        return claimed

    def _idle_seconds(self) -> float:
        """Until the next look: a retry this dispatcher set, or a poll for other workers' work.

        While messages are in flight it is never longer than a third of the lease, which the
        next turn renews.
        """
        longest = min(IDLE_POLL_S, LEASE.total_seconds() / 3) if self._leases else IDLE_POLL_S
        if self._soonest_retry is None:
            return longest
        wait = (self._soonest_retry - datetime.now(UTC)).total_seconds()
        if wait <= longest:
            self._soonest_retry = None  # the next claim takes it
        return min(longest, max(0.0, wait))

    async def _settle(self, *, claim: bool = True) -> int:
        """One transaction: mark what finished, renew leases running out, claim more."""
        outcomes = dict(self._outcomes)
        now = datetime.now(UTC)
        expiring = [
            outbox_id
            for outbox_id, until in self._leases.items()
            if outbox_id not in outcomes and until - now < LEASE / 2
        ]
        room = IN_FLIGHT - len(self._leases) if claim else 0
        if not outcomes and not expiring and room <= 0:
            return 0  # all hands busy, nothing to mark
        self._ready.clear()  # before the claim: whatever is queued after it sets `ready` again
        async with self._sessions.begin() as session:
            await self._mark(session, outcomes)
            if expiring:
                await renew_leases(session, expiring, until=now + LEASE)
            claimed = await claim_due(session, now=now, limit=room, lease=LEASE) if room > 0 else []
            blocked = await unreachable_neighbors(session, {r.neighbor_id for r in claimed} - {None})
        for outbox_id in outcomes:
            del self._outcomes[outbox_id]
            self._leases.pop(outbox_id, None)
        self._leases |= dict.fromkeys(expiring, now + LEASE)
        for row, outcome in outcomes.values():
            if not isinstance(outcome, SendError):
                self._metrics.outbox_sent.labels(channel=row.channel).inc()
                self._channels[row.channel].sent(row.address)
        for row in claimed:
            if row.id in self._leases:  # still in flight here: its lease ran out while the database was gone
                continue
            self._leases[row.id] = now + LEASE
            if row.neighbor_id in blocked:
                self._finish(row, SendError("the neighbor blocked the line", unreachable=True))
            else:
                self._queue(row)
        return len(claimed)

    async def _mark(self, session: AsyncSession, outcomes: dict[int, tuple[OutboxMessage, Outcome]]) -> None:
        sent = {i: outcome for i, (_, outcome) in outcomes.items() if not isinstance(outcome, SendError)}
        await mark_sent(session, sent, now=datetime.now(UTC))
        if erased := [i for i in sent if outcomes[i][0].payload.get("kind") == "erased"]:
            await forget_sent(session, erased)
        for row, outcome in outcomes.values():
            if isinstance(outcome, SendError):
                await self._failed(session, row, outcome)

    def _queue(self, row: OutboxMessage) -> None:
        """Into its neighbor's lane, behind their earlier messages; a lane has one sender."""
        lane = (row.channel, row.address)
        if lane in self._lanes:
            self._lanes[lane].append(row)
            return
        self._lanes[lane] = deque([row])
        task = asyncio.create_task(self._send_lane(lane), name=f"outbox-lane-{row.id}")
        self._senders.add(task)
        task.add_done_callback(self._senders.discard)

    async def _send_lane(self, lane: Lane) -> None:
        """One neighbor's messages in order; after a failure the rest wait their turn."""
        rows = self._lanes[lane]
        try:
            while rows and not self._stopping:
                row = rows.popleft()
                outcome = await self._send(row)
                if isinstance(outcome, SendError):
                    if outcome.retry_after is None:
                        outcome.retry_after = backoff(row.attempts)
                    # One moment for the whole lane: the later messages come due with this one,
                    # in the same claim, and go after it.
                    at = datetime.now(UTC) + timedelta(seconds=outcome.retry_after)
                    later = (
                        outcome
                        if outcome.unreachable or outcome.waiting
                        else SendError("waiting for an earlier message", retry_after=outcome.retry_after)
                    )
                    for failed, error in [(row, outcome), *((rest, later) for rest in rows)]:
                        self._retry_at[failed.id] = at
                        self._finish(failed, error)
                    rows.clear()
                else:
                    self._finish(row, outcome)
        finally:
            del self._lanes[lane]

    def _finish(self, row: OutboxMessage, outcome: Outcome) -> None:
        self._outcomes[row.id] = (row, outcome)
        self._ready.set()  # the next turn marks it

    async def _send(self, row: OutboxMessage) -> Outcome:
        """The platform's message id, or the error."""
        channel = self._channels.get(row.channel)
        if channel is None:
            return SendError(f"channel {row.channel} is not configured", permanent=True)
        try:
            reply = Reply.from_payload(row.payload)
            return await asyncio.wait_for(channel.send(row.address, reply, outbox_id=row.id), SEND_TIMEOUT_S)
        except SendError as exc:
            return exc
        except TimeoutError:
            return SendError(f"no answer from {row.channel} in {SEND_TIMEOUT_S} s")
        except Exception as exc:
            log.exception("outbox: unexpected error sending message %s", row.id)
            return SendError(repr(exc))

    async def _stop_senders(self) -> None:
        """On shutdown: the calls under way may finish, and no new one starts.

        A cancelled call could be sent and never marked; what is not sent is claimed again
        when its lease runs out.
        """
        self._stopping = True
        if self._senders:
            await asyncio.wait(set(self._senders), timeout=MARK_ON_EXIT_S)
        for task in self._senders:
            task.cancel()
        await asyncio.gather(*self._senders, return_exceptions=True)

    async def _mark_before_leaving(self) -> None:
        """What was sent is marked before the process stops, or the next one would send it again."""
        if not self._outcomes:
            return
        try:
            async with asyncio.timeout(MARK_ON_EXIT_S):
                await self._settle(claim=False)
        except Exception:
            log.warning("outbox: %d sent messages could not be marked on the way out", len(self._outcomes))

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
            at = self._retry_at.pop(row.id, None) or datetime.now(UTC) + timedelta(
                seconds=error.retry_after if error.retry_after is not None else backoff(row.attempts)
            )
            await mark_retry(session, row.id, error=str(error), at=at)
            self._soonest_retry = min(self._soonest_retry or at, at)
