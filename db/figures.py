"""What an office's work looks like in numbers, for the console's figures page.

Counts are grouped in SQL; weeks and the median time to first response are worked out
here from the period's timestamps (SQLite has no percentile and no time-zone-aware week).
Conversations of neighbors who erased their data are gone from these figures too.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Conversation, Neighbor, Report


@dataclass(frozen=True, slots=True)
class Backlog:
    """What is still to do, now."""

    waiting: int
    urgent_waiting: int
    open: int
    oldest_waiting_at: datetime | None


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of some offices since a date."""

    since: date
    conversations: int
    reports: int
    conversations_by_commune: list[tuple[str, int]]
    conversations_by_intent: list[tuple[str, int]]
    reports_by_category: list[tuple[str, int]]
    reports_by_commune: list[tuple[str, int]]
    reports_by_sector: list[tuple[str, str, int]]  # commune, sector ("" when unknown), count
    weeks: list[tuple[date, int, int]]  # Monday, conversations, reports
    by_office: list[tuple[str, int, int, int]]  # office id, conversations, reports, waiting now
    answered: int
    median_first_response: timedelta | None
    backlog: Backlog


async def office_figures(
    session: AsyncSession, office_ids: Collection[str], *, weeks: int, now: datetime, timezone: tzinfo
) -> Figures:
    """The last `weeks` weeks (this one included) of the offices `office_ids`."""
    first_monday = _monday(now.astimezone(timezone).date()) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first_monday, datetime.min.time(), timezone)
    conversations = (Conversation.office_id.in_(office_ids), Conversation.created_at >= since)
    reports = (Report.office_id.in_(office_ids), Report.created_at >= since)

    async def grouped(*columns: object, where: tuple[object, ...], join: bool = False) -> list[tuple]:
        query = select(*columns, func.count()).where(*where).group_by(*columns)
        if join:
            query = query.select_from(Conversation).join(Neighbor, Neighbor.id == Conversation.neighbor_id)
        return [tuple(row) for row in await session.execute(query.order_by(func.count().desc()))]

    by_commune = await grouped(Neighbor.commune, where=conversations, join=True)
    by_intent = await grouped(Conversation.intent, where=conversations)
    by_category = await grouped(Report.category, where=reports)
    by_report_commune = await grouped(Report.commune, where=reports)
    by_sector = await grouped(Report.commune, Report.sector, where=reports)
    conversation_offices = dict(await grouped(Conversation.office_id, where=conversations))
    report_offices = dict(await grouped(Report.office_id, where=reports))

    timing = select(Conversation.created_at, Conversation.first_response_at).where(*conversations)
    created, responses = [], []
    for created_at, first_response_at in await session.execute(timing):
        created.append(created_at)
        if first_response_at is not None:
            responses.append(first_response_at - created_at)
    reported = (await session.execute(select(Report.created_at).where(*reports))).scalars().all()
    backlog, waiting_by_office = await _backlog(session, office_ids)

    return Figures(
        since=first_monday,
        conversations=len(created),
        reports=len(reported),
        conversations_by_commune=[(commune or "", count) for commune, count in by_commune],
        conversations_by_intent=by_intent,
        reports_by_category=by_category,
        reports_by_commune=by_report_commune,
        reports_by_sector=[(commune, sector or "", count) for commune, sector, count in by_sector],
        weeks=_weekly(first_monday, weeks, created, reported, timezone),
        by_office=[
            (
                office,
                conversation_offices.get(office, 0),
                report_offices.get(office, 0),
                waiting_by_office.get(office, 0),
            )
            for office in sorted(office_ids)
        ],
        answered=len(responses),
        median_first_response=statistics.median(responses) if responses else None,
        backlog=backlog,
    )


async def _backlog(session: AsyncSession, office_ids: Collection[str]) -> tuple[Backlog, dict[str, int]]:
    query = (
        select(
            Conversation.office_id,
            Conversation.status,
            Conversation.urgent,
            func.count(),
            func.min(Conversation.created_at),
        )
        .where(Conversation.office_id.in_(office_ids), Conversation.status.in_(("waiting", "open")))
        .group_by(Conversation.office_id, Conversation.status, Conversation.urgent)
    )
    waiting = urgent = open_ = 0
    oldest: datetime | None = None
    by_office: Counter[str] = Counter()
    for office_id, status, is_urgent, count, first in await session.execute(query):
        if status == "open":
            open_ += count
            continue
        waiting += count
        urgent += count if is_urgent else 0
        by_office[office_id] += count
        oldest = first if oldest is None else min(oldest, first)
    return Backlog(waiting, urgent, open_, oldest), dict(by_office)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekly(
    first_monday: date, weeks: int, conversations: list[datetime], reports: list[datetime], timezone: tzinfo
) -> list[tuple[date, int, int]]:
    def week_of(moment: datetime) -> date:
        return _monday(moment.astimezone(timezone).date())

    conversations_per_week = Counter(map(week_of, conversations))
    reports_per_week = Counter(map(week_of, reports))
    mondays = [first_monday + timedelta(weeks=n) for n in range(weeks)]
    return [(monday, conversations_per_week[monday], reports_per_week[monday]) for monday in mondays]
