"""The outbox: every outbound message, claimed by the dispatcher with a lease.

Claiming is one atomic UPDATE … RETURNING, correct on SQLite (whose write lock serialises
claimers) and on PostgreSQL (where FOR UPDATE SKIP LOCKED lets several workers share the
queue). A row whose lease ran out (its worker died) is claimed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import is_postgresql
from db.models import Neighbor, OutboxMessage
from db.upsert import insert_ignoring_conflict

DELIVERED = ("sent", "delivered", "read")


async def enqueue_many(session: AsyncSession, rows: list[dict[str, Any]], *, now: datetime) -> None:
    """Queue messages in one statement; a `dedupe_key` queued before is not queued again.

    Each row has dedupe_key, channel, address and payload, and may have neighbor_id and
    message_id.
    """
    if rows:
        defaults = {"neighbor_id": None, "message_id": None, "status": "pending", "attempts": 0}
        values = [{**defaults, **row, "next_attempt_at": now, "created_at": now} for row in rows]
        await session.execute(insert_ignoring_conflict(session, OutboxMessage, ["dedupe_key"]), values)


async def claim_due(
    session: AsyncSession, *, now: datetime, limit: int, lease: timedelta
) -> Sequence[OutboxMessage]:
    """Mark up to `limit` due messages as being sent by the caller, oldest first."""
    due = (
        select(OutboxMessage.id)
        .where(
            or_(
                and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if is_postgresql(session):
        due = due.with_for_update(skip_locked=True)
    claim = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(status="sending", lease_until=now + lease, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(claim)).scalars().all()
    return sorted(rows, key=lambda row: row.id)


async def mark_sent(session: AsyncSession, sent: dict[int, str | None], *, now: datetime) -> None:
    """Mark claimed messages sent: outbox id -> the platform's message id (one statement).

    Only rows still "sending": a delivery report that came first (a status callback can
    beat the mark) is not turned back into "sent".
    """
    if sent:
        table = OutboxMessage.__table__
        statement = (
            update(table)
            .where(table.c.id == bindparam("outbox_id"), table.c.status == "sending")
            .values(
                status="sent", sent_at=now, lease_until=None, platform_message_id=bindparam("platform_id")
            )
        )
        rows = [
            {"outbox_id": outbox_id, "platform_id": platform_id} for outbox_id, platform_id in sent.items()
        ]
        await (await session.connection()).execute(statement, rows)


async def forget_sent(session: AsyncSession, outbox_ids: list[int]) -> None:
    """Sent messages to a neighbor who erased their data keep no address and no words."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.status.in_(DELIVERED))
        .values(address="", payload={"text": "", "kind": "erased"})
    )


async def renew_leases(session: AsyncSession, outbox_ids: list[int], *, until: datetime) -> None:
    """Messages still being sent keep their claim: nobody else takes them meanwhile."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.status == "sending")
        .values(lease_until=until)
    )


async def unreachable_neighbors(session: AsyncSession, neighbor_ids: set[int]) -> set[int]:
    """Which of these neighbors blocked the line: nothing is sent to them until they write again."""
    if not neighbor_ids:
        return set()
    query = select(Neighbor.id).where(Neighbor.id.in_(neighbor_ids), Neighbor.unreachable.is_(True))
    return set((await session.execute(query)).scalars())


async def mark_retry(session: AsyncSession, outbox_id: int, *, error: str, at: datetime) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(status="pending", next_attempt_at=at, last_error=error, lease_until=None)
    )


async def mark_failed(session: AsyncSession, outbox_id: int, *, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(status="failed", last_error=error, lease_until=None)
    )


async def mark_waiting(session: AsyncSession, outbox_id: int, *, reason: str) -> None:
    """The message cannot go yet; it waits for the neighbor to write again (`release_waiting`)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(status="waiting", last_error=reason, lease_until=None)
    )


async def release_waiting(session: AsyncSession, *, channel: str, address: str, now: datetime) -> None:
    """The neighbor wrote: what waited for them goes now."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.status == "waiting",
        )
        .values(status="pending", next_attempt_at=now)
    )


STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3}


async def record_delivery(
    session: AsyncSession, *, platform_message_id: str, status: str, error: str | None, waits: bool = False
) -> OutboxMessage | None:
    """A platform's delivery report; statuses only move forward (reports come out of order).

    A failure that `waits` (outside WhatsApp's window) makes the message wait for the
    neighbor instead. The message, or None when no message has that platform id.
    """
    query = select(OutboxMessage).where(OutboxMessage.platform_message_id == platform_message_id)
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        return None
    if status in ("failed", "undelivered"):
        row.status, row.last_error = ("waiting" if waits else "failed"), error or status
    elif STATUS_RANK.get(status, 0) > STATUS_RANK.get(row.status, 0):
        row.status = status
    return row


async def mark_unreachable(session: AsyncSession, *, channel: str, address: str, error: str) -> None:
    """The neighbor blocked us: flag them, and fail what was still queued for them."""
    await session.execute(
        update(Neighbor)
        .where(Neighbor.channel == channel, Neighbor.address == address)
        .values(unreachable=True)
    )
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.status.in_(("pending", "sending")),
        )
        .values(status="failed", last_error=error, lease_until=None)
    )
