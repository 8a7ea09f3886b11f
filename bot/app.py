"""`create_app(settings)`: the one Starlette app of `vecinos serve`.

Everything is built here from the settings; the lifespan migrates the database, mirrors
the office directory into it, runs the outbox dispatcher, and closes all in reverse.
Nothing connects at import.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.body_limit import KB, MB, BodyLimit
from bot.channels import Channel, build_channels, channels_off
from bot.channels.webchat import MAX_PHOTO_BYTES
from bot.console import console_routes
from bot.console.context import SESSION_LASTS, ConsoleContext
from bot.health import health_routes
from bot.inbound import InboundPipeline
from bot.media import MediaStore
from bot.metrics import Metrics
from bot.outbox import OutboxDispatcher
from bot.passwords import PasswordPolicy
from bot.security_headers import SecurityHeadersMiddleware
from bot.settings import Settings
from bot.supervisor import Supervisor
from db.directory import office_hours, sync_directory
from db.engine import create_engine, create_sessionmaker
from db.errors import bug_report, describe, is_outage
from db.migrate import migrate
from handlers.alerts import OfficeAlerts
from handlers.neighbor import Dialog
from handlers.texts import Texts
from handlers.tips import Tips
from routing.directory import Directory, DirectoryError
from routing.understand import Understander

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
CHANNEL_RETRY_S = 30
DATABASE_FIRST_PAUSE_S, DATABASE_LONGEST_PAUSE_S = 1.0, 10.0
# How soon an office's hours changed in one worker's console reach the others.
DIRECTORY_REFRESH_S = 60
# Request bodies by path prefix (the longest wins), refused with 413 before they are read whole.
# Literal prefixes: importing the Telegram and Twilio channels here would load their SDKs.
BODY_LIMITS = [
    ("/chat/api/", 32 * KB),  # 4000 characters of any script, JSON-escaped
    ("/chat/api/photos", MAX_PHOTO_BYTES + 64 * KB),  # the photo and its multipart fields
    ("/telegram/", 1 * MB),  # an update is a few KB; files come by getFile, not in it
    ("/twilio/", 64 * KB),  # form-encoded; media come as URLs
    ("/console/", 64 * KB),
    ("/api/", 64 * KB),
]
DEFAULT_BODY_LIMIT = 16 * KB


def create_app(settings: Settings, on_ready: Callable[[list[str]], None] | None = None) -> Starlette:
    """Build the app; the database is opened by its lifespan.

    `on_ready` is called once the app is ready to serve, with what the channels that are
    off need to run.
    """
    understander = Understander.load(settings.data_dir, settings.timezone)
    texts = Texts.from_dir(settings.data_dir)
    tips = Tips.from_dir(settings.data_dir)
    engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(engine)
    metrics = Metrics()
    media = MediaStore(settings.media_dir)
    templates = Jinja2Templates(directory=ROOT / "templates")
    directory = understander.directory
    alerts = OfficeAlerts(texts, directory, understander.timezone, console_url=settings.public_url)
    dialog = Dialog(texts, understander, tips, alerts)
    outbox_ready = asyncio.Event()  # set by the pipeline when replies are queued
    pipeline = InboundPipeline(sessions, dialog, texts, media, metrics, outbox_ready)
    channels = build_channels(
        settings, pipeline=pipeline, sessions=sessions, texts=texts, templates=templates, media=media
    )
    dispatcher = OutboxDispatcher(sessions, channels, metrics, outbox_ready)
    supervisor = Supervisor(metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await _when_database_answers(lambda: _prepare_database(engine, sessions, directory))
        starting = [
            asyncio.create_task(_start(channel, supervisor), name=f"start-{name}")
            for name, channel in channels.items()
        ]
        supervisor.start("outbox-dispatcher", dispatcher.run)
        supervisor.start("directory-refresh", lambda: _refresh_directory(sessions, directory))
        if on_ready is not None:
            on_ready(channels_off(channels, texts))
        try:
            yield
        finally:
            for task in starting:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await supervisor.stop()
            for channel in channels.values():
                with contextlib.suppress(Exception):
                    await channel.stop()
            await engine.dispose()

    console = ConsoleContext(
        sessions=sessions,
        texts=texts,
        templates=templates,
        directory=directory,
        timezone=understander.timezone,
        media=media,
        outbox_ready=outbox_ready,
        alerts=alerts,
        alert_channel=next((c for c in channels.values() if c.links_officers), None),
        passwords=PasswordPolicy.from_dir(settings.data_dir),
    )
    routes = [
        *health_routes(sessions, metrics, supervisor),
        *console_routes(console),
        *(route for channel in channels.values() for route in channel.routes()),
        Mount("/static", StaticFiles(directory=ROOT / "static"), name="static"),
    ]
    # Without SECRET_KEY (trying it out), sessions last as long as the process.
    session_key = settings.secret_key or secrets.token_hex(32)
    https = settings.public_url.startswith("https://")
    middleware = [
        Middleware(SecurityHeadersMiddleware, https=https),
        Middleware(
            BodyLimit, limits=BODY_LIMITS, default=DEFAULT_BODY_LIMIT, error=lambda: texts("http.too_large")
        ),
        Middleware(
            SessionMiddleware,
            secret_key=session_key,
            session_cookie="vecinos_console",
            max_age=int(SESSION_LASTS.total_seconds()),
            same_site="strict",
            https_only=https,
        ),
    ]
    return Starlette(
        routes=routes, middleware=middleware, lifespan=lifespan, exception_handlers=_exception_handlers(texts)
    )


async def _prepare_database(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], directory: Directory
) -> None:
    """Migrate, mirror the directory, and take the hours office admins set."""
    await migrate(engine)
    async with sessions.begin() as session:
        await sync_directory(session, directory)
    await _apply_office_hours(sessions, directory)


async def _when_database_answers(prepare: Callable[[], Awaitable[None]]) -> None:
    """Run `prepare`; while the database does not answer, say so and try again.

    A server started before its database (a reboot, a container order) waits for it
    instead of exiting; it answers no request meanwhile.
    """
    pause = DATABASE_FIRST_PAUSE_S
    while True:
        try:
            await prepare()
            return
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning(
                "the database does not answer (%s); trying again in %.0f s", type(exc).__name__, pause
            )
            await asyncio.sleep(pause)
            pause = min(DATABASE_LONGEST_PAUSE_S, pause * 2)


async def _start(channel: Channel, supervisor: Supervisor) -> None:
    """Connect a channel, then run its loops; a platform down at boot is retried, the rest serves."""
    while True:
        try:
            await channel.start()
            for name, loop in channel.loops().items():
                supervisor.start(name, loop)
            return
        except Exception:
            log.exception("channel %s could not start; retrying in %s s", channel.name, CHANNEL_RETRY_S)
            await asyncio.sleep(CHANNEL_RETRY_S)


async def _apply_office_hours(sessions: async_sessionmaker[AsyncSession], directory: Directory) -> None:
    """The hours office admins set in the console replace the data files' ones."""
    async with sessions() as session:
        saved = await office_hours(session)
    for office_id, entries in saved.items():
        try:
            directory.set_hours(office_id, entries)
        except (KeyError, DirectoryError) as exc:  # an office gone from the files, a hand-edited row
            log.warning("directory: keeping the data files' hours of %s: %s", office_id, exc)


