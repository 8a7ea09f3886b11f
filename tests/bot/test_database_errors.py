"""A database that is away (503, retry) told apart from a query the database refuses (a bug)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.app import create_app
from bot.inbound import InboundPipeline
from bot.media import MediaStore
from bot.metrics import Metrics
from bot.settings import Settings
from db.directory import sync_directory
from db.engine import create_engine, create_sessionmaker
from db.models import InboundEvent, Officer, OutboxMessage
from handlers.alerts import OfficeAlerts
from handlers.events import InboundMessage
from handlers.neighbor import Dialog
from handlers.texts import Texts
from handlers.tips import Tips
from routing.understand import DEFAULT_DATA_DIR
from tests.doubles.absent_database import query_an_absent_database

SECRET = "rosa.secreta@example.cl"


def officer(email: str) -> Officer:
    return Officer(
        office_id="rengo", name="Rosa", email=email, password_hash="x", created_at=datetime.now(UTC)
    )


async def write_twice(session) -> None:
    """A real bug: the same unique email twice (IntegrityError on both databases)."""
    session.add_all([officer(SECRET)])
    await session.flush()
    session.add_all([officer(SECRET)])
    await session.flush()


async def test_a_refused_query_is_a_500_logged_without_its_values_and_an_outage_a_503(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings(_env_file=None, database_url=database_url, media_dir=tmp_path / "media"))

    async def bug(request: Request) -> Response:
        engine = create_engine(database_url)
        try:
            async with create_sessionmaker(engine).begin() as session:
                await write_twice(session)
        finally:
            await engine.dispose()
        return Response()

    async def outage(request: Request) -> Response:
        await query_an_absent_database()
        return Response()

    app.router.routes[:0] = [Route("/bug", bug), Route("/outage", outage)]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://vecinos.test") as client:
            with caplog.at_level(logging.WARNING, logger="bot.app"):
                refused = await client.get("/bug")
                away = await client.get("/outage")
    assert refused.status_code == 500 and "Retry-After" not in refused.headers
    assert refused.json()["error"] == Texts.from_dir(DEFAULT_DATA_DIR)("http.server_error")
    assert away.status_code == 503 and away.headers["Retry-After"] == "30"
    (logged_bug, logged_outage) = caplog.records
    assert "a bug" in logged_bug.getMessage() and "IntegrityError" in logged_bug.getMessage()
    assert "Traceback" in logged_bug.getMessage() and "in write_twice" in logged_bug.getMessage()
    assert "database unavailable" in logged_outage.getMessage()
    assert (logged_bug.levelno, logged_outage.levelno) == (logging.ERROR, logging.WARNING)
    assert all(SECRET not in record.getMessage() and record.exc_text is None for record in caplog.records)


class WritesTwice(Dialog):
    """A dialog whose handling writes what the database refuses."""

    async def handle(self, session, message):  # type: ignore[override]
        await write_twice(session)


class DatabaseAway(Dialog):
    """A dialog whose handling finds the database gone (a refused connection)."""

    async def handle(self, session, message):  # type: ignore[override]
        await query_an_absent_database()


def pipeline(sessions, understander, tmp_path: Path, dialog_class: type[Dialog]) -> InboundPipeline:
    texts = Texts.from_dir(DEFAULT_DATA_DIR)
    alerts = OfficeAlerts(texts, understander.directory, understander.timezone)
    dialog = dialog_class(texts, understander, Tips.from_dir(DEFAULT_DATA_DIR), alerts)
    return InboundPipeline(sessions, dialog, texts, MediaStore(tmp_path), Metrics(), asyncio.Event())


def message(text: str) -> InboundMessage:
    return InboundMessage(
        channel="test", address="+56911112222", platform_id="m1", received_at=datetime.now(UTC), text=text
    )


async def test_a_query_refused_in_handling_keeps_the_message_and_tells_the_neighbor(
    sessions, understander, tmp_path: Path
) -> None:
    async with sessions.begin() as session:
        await sync_directory(session, understander.directory)
    line = pipeline(sessions, understander, tmp_path, WritesTwice)
    assert await line.receive(message("hola\x00 \ud800")) is True  # kept: the platform must not retry
    async with sessions() as session:
        (event,) = (await session.execute(select(InboundEvent))).scalars().all()
        (told,) = (await session.execute(select(OutboxMessage))).scalars().all()
    assert "IntegrityError" in event.error and SECRET not in event.error
    assert event.payload["text"] == "hola \ufffd"  # stored as both databases can
    assert "quedó guardado" in told.payload["text"]


async def test_a_database_gone_in_handling_makes_the_platform_retry(sessions, understander, tmp_path) -> None:
    line = pipeline(sessions, understander, tmp_path, DatabaseAway)
    with pytest.raises(OSError):
        await line.receive(message("hola"))
    async with sessions() as session:
        assert (await session.execute(select(InboundEvent))).scalars().all() == []
