"""The figures of an office: counts per commune, intent, category, sector and week; the
median time to first response; the backlog now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.directory import sync_directory
from db.figures import office_figures
from db.models import Conversation, Neighbor, Report
from routing.understand import Understander
from tests.conftest import SANTIAGO

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=SANTIAGO)  # a Wednesday


async def test_an_offices_figures(
    sessions: async_sessionmaker[AsyncSession], understander: Understander
) -> None:
    async with sessions.begin() as session:
        await sync_directory(session, understander.directory)
        neighbors = {}
        for n, commune in enumerate(["Rengo", "Rengo", "Malloa", "Machalí"]):
            neighbors[n] = Neighbor(
                channel="test", address=f"n{n}", commune=commune, step="menu", created_at=NOW
            )
        session.add_all(neighbors.values())
        await session.flush()

        def conversation(
            n: int,
            office: str,
            intent: str,
            age: timedelta,
            answered_after: int | None = None,
            **extra: object,
        ) -> Conversation:
            created = NOW - age
            answered = created + timedelta(minutes=answered_after) if answered_after is not None else None
            return Conversation(
                neighbor_id=neighbors[n].id, office_id=office, intent=intent, created_at=created,
                updated_at=created, first_response_at=answered, **extra,
            )  # fmt: skip

        rows = [
            # Answered after 10, 30 and 50 minutes: the median is 30.
            conversation(0, "rengo", "talk", timedelta(hours=2), 10, status="closed"),
            conversation(1, "rengo", "talk", timedelta(days=8), 30, status="open"),
            conversation(2, "rengo", "report", timedelta(days=1), 50, status="closed"),
            conversation(0, "rengo", "report", timedelta(hours=1), status="waiting", urgent=True),
            conversation(1, "rengo", "talk", timedelta(hours=3), status="waiting"),
            conversation(2, "rengo", "talk", timedelta(weeks=20), status="closed"),  # before the period
            conversation(3, "machali", "talk", timedelta(hours=1), status="waiting"),  # another office
        ]  # fmt: skip
        session.add_all(rows)
        await session.flush()
        for n, (category, commune, sector, age) in enumerate(
            [
                ("drugs", "Rengo", "Villa Las Rosas", timedelta(hours=1)),
                ("drugs", "Rengo", "Villa Las Rosas", timedelta(days=8)),
                ("lighting", "Malloa", None, timedelta(days=1)),
            ]
        ):
            session.add(
                Report(
                    reference=f"2026-{n:05d}", office_id="rengo", commune=commune, sector=sector,
                    category=category, status="received", created_at=NOW - age,
                )
            )  # fmt: skip

    async with sessions() as session:
        figures = await office_figures(session, ["rengo"], weeks=4, now=NOW, timezone=SANTIAGO)

    assert figures.since.isoformat() == "2026-11-02"  # the Monday three weeks before this one
    assert (figures.conversations, figures.reports) == (5, 3)
    assert figures.conversations_by_commune == [("Rengo", 4), ("Malloa", 1)]
    assert sorted(figures.conversations_by_intent) == [("report", 2), ("talk", 3)]
    assert figures.reports_by_category == [("drugs", 2), ("lighting", 1)]
    assert figures.reports_by_commune == [("Rengo", 2), ("Malloa", 1)]
    assert sorted(figures.reports_by_sector) == [("Malloa", "", 1), ("Rengo", "Villa Las Rosas", 2)]
    assert [(monday.isoformat(), c, r) for monday, c, r in figures.weeks] == [
        ("2026-11-02", 0, 0), ("2026-11-09", 0, 0), ("2026-11-16", 1, 1), ("2026-11-23", 4, 2),
    ]  # fmt: skip
    assert (figures.answered, figures.median_first_response) == (3, timedelta(minutes=30))
    backlog = figures.backlog
    assert (backlog.waiting, backlog.urgent_waiting, backlog.open) == (2, 1, 1)
    assert backlog.oldest_waiting_at == NOW.astimezone(UTC) - timedelta(hours=3)
    assert figures.by_office == [("rengo", 5, 3, 2)]

    async with sessions() as session:
        both = await office_figures(session, ["rengo", "machali"], weeks=4, now=NOW, timezone=SANTIAGO)
    assert both.by_office == [("machali", 1, 0, 1), ("rengo", 5, 3, 2)]
    assert both.backlog.waiting == 3
