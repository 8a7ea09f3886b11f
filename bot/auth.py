"""Officers' sign-in: argon2 password hashes, signed session cookies, CSRF, throttling.

Who sees what: an officer and an office admin see their office; a supervisor sees the
offices of their prefecture. Every console page asks `visible_offices`.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request

from db.models import Officer
from routing.directory import Directory

ROLES = ("officer", "admin", "supervisor")
MIN_PASSWORD = 10
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return bool(password_hash) and _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def one_time_password() -> str:
    """A password to give once; the officer sets their own at the first sign-in."""
    return secrets.token_urlsafe(12)


def visible_offices(officer: Officer, directory: Directory) -> set[str]:
    if officer.role == "supervisor":
        prefecture = directory.offices[officer.office_id].prefecture
        return {o.id for o in directory.offices.values() if o.prefecture == prefecture}
    return {officer.office_id}


def csrf_token(request: Request) -> str:
    """The session's token for forms; made on first use."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(request: Request, submitted: object) -> bool:
    expected = request.session.get("csrf", "")
    return bool(expected) and isinstance(submitted, str) and hmac.compare_digest(expected, submitted)


class LoginThrottle:
    """At most `limit` failed sign-ins per account and address in `window` seconds.

    Kept in memory: each worker counts its own (enough against guessing from one place).
    """

    def __init__(self, limit: int = 5, window: float = 900) -> None:
        self._limit = limit
        self._window = window
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)

    def blocked(self, key: str) -> bool:
        failures = self._failures[key]
        while failures and failures[0] < time.monotonic() - self._window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return False
        return len(failures) >= self._limit

    def failed(self, key: str) -> None:
        self._failures[key].append(time.monotonic())

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
