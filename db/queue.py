"""The office queue as officers see it: the console's views and their counts.

Every officer and supervisor also sees the region-wide urgent queue (conversations without an
office yet) at the top of their waiting view: nobody in danger waits for a commune.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Conversation, Neighbor

VIEWS = ("waiting", "mine", "open", "closed")
CLOSED_SHOWN = 100


async def queue_view(
    session: AsyncSession, office_ids: Collection[str], view: str, officer_id: int
) -> Sequence[tuple[Conversation, Neighbor]]:
    """A console view: waiting (urgent first, then oldest), mine, all open, or closed (newest)."""
    query = select(Conversation, Neighbor).join(Neighbor, Neighbor.id == Conversation.neighbor_id)
    query = query.where(_seen_in(office_ids))
    if view == "waiting":
        query = query.where(Conversation.status == "waiting").order_by(
            case((Conversation.office_id.is_(None), 0), (Conversation.urgent.is_(True), 1), else_=2),
            Conversation.created_at,
            Conversation.id,
        )
    elif view == "mine":
        query = query.where(Conversation.status == "open", Conversation.assigned_officer_id == officer_id)
        query = query.order_by(Conversation.updated_at.desc())
    elif view == "open":
        query = query.where(Conversation.status == "open").order_by(Conversation.updated_at.desc())
    else:
        query = (
            query.where(Conversation.status == "closed")
            .order_by(Conversation.closed_at.desc())
            .limit(CLOSED_SHOWN)
        )
    return [(conversation, neighbor) for conversation, neighbor in (await session.execute(query)).all()]


async def view_counts(session: AsyncSession, office_ids: Collection[str], officer_id: int) -> dict[str, int]:
    """How many conversations each view holds (closed: all of them)."""
    mine = case((Conversation.assigned_officer_id == officer_id, 1), else_=0)
    query = (
        select(Conversation.status, func.count(), func.sum(mine))
        .where(_seen_in(office_ids))
        .group_by(Conversation.status)
    )
    counts = dict.fromkeys(VIEWS, 0)
    for status, count, assigned in (await session.execute(query)).all():
        counts[status] = count
        if status == "open":
            counts["mine"] = int(assigned or 0)
    return counts


def _seen_in(office_ids: Collection[str]) -> ColumnElement[bool]:
    """The offices' conversations, and the region-wide ones that have no office yet."""
    return or_(Conversation.office_id.in_(office_ids), Conversation.office_id.is_(None))
