"""`is_outage` on real errors of both databases: an outage is retried, a bug is not."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from db.directory import sync_directory
from db.engine import create_engine
from db.errors import bug_report, is_outage
from db.models import Officer
from tests.doubles.absent_database import query_an_absent_database

SECRET = "rosa.secreta@example.cl"


def officer(email: str, name: str = "Rosa") -> Officer:
    return Officer(office_id="rengo", name=name, email=email, password_hash="x", created_at=datetime.now(UTC))


@pytest.fixture
async def offices(sessions, understander) -> async_sessionmaker[AsyncSession]:
    """Sessions on a database with the directory's offices (officers belong to one)."""
    async with sessions.begin() as session:
        await sync_directory(session, understander.directory)
    return sessions


async def error_of(sessions: async_sessionmaker[AsyncSession], *rows: Officer) -> SQLAlchemyError:
    with pytest.raises(SQLAlchemyError) as raised:
        async with sessions.begin() as session:
            for row in rows:
                session.add(row)
                await session.flush()
    return raised.value


async def test_a_closed_port_is_an_outage() -> None:
    with pytest.raises(OSError) as raised:
        await query_an_absent_database()
    assert is_outage(raised.value)


async def test_a_sqlite_file_that_cannot_be_opened_is_an_outage(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'not-a-folder' / 'v.db'}")
    with pytest.raises(SQLAlchemyError) as raised:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    await engine.dispose()
    assert is_outage(raised.value)


async def test_an_exhausted_pool_is_an_outage(database_url: str) -> None:
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    async with engine.connect() as held:
        await held.execute(text("SELECT 1"))
        with pytest.raises(SQLAlchemyError) as raised:
            async with engine.connect() as second:
                await second.execute(text("SELECT 1"))
    await engine.dispose()
    assert is_outage(raised.value)


async def test_a_server_that_ends_the_connection_is_an_outage(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server")
    engine = create_engine(database_url)
    async with engine.connect() as victim:
        pid = (await victim.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with engine.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(SQLAlchemyError) as raised:
            await victim.execute(text("SELECT 1"))
    await engine.dispose()
    assert is_outage(raised.value)


async def test_a_duplicate_is_a_bug_and_its_report_names_no_value(offices) -> None:
    error = await error_of(offices, officer(SECRET), officer(SECRET))
    assert not is_outage(error)
    report = bug_report(error)
    assert "UniqueViolation" in report or "sqlite3.IntegrityError" in report
    assert "IntegrityError" in report and "INSERT INTO officers" in report and "Traceback" in report
    assert SECRET not in report and "Rosa" not in report


async def test_a_value_past_its_column_or_an_id_past_integer_is_a_bug(offices, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite stores any length and any integer")
    too_long = await error_of(offices, officer("a@b.cl", name="N" * 201))
    assert not is_outage(too_long) and "StringDataRightTruncation" in bug_report(too_long)
    with pytest.raises(SQLAlchemyError) as raised:
        async with offices() as session:
            await session.get(Officer, 99_999_999_999)
    assert not is_outage(raised.value) and "99999999999" not in bug_report(raised.value)


async def test_a_nul_is_a_bug_on_postgresql(offices, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite stores a NUL")
    error = await error_of(offices, officer("a@b.cl", name="Ro\x00sa"))
    assert not is_outage(error)


async def test_bad_sql_is_a_bug_on_both(database_url: str) -> None:
    engine = create_engine(database_url)
    with pytest.raises(SQLAlchemyError) as raised:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT * FROM no_such_table"))
    await engine.dispose()
    assert not is_outage(raised.value)


async def test_a_timeout_is_an_outage() -> None:
    with pytest.raises(TimeoutError) as raised:
        await asyncio.wait_for(asyncio.Event().wait(), timeout=0)
    assert is_outage(raised.value)
