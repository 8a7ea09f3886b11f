"""Rate-limit counters, kept in the database so that every worker counts against the same rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RateCount


async def spend(
    session: AsyncSession, *, key: str, window_start: int, amount: int, expires_at: datetime
) -> int:
    """Add `amount` to the key's window in one statement (no lost update); its new total."""
    insert = (postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert)(RateCount)
    statement = (
        insert.values(key=key, window_start=window_start, spent=amount, expires_at=expires_at)
        .on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"spent": RateCount.spent + insert.excluded.spent}
        )
        .returning(RateCount.spent)
    )
    return (await session.execute(statement)).scalar_one()


async def spent_in(session: AsyncSession, *, key: str, window_start: int) -> int:
    """What the key spent in the window that starts at `window_start` (0 if nothing)."""
    query = select(RateCount.spent).where(RateCount.key == key, RateCount.window_start == window_start)
    return await session.scalar(query) or 0


async def forget_expired(session: AsyncSession, *, now: datetime) -> int:
    """Delete the windows no limit looks at any more; how many were deleted."""
    result = await session.execute(delete(RateCount).where(RateCount.expires_at < now))
    return result.rowcount or 0
