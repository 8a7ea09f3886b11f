"""Rate limits and quotas counted in the database, so that every worker shares them.

A sliding-window counter (as the `limits` package's and Cloudflare's): a key's use is what
it spent in the current fixed window plus the previous window's share that still overlaps
the last `period` seconds. It needs two small rows per key, allows no double burst at a
window's edge, and costs one upsert and one read per limit. A request is charged to all its
limits in one transaction, or to none: if one is over, nothing is counted (a refused retry
spends nothing) and `RateLimited` says when to come back. Windows are deleted once no
limit looks at them.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.rate_limits import forget_expired, spend, spent_in

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
SWEEP_EVERY = timedelta(minutes=1)
_ROUNDING = 1e-9  # the previous window's share is a float: 2.0000000000000004 is 2

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `amount` (requests, or bytes for a quota) in any `period` seconds."""

    name: str
    amount: int
    period: int


@dataclass(frozen=True, slots=True)
class Charge:
    """`cost` charged to `limit` for `who` (a token, an address).

    `then` is charged too when this is `who`'s first charge of the current window (e.g. a
    token's first message of the hour counts as a new token for its address).
    """

    limit: Limit
    who: str
    cost: int = 1
    then: Charge | None = None


class RateLimited(Exception):
    """A limit is reached; nothing was charged. Come back in `retry_after` seconds."""

    def __init__(self, limit: Limit, retry_after: int) -> None:
        super().__init__(f"{limit.name}: over {limit.amount} per {limit.period} s; retry in {retry_after} s")
        self.limit = limit
        self.retry_after = retry_after


class RateLimiter:
    """Charges requests to limits kept in the database.

    Args:
        sessions: the app's sessions.
        secret: keys are an HMAC of who is limited with it, so no plain address or token
            is stored; every worker must use the same one (SECRET_KEY).
        clock: now, in UTC (tests move it).
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, secret: str = "", clock: Clock | None = None
    ) -> None:
        self._sessions = sessions
        self._secret = secret.encode()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._swept_at: datetime | None = None

    async def charge(self, charges: Sequence[Charge]) -> None:
        """Charge all of `charges`, or none and raise `RateLimited` (the longest wait)."""
        now = self._clock()
        await self._sweep(now)
        refusals: list[RateLimited] = []
        async with self._sessions.begin() as session:
            # One order of keys for every request: two transactions never wait for each other in a ring.
            pending = sorted(charges, key=self._key)
            while pending:
                charge = pending.pop(0)
                spent, refusal = await self._charge_one(session, charge, now)
                if refusal is not None:
                    refusals.append(refusal)
                if charge.then is not None and spent == charge.cost:  # the window's first charge
                    pending.append(charge.then)
            if refusals:
                raise max(refusals, key=lambda refusal: refusal.retry_after)  # rolls back every charge

    async def _charge_one(
        self, session: AsyncSession, charge: Charge, now: datetime
    ) -> tuple[int, RateLimited | None]:
        limit, key, seconds = charge.limit, self._key(charge), now.timestamp()
        start = int(seconds // limit.period) * limit.period
        expires_at = datetime.fromtimestamp(start + 2 * limit.period, UTC)
        total = await spend(session, key=key, window_start=start, amount=charge.cost, expires_at=expires_at)
        previous = await spent_in(session, key=key, window_start=start - limit.period)
        elapsed = (seconds - start) / limit.period
        if previous * (1 - elapsed) + total <= limit.amount + _ROUNDING:
            return total, None
        wait = _wait(limit, charge.cost, before=total - charge.cost, previous=previous, elapsed=elapsed)
        return total, RateLimited(limit, max(1, math.ceil(wait)))

    def _key(self, charge: Charge) -> str:
        digest = hmac.new(self._secret, charge.who.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{charge.limit.name}:{digest}"

    async def _sweep(self, now: datetime) -> None:
        """Delete expired windows, at most once a minute per worker."""
        if self._swept_at is not None and now - self._swept_at < SWEEP_EVERY:
            return
        self._swept_at = now
        async with self._sessions.begin() as session:
            await forget_expired(session, now=now)


def _wait(limit: Limit, cost: int, *, before: int, previous: int, elapsed: float) -> float:
    """Seconds until `cost` more fits, if nothing else is spent meanwhile."""
    if cost > limit.amount:
        return limit.period  # it never fits; a window is a fair "later"
    if before + cost <= limit.amount:  # the previous window's share has to fade enough
        fraction = 1 - (limit.amount - before - cost) / previous
        return (fraction - elapsed) * limit.period
    # The next window, where this window becomes the one that fades.
    fraction = 1 - (limit.amount - cost) / before
    return (1 - elapsed + fraction) * limit.period
