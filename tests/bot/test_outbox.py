"""The outbox dispatcher: sends in order, retries with backoff, gives up on permanent errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.metrics import Metrics
from bot.outbox import MAX_ATTEMPTS, OutboxDispatcher, backoff
from db.models import Neighbor, OutboxMessage
from db.outbox import claim_due, enqueue_many, mark_sent, renew_leases
from handlers.events import Option, Reply
from tests.doubles.channel import RecordingChannel


async def queue(sessions, *keys: str, channel: str = "test") -> None:
    async with sessions.begin() as session:
        for key in keys:  # one by one: the order of ids is the order of sending
            reply = Reply(f"texto {key}", (Option("1", "Sí"),))
            row = {
                "dedupe_key": key,
                "channel": channel,
                "address": "+56911112222",
                "payload": reply.to_payload(),
            }
            await enqueue_many(session, [row], now=datetime.now(UTC))


async def rows(sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


def dispatcher_for(sessions, channel: RecordingChannel) -> OutboxDispatcher:
    return OutboxDispatcher(sessions, {channel.name: channel}, Metrics(), asyncio.Event())


async def test_sends_in_order_and_marks_sent(sessions) -> None:
    channel = RecordingChannel()
    await queue(sessions, "a", "b", "c")
    assert await dispatcher_for(sessions, channel).dispatch_once() == 3
    assert [reply.text for _, reply, _ in channel.sends] == ["texto a", "texto b", "texto c"]
    assert channel.sends[0][1].options == (Option("1", "Sí"),)
    assert {(r.status, r.attempts) for r in await rows(sessions)} == {("sent", 1)}
    assert await dispatcher_for(sessions, channel).dispatch_once() == 0  # nothing twice


async def test_a_duplicate_key_is_queued_once(sessions) -> None:
    await queue(sessions, "same", "same")
    assert len(await rows(sessions)) == 1


async def test_temporary_failure_is_retried_after_backoff(sessions) -> None:
    channel = RecordingChannel(fail_next=1, retry_after=30)
    await queue(sessions, "a")
    dispatcher = dispatcher_for(sessions, channel)
    await dispatcher.dispatch_once()
    (row,) = await rows(sessions)
    assert row.status == "pending" and row.last_error == "temporarily unavailable"
    assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=25)  # honours retry_after
    assert await dispatcher.dispatch_once() == 0  # not due yet
    async with sessions.begin() as session:
        await session.execute(update(OutboxMessage).values(next_attempt_at=datetime.now(UTC)))
    await dispatcher.dispatch_once()
    (row,) = await rows(sessions)
    assert (row.status, row.attempts, len(channel.sends)) == ("sent", 2, 1)


async def test_permanent_failure_is_not_retried(sessions) -> None:
    channel = RecordingChannel(permanent=True)
    await queue(sessions, "a")
    await dispatcher_for(sessions, channel).dispatch_once()
    (row,) = await rows(sessions)
    assert (row.status, row.last_error) == ("failed", "blocked by the user")


async def test_gives_up_after_the_last_attempt(sessions) -> None:
    channel = RecordingChannel(fail_next=MAX_ATTEMPTS)
    await queue(sessions, "a")
    dispatcher = dispatcher_for(sessions, channel)
    for _ in range(MAX_ATTEMPTS):
        async with sessions.begin() as session:
            await session.execute(update(OutboxMessage).values(next_attempt_at=datetime.now(UTC)))
        await dispatcher.dispatch_once()
    (row,) = await rows(sessions)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)


async def test_an_unknown_channel_fails_for_good(sessions) -> None:
    await queue(sessions, "a", channel="carrier-pigeon")
    await dispatcher_for(sessions, RecordingChannel()).dispatch_once()
    (row,) = await rows(sessions)
    assert row.status == "failed" and "carrier-pigeon" in row.last_error


async def test_a_claim_whose_worker_died_is_claimed_again_after_its_lease(sessions) -> None:
    await queue(sessions, "a")
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        (claimed,) = await claim_due(session, now=now, limit=10, lease=timedelta(seconds=60))
    async with sessions.begin() as session:  # the worker died: nobody else may take it yet
        assert (
            await claim_due(session, now=now + timedelta(seconds=30), limit=10, lease=timedelta(seconds=60))
            == []
        )
    async with sessions.begin() as session:
        (again,) = await claim_due(
            session, now=now + timedelta(seconds=61), limit=10, lease=timedelta(seconds=60)
        )
    assert again.id == claimed.id and again.attempts == 2


async def test_concurrent_claimers_never_share_a_message(sessions) -> None:
    await queue(sessions, *(f"m{i}" for i in range(40)))

    async def claimer() -> list[int]:
        async with sessions.begin() as session:
            claimed = await claim_due(session, now=datetime.now(UTC), limit=7, lease=timedelta(seconds=60))
        return [row.id for row in claimed]

    batches = await asyncio.gather(*(claimer() for _ in range(8)))
    claimed = [row_id for batch in batches for row_id in batch]
    assert len(claimed) == len(set(claimed)) == 40


async def test_run_sends_as_soon_as_woken(sessions) -> None:
    channel = RecordingChannel()
    ready = asyncio.Event()
    dispatcher = OutboxDispatcher(sessions, {channel.name: channel}, Metrics(), ready)
    task = asyncio.create_task(dispatcher.run())
    try:
        await queue(sessions, "a")
        ready.set()
        await asyncio.wait_for(channel.arrived.wait(), timeout=5)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert channel.sends[0][1].text == "texto a"


@pytest.mark.parametrize("attempts", [1, 3, 8, 20])
def test_backoff_grows_and_is_capped(attempts: int) -> None:
    assert 0 < backoff(attempts) <= 600 * 1.2
    assert backoff(attempts) >= min(600, 2**attempts) * 0.8


async def test_after_a_failure_a_neighbors_later_messages_wait_as_long(sessions) -> None:
    channel = RecordingChannel(fail_next=1)
    await queue(sessions, "first", "second")
    await dispatcher_for(sessions, channel).dispatch_once()
    first, second = await rows(sessions)
    assert channel.sends == []  # the second was not sent ahead of the first
    assert (first.status, second.status) == ("pending", "pending")
    assert second.next_attempt_at >= first.next_attempt_at
    assert second.last_error == "waiting for an earlier message"


async def test_a_delivery_report_before_the_mark_is_not_undone(sessions) -> None:
    await queue(sessions, "a")
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        (row,) = await claim_due(session, now=now, limit=10, lease=timedelta(seconds=60))
    async with sessions.begin() as session:  # the platform reported delivery first
        await session.execute(update(OutboxMessage).values(status="delivered", platform_message_id="SM1"))
    async with sessions.begin() as session:
        await mark_sent(session, {row.id: "SM1"}, now=now)
    (row,) = await rows(sessions)
    assert row.status == "delivered"


class GatedChannel(RecordingChannel):
    """Answers at once, except for the addresses in `held`, whose sends hang until released.

    `marked[address]` is set when the dispatcher reports a send to it marked in the database.
    """

    def __init__(self, held: set[str]) -> None:
        super().__init__()
        self.held = held
        self.release = asyncio.Event()
        self.hanging = asyncio.Event()
        self.marked: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def send(self, address: str, reply: Reply, *, outbox_id: int) -> str:
        if address in self.held:
            self.hanging.set()
            await self.release.wait()
        return await super().send(address, reply, outbox_id=outbox_id)

    def sent(self, address: str) -> None:
        self.marked[address].set()


async def queue_to(sessions, address: str, key: str, neighbor_id: int | None = None) -> None:
    async with sessions.begin() as session:
        row = {"dedupe_key": key, "channel": "test", "address": address, "payload": Reply(key).to_payload()}
        await enqueue_many(session, [{**row, "neighbor_id": neighbor_id}], now=datetime.now(UTC))


async def status_of(sessions, key: str) -> str:
    async with sessions() as session:
        query = select(OutboxMessage.status).where(OutboxMessage.dedupe_key == key)
        return (await session.execute(query)).scalar_one()


@contextlib.asynccontextmanager
async def running(dispatcher: OutboxDispatcher):
    task = asyncio.create_task(dispatcher.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_each_message_is_marked_sent_as_soon_as_its_call_returns(sessions) -> None:
    """A slow neighbor does not hold the others' marks: a crash now would resend only the slow one."""
    slow, quick = "+56900000001", "+56900000002"
    channel = GatedChannel(held={slow})
    await queue_to(sessions, slow, "slow")
    await queue_to(sessions, quick, "quick")
    async with running(OutboxDispatcher(sessions, {"test": channel}, Metrics(), asyncio.Event())):
        await asyncio.wait_for(channel.marked[quick].wait(), timeout=10)
        assert await status_of(sessions, "quick") == "sent"
        assert await status_of(sessions, "slow") == "sending"
        channel.release.set()
        await asyncio.wait_for(channel.marked[slow].wait(), timeout=10)
    assert await status_of(sessions, "slow") == "sent"
    assert sorted(reply.text for _, reply, _ in channel.sends) == ["quick", "slow"]


