"""Fixtures shared by the whole suite.

Database tests run on a fresh SQLite file, and again on PostgreSQL when
TEST_DATABASE_URL is set (the `database_url` fixture is parametrised over both).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from db.engine import create_engine, create_sessionmaker
from db.migrate import migrate
from routing.understand import DEFAULT_DATA_DIR, Understander

SANTIAGO = ZoneInfo("America/Santiago")
BACKENDS = ["sqlite", *(["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])]


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its cheapest in the tests' own process: the same code, a fraction of the CPU.

    Sign-in tests hash hundreds of guesses; `vecinos serve` started by a test keeps the
    real cost (argon2's defaults), and a hash states its own cost, so both verify alike.
    """
    monkeypatch.setattr("bot.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def understander() -> Understander:
    """The real understander, built once from the repository's data folder."""
    return Understander.load(DEFAULT_DATA_DIR)


@pytest.fixture
def tuesday_morning() -> datetime:
    """A weekday at 11:00 in Santiago, when every helpline and office is open."""
    return datetime(2026, 11, 24, 11, 0, tzinfo=SANTIAGO)


@pytest.fixture(scope="session")
def postgresql_url() -> str | None:
    """TEST_DATABASE_URL; under pytest-xdist, a database of each worker's own, made on first use."""
    base = os.environ.get("TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not base or not worker:
        return base
    url = make_url(base)
    name = f"{url.database}_{worker}"

    async def create() -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()

    asyncio.run(create())
    return url.set(database=name).render_as_string(hide_password=False)


async def empty_postgresql(url: str) -> str:
    """`url`, its schema emptied."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgresql_url: str | None
) -> AsyncIterator[str]:
    """An empty database: a new SQLite file, or PostgreSQL's schema emptied."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'vecinos.db'}"
        return
    assert postgresql_url is not None
    yield await empty_postgresql(postgresql_url)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a migrated, empty database."""
    engine = create_engine(database_url)
    await migrate(engine)
    yield create_sessionmaker(engine)
    await engine.dispose()
