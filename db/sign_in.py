"""Failed console sign-ins, kept in the database so that every worker counts them all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SignInFailure


async def failures_since(session: AsyncSession, keys: Sequence[str], since: datetime) -> dict[str, int]:
    """How many sign-ins failed for each key since `since`."""
    query = (
        select(SignInFailure.key, func.count())
        .where(SignInFailure.key.in_(keys), SignInFailure.failed_at >= since)
        .group_by(SignInFailure.key)
    )
    counts = dict.fromkeys(keys, 0)
    counts.update({key: count for key, count in await session.execute(query)})
    return counts


async def record_failure(
    session: AsyncSession, keys: Sequence[str], *, now: datetime, forget_after: timedelta
) -> None:
    """Count a failure under each key; failures older than `forget_after` are dropped."""
    await session.execute(delete(SignInFailure).where(SignInFailure.failed_at < now - forget_after))
    session.add_all(SignInFailure(key=key, failed_at=now) for key in keys)


async def forget_failures(session: AsyncSession, key: str) -> None:
    await session.execute(delete(SignInFailure).where(SignInFailure.key == key))
