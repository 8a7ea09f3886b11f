"""What every part of the console shares, and its errors: one place that says who may do what.

Roles: an officer and an office admin see and work their office; an admin also manages
the office's accounts, hours and quick replies; a supervisor reads their prefecture's
offices and acts on none. Anything an officer may not see answers as if it did not exist.
Everyone sees the region-wide urgent conversations (no commune known yet, so no office):
the first officer who acts on one brings it into their office.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from bot.auth import SignInThrottle
from bot.channels.base import Channel
from bot.media import MediaStore
from bot.passwords import PasswordPolicy
from db import console_sessions
from db.limits import fits_id
from db.models import Conversation, Neighbor, Officer
from handlers.alerts import OfficeAlerts
from handlers.texts import Texts
from routing.directory import Directory


class ConsoleError(Exception):
    """An answer other than the one asked for; `key` names its text in `console.errors`."""

    status = 400

    def __init__(self, key: str = "bad_input") -> None:
        super().__init__(key)
        self.key = key


class Invalid(ConsoleError):
    """The input was refused (empty reply, unknown office…): 400, nothing changed."""


class NotSignedIn(ConsoleError):
    """No session, or it ended (signed out, password changed, account switched off): 401."""

    status = 401


class Forbidden(ConsoleError):
    """Signed in, but the role does not allow it (a supervisor replying): 403."""

    status = 403


class Throttled(ConsoleError):
    """Too many wrong passwords for this account lately: 429, nothing checked."""

    status = 429

    def __init__(self) -> None:
        super().__init__("throttled")


class NotFound(ConsoleError):
    """Does not exist, or is not the officer's to see: the same 404, so nothing leaks."""

    status = 404


@dataclass(frozen=True, slots=True)
class ConsoleContext:
    """Built once by the app and given to the console's pages and API."""

    sessions: async_sessionmaker[AsyncSession]
    texts: Texts
    templates: Jinja2Templates
    directory: Directory
    timezone: tzinfo
    media: MediaStore
    outbox_ready: asyncio.Event
    alerts: OfficeAlerts
    alert_channel: Channel | None  # where officers link a chat for alerts (Telegram), if it runs
    passwords: PasswordPolicy
    throttle: SignInThrottle = field(default_factory=SignInThrottle)


def visible_offices(officer: Officer, directory: Directory) -> set[str]:
    if officer.role == "supervisor":
        prefecture = directory.offices[officer.office_id].prefecture
        return {o.id for o in directory.offices.values() if o.prefecture == prefecture}
    return {officer.office_id}


def can_act(officer: Officer) -> bool:
    """Whether the officer may change conversations (a supervisor only reads)."""
    return officer.role in ("officer", "admin")


def require_act(officer: Officer) -> None:
    if not can_act(officer):
        raise Forbidden("read_only")


def require_admin(officer: Officer) -> None:
    if officer.role != "admin":
        raise Forbidden("admins_only")


def sees_contact(officer: Officer, conversation: Conversation, neighbor: Neighbor) -> bool:
    """A neighbor's number shows only if they chose to share it, and only to their office."""
    return neighbor.shares_contact and officer.office_id == conversation.office_id


SESSION_LASTS = timedelta(hours=12)  # absolute: a session is not extended by use
_SESSION_KEY = "session"  # the token's key in the signed cookie


def _hashed(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session_token() -> tuple[str, str]:
    """A random session token for the cookie, and the hash the database keeps of it."""
    token = secrets.token_urlsafe(32)
    return token, _hashed(token)


def remember_session(request: Request, token: str) -> None:
    """A clean cookie with the new session's token (nothing of before survives: no fixation)."""
    request.session.clear()
    request.session[_SESSION_KEY] = token


def session_token_hash(request: Request) -> str | None:
    """The hash of the session token the cookie carries, if any."""
    token = request.session.get(_SESSION_KEY)
    return _hashed(token) if isinstance(token, str) and token else None


def check_path_ids(request: Request) -> None:
    """An id in the path that no row can have (past PostgreSQL's `integer`) is not found."""
    if any(isinstance(value, int) and not fits_id(value) for value in request.path_params.values()):
        raise NotFound("not_found")


async def signed_in(request: Request, context: ConsoleContext) -> Officer:
    """The active officer of this session, past their first-time password; else NotSignedIn."""
    officer = await session_officer(request, context)
    if officer is None or officer.must_change_password:
        raise NotSignedIn("sign_in")
    return officer


async def session_officer(request: Request, context: ConsoleContext) -> Officer | None:
    """The active officer of this session, whether or not they still must change the password.

    The session must still be in the database: signed out, ended by a password change or
    expired, its cookie opens nothing.
    """
    token_hash = session_token_hash(request)
    if token_hash is None:
        return None
    async with context.sessions() as session:
        officer = await console_sessions.session_officer(
            session, token_hash=token_hash, now=datetime.now(UTC)
        )
    if officer is None or not officer.active:
        return None
    return officer


async def visible_conversation(
    session: AsyncSession, officer: Officer, conversation_id: int, directory: Directory
) -> tuple[Conversation, Neighbor]:
    """The conversation and its neighbor, if the officer may see it; NotFound otherwise."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or (
        conversation.office_id is not None
        and conversation.office_id not in visible_offices(officer, directory)
    ):
        raise NotFound("not_found")
    neighbor = await session.get(Neighbor, conversation.neighbor_id)
    if neighbor is None:
        raise NotFound("not_found")
    return conversation, neighbor
