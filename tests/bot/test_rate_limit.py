"""The database rate limiter: sliding windows, all-or-nothing charges, shared by every worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.rate_limit import Charge, Limit, RateLimited, RateLimiter
from db.engine import create_engine, create_sessionmaker
from db.models import RateCount

PER_MINUTE = Limit("test.minute", 3, 60)
PER_MINUTE_WIDE = Limit("test.wide", 1000, 60)
START = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)  # the start of a minute window


class Clock:
    """Now, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock(START + timedelta(seconds=50))


@pytest.fixture
async def other_worker(
    database_url: str, sessions: object
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions of a second engine on the same database, as another worker process has."""
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[RateCount]:
    async with sessions() as session:
        return list((await session.execute(select(RateCount).order_by(RateCount.window_start))).scalars())


async def admitted(limiter: RateLimiter, *charges: Charge) -> bool:
    try:
        await limiter.charge(charges)
    except RateLimited:
        return False
    return True


async def test_a_limit_admits_its_amount_then_says_when_to_come_back(sessions, clock: Clock) -> None:
    limiter = RateLimiter(sessions, clock=clock)
    for _ in range(3):
        await limiter.charge([Charge(PER_MINUTE, "token-a")])
    with pytest.raises(RateLimited) as refused:
        await limiter.charge([Charge(PER_MINUTE, "token-a")])
    # 3 spent at second 50 of a window: a fourth fits once the next window's share of them fades
    # to 2, at 1/3 of it: 10 + 20 = 30 s from now.
    assert refused.value.retry_after == 30
    assert await admitted(limiter, Charge(PER_MINUTE, "token-b"))  # someone else is not held back
    assert sorted(row.spent for row in await rows(sessions)) == [1, 3]  # the refusal spent nothing

    clock.advance(29)
    assert not await admitted(limiter, Charge(PER_MINUTE, "token-a"))
    clock.advance(1)
    assert await admitted(limiter, Charge(PER_MINUTE, "token-a"))


async def test_no_double_burst_at_a_window_edge(sessions, clock: Clock) -> None:
    limiter = RateLimiter(sessions, clock=clock)
    for _ in range(3):
        await limiter.charge([Charge(PER_MINUTE, "token")])
    clock.advance(11)  # one second into the next fixed window: a fixed window would admit 3 more
    assert not await admitted(limiter, Charge(PER_MINUTE, "token"))


async def test_a_request_is_charged_to_all_its_limits_or_to_none(sessions, clock: Clock) -> None:
    limiter = RateLimiter(sessions, clock=clock)
    tight = Limit("test.tight", 1, 60)
    await limiter.charge([Charge(tight, "address")])
    for _ in range(3):
        assert not await admitted(limiter, Charge(PER_MINUTE, "token"), Charge(tight, "address"))
    assert await admitted(limiter, *[Charge(PER_MINUTE, "token")] * 3)  # none of the refused was counted


async def test_a_quota_counts_bytes(sessions, clock: Clock) -> None:
    limiter = RateLimiter(sessions, clock=clock)
    quota = Limit("test.bytes", 30_000_000, 86_400)
    assert await admitted(limiter, Charge(quota, "token", 10_000_000), Charge(quota, "token", 20_000_000))
    assert not await admitted(limiter, Charge(quota, "token", 1))


async def test_then_is_charged_on_the_first_charge_of_a_window_only(sessions, clock: Clock) -> None:
    limiter = RateLimiter(sessions, clock=clock)
    new_tokens = Limit("test.new-tokens", 2, 3600)
    hourly = Limit("test.hourly", 100, 3600)

    def message(token: str) -> Charge:
        return Charge(hourly, token, then=Charge(new_tokens, "address"))

    for _ in range(5):  # one token, many messages: one new token
        await limiter.charge([message("token-1")])
    await limiter.charge([message("token-2")])
    with pytest.raises(RateLimited) as refused:
        await limiter.charge([message("token-3")])
    assert refused.value.limit == new_tokens
    await limiter.charge([message("token-1")])  # known tokens go on


async def test_keys_name_the_limit_never_who_is_limited(sessions, clock: Clock) -> None:
    await RateLimiter(sessions, secret="s" * 40, clock=clock).charge([Charge(PER_MINUTE, "203.0.113.7")])
    (row,) = await rows(sessions)
    assert row.key.startswith("test.minute:") and "203.0.113.7" not in row.key


async def test_old_windows_are_deleted(sessions, clock: Clock) -> None:
    limiter = RateLimiter(sessions, clock=clock)
    await limiter.charge([Charge(PER_MINUTE, "token")])
    clock.advance(60)
    await limiter.charge([Charge(PER_MINUTE, "token")])
    assert len(await rows(sessions)) == 2  # the previous window still counts
    clock.advance(60)  # the first window is two windows old: nothing looks at it
    await limiter.charge([Charge(PER_MINUTE, "other")])
    assert [row.window_start for row in await rows(sessions)] == [
        int((START + timedelta(seconds=60)).timestamp()),
        int((START + timedelta(seconds=120)).timestamp()),
    ]


async def test_two_workers_share_the_count(sessions, other_worker, clock: Clock) -> None:
    one, two = RateLimiter(sessions, clock=clock), RateLimiter(other_worker, clock=clock)
    await one.charge([Charge(PER_MINUTE, "token")])
    await two.charge([Charge(PER_MINUTE, "token")])
    await one.charge([Charge(PER_MINUTE, "token")])
    assert not await admitted(two, Charge(PER_MINUTE, "token"))


async def test_concurrent_charges_never_go_over(sessions, other_worker, clock: Clock) -> None:
    limit = Limit("test.concurrent", 10, 60)
    one, two = RateLimiter(sessions, clock=clock), RateLimiter(other_worker, clock=clock)
    # Two keys each, given in both orders: no deadlock, and exactly the limit is admitted.
    results = await asyncio.gather(
        *(
            admitted(limiter, Charge(limit, "token"), Charge(PER_MINUTE_WIDE, "address"))
            for limiter in (one, two)
            for _ in range(10)
        ),
        *(
            admitted(limiter, Charge(PER_MINUTE_WIDE, "address"), Charge(limit, "token"))
            for limiter in (one, two)
            for _ in range(5)
        ),
    )
    assert sum(results) == 10
    async with sessions() as session:
        assert (
            await session.scalar(select(func.max(RateCount.spent)).where(RateCount.key.like("test.conc%")))
            == 10
        )
