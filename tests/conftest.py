"""Fixtures shared by the whole suite.

Database tests run on a fresh SQLite file, and again on PostgreSQL when
TEST_DATABASE_URL is set (the `database_url` fixture is parametrised over both).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from db.engine import create_engine, create_sessionmaker
from db.migrate import migrate
from routing.understand import DEFAULT_DATA_DIR, Understander

SANTIAGO = ZoneInfo("America/Santiago")
BACKENDS = ["sqlite", *(["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])]


@pytest.fixture(scope="session")
def understander() -> Understander:
    """The real understander, built once from the repository's data folder."""
    return Understander.load(DEFAULT_DATA_DIR)


@pytest.fixture
def tuesday_morning() -> datetime:
    """A weekday at 11:00 in Santiago, when every helpline and office is open."""
    return datetime(2026, 11, 24, 11, 0, tzinfo=SANTIAGO)


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a new SQLite file, or PostgreSQL's schema emptied."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'vecinos.db'}"
        return
    url = os.environ["TEST_DATABASE_URL"]
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    yield url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a migrated, empty database."""
    engine = create_engine(database_url)
    await migrate(engine)
    yield create_sessionmaker(engine)
    await engine.dispose()
