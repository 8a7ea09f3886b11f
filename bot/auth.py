"""Officers' sign-in: argon2 password hashes, CSRF tokens, sign-in throttling, link codes.

Hashing takes tens of milliseconds of CPU on purpose: it runs in a thread, never on the
event loop that answers neighbors.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from db.sign_in import failures_since, forget_failures, record_failure

ROLES = ("officer", "admin", "supervisor")
LINK_CODE_LENGTH = 8
LINK_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
LINK_CODE_VALID = timedelta(minutes=30)
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return bool(password_hash) and _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_off_loop(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_off_loop(password_hash: str | None, password: str) -> bool:
    """Checks against a dummy hash when there is no account, so timing tells nothing."""
    matches = await asyncio.to_thread(verify_password, password_hash or _nobody(), password)
    return matches and password_hash is not None


@functools.cache
def _nobody() -> str:
    """A hash no password matches, made on first use (not at import)."""
    return _hasher.hash(secrets.token_hex(16))


def one_time_password() -> str:
    """A password to give once; the officer sets their own at the first sign-in."""
    return secrets.token_urlsafe(12)


def link_code() -> str:
    """A short code an officer sends the bot to link their Telegram chat."""
    return "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))


def csrf_token(request: Request) -> str:
    """The session's token for forms and API calls; made on first use."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(request: Request, submitted: object) -> bool:
    expected = request.session.get("csrf", "")
    return bool(expected) and isinstance(submitted, str) and hmac.compare_digest(expected, submitted)


class SignInThrottle:
    """Failed password checks counted in the database, so that every worker sees them all.

    Three counts over `window` (15 minutes), each of which blocks when it reaches its limit:

    - one email from one address (5): an officer who mistypes is stopped soon, alone;
    - one email from anywhere (10): many addresses get 10 guesses at an account between
      them, not 5 each;
    - one address whatever the email (50): spraying common passwords over many accounts
      from one address stops. Every failure counts here, known email or not, so the
      answer never tells which accounts exist; the limit is high because the officers of
      an office often share one public address, and their typos (at most 5 each) must not
      lock the office out.

    A success forgets only the first count: a guesser's failures at an account keep
    counting, whoever signs in meanwhile. The current-password check of a password change
    counts through the same door (the officer's email, the request's address).
    """

    def __init__(
        self,
        per_account_address: int = 5,
        per_account: int = 10,
        per_address: int = 50,
        window: timedelta = timedelta(minutes=15),
    ) -> None:
        self._limits = (per_account_address, per_account, per_address)
        self.window = window

    @staticmethod
    def _keys(email: str, address: str) -> tuple[str, str, str]:
        return f"account:{email}|{address}", f"email:{email}", f"address:{address}"

    async def blocked(self, session: AsyncSession, email: str, address: str, now: datetime) -> bool:
        keys = self._keys(email, address)
        counts = await failures_since(session, keys, now - self.window)
        return any(counts[key] >= limit for key, limit in zip(keys, self._limits, strict=True))

    async def failed(self, session: AsyncSession, email: str, address: str, now: datetime) -> None:
        await record_failure(session, self._keys(email, address), now=now, forget_after=self.window)

    async def succeeded(self, session: AsyncSession, email: str, address: str) -> None:
        await forget_failures(session, self._keys(email, address)[0])