async def _refresh_directory(sessions: async_sessionmaker[AsyncSession], directory: Directory) -> None:
    """Every worker picks up the hours set in another one's console."""
    while True:
        await asyncio.sleep(DIRECTORY_REFRESH_S)
        try:
            await _apply_office_hours(sessions, directory)
        except (SQLAlchemyError, OSError):
            log.warning("directory: could not read office hours; trying again later")


def _exception_handlers(texts: Texts) -> dict:
    async def http_error(request: Request, exc: HTTPException) -> Response:
        detail = exc.detail
        if exc.status_code == 404:
            detail = texts("http.not_found")
        elif exc.status_code == 405:
            detail = texts("http.method_not_allowed")
        return JSONResponse({"error": detail}, status_code=exc.status_code, headers=exc.headers)

    async def database_error(request: Request, exc: Exception) -> Response:
        """An outage is 503 (come back later); anything else the database refused is a bug."""
        if is_outage(exc):
            # One line per refused request, at WARNING: /readyz and the supervisor say it louder.
            log.warning("database unavailable: %s", describe(exc))
            return JSONResponse(
                {"error": texts("http.database_down")}, status_code=503, headers={"Retry-After": "30"}
            )
        log.error("database error on %s %s (a bug): %s", request.method, request.url.path, bug_report(exc))
        return JSONResponse({"error": texts("http.server_error")}, status_code=500)

    return {HTTPException: http_error, SQLAlchemyError: database_error, OSError: database_error}
