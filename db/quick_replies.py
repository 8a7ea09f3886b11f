"""An office's quick replies, kept by its admin and picked by its officers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import QuickReply


async def office_quick_replies(session: AsyncSession, office_id: str) -> Sequence[QuickReply]:
    query = select(QuickReply).where(QuickReply.office_id == office_id).order_by(QuickReply.title)
    return (await session.execute(query)).scalars().all()


def add_quick_reply(session: AsyncSession, *, office_id: str, title: str, text: str, now: datetime) -> None:
    session.add(QuickReply(office_id=office_id, title=title, text=text, created_at=now))


async def delete_quick_reply(session: AsyncSession, *, office_id: str, quick_reply_id: int) -> bool:
    """Delete one of the office's quick replies; False when the office has none with that id."""
    quick_reply = await session.get(QuickReply, quick_reply_id)
    if quick_reply is None or quick_reply.office_id != office_id:
        return False
    await session.delete(quick_reply)
    return True
