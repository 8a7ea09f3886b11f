"""Console sessions kept in the database: started at sign-in, ended at sign-out or by a change.

The cookie carries a random token; only its SHA-256 is stored, so a copy of the table
opens no session. A session counts while its row exists and has not expired.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ConsoleSession, Officer


async def start_session(
    session: AsyncSession, *, token_hash: str, officer_id: int, now: datetime, lasts: timedelta
) -> None:
    """A new session of the officer, for `lasts` from now; expired ones of anyone are dropped."""
    await session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))
    session.add(
        ConsoleSession(token_hash=token_hash, officer_id=officer_id, created_at=now, expires_at=now + lasts)
    )


async def session_officer(session: AsyncSession, *, token_hash: str, now: datetime) -> Officer | None:
    """The officer of this unexpired session, active or not (the caller decides)."""
    query = (
        select(Officer)
        .join(ConsoleSession, ConsoleSession.officer_id == Officer.id)
        .where(ConsoleSession.token_hash == token_hash, ConsoleSession.expires_at > now)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def end_session(session: AsyncSession, *, token_hash: str) -> None:
    await session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == token_hash))


async def end_officer_sessions(session: AsyncSession, *, officer_id: int, keep: str | None = None) -> None:
    """End every session of the officer but `keep` (the one that changed the password)."""
    query = delete(ConsoleSession).where(ConsoleSession.officer_id == officer_id)
    if keep is not None:
        query = query.where(ConsoleSession.token_hash != keep)
    await session.execute(query)