async def test_a_send_outlasting_the_lease_keeps_its_claim(sessions, monkeypatch) -> None:
    lease = timedelta(milliseconds=300)
    monkeypatch.setattr("bot.outbox.LEASE", lease)
    renewals: list[datetime] = []
    renewed_twice = asyncio.Event()

    async def renew(session, outbox_ids, *, until: datetime) -> None:
        await renew_leases(session, outbox_ids, until=until)
        renewals.append(until)
        if len(renewals) == 2:
            renewed_twice.set()

    monkeypatch.setattr("bot.outbox.renew_leases", renew)
    channel = GatedChannel(held={"+56900000001"})
    await queue_to(sessions, "+56900000001", "slow")
    async with running(OutboxDispatcher(sessions, {"test": channel}, Metrics(), asyncio.Event())):
        await asyncio.wait_for(renewed_twice.wait(), timeout=10)
        async with sessions.begin() as session:  # past the first lease, another worker finds nothing
            later = datetime.now(UTC) + lease / 2
            assert await claim_due(session, now=later, limit=10, lease=timedelta(seconds=5)) == []
        channel.release.set()
        await asyncio.wait_for(channel.marked["+56900000001"].wait(), timeout=10)
    assert len(channel.sends) == 1


async def test_a_neighbor_who_blocked_the_line_is_sent_nothing(sessions) -> None:
    async with sessions.begin() as session:
        neighbor = Neighbor(
            channel="test",
            address="+56900000003",
            step="start",
            unreachable=True,
            created_at=datetime.now(UTC),
        )
        session.add(neighbor)
    await queue_to(sessions, "+56900000003", "officer-reply", neighbor_id=neighbor.id)
    channel = RecordingChannel()
    await dispatcher_for(sessions, channel).dispatch_once()
    assert channel.sends == []
    assert await status_of(sessions, "officer-reply") == "failed"
