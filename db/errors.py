"""Telling a database that is away from a query that is wrong.

An outage (no connection, the pool exhausted, the server shutting down, the disk full) is
answered 503 and a platform retries the event later; anything else the database refuses
(too long a value, a broken constraint, bad SQL) is a bug: retrying it changes nothing.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError, DisconnectionError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

# SQLSTATE classes of PostgreSQL that mean "not now" rather than "never"
# (https://www.postgresql.org/docs/current/errcodes-appendix.html): connection exception,
# transaction rollback (serialization failure, deadlock: a retry succeeds), insufficient
# resources, operator intervention (shutdown, cannot connect now), system error.
_PG_OUTAGE = ("08", "40", "53", "57P", "58")
# SQLite's primary result codes of the same kind (https://www.sqlite.org/rescode.html).
_SQLITE_OUTAGE = {
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_NOMEM",
    "SQLITE_READONLY",
    "SQLITE_IOERR",
    "SQLITE_FULL",
    "SQLITE_CANTOPEN",
    "SQLITE_PROTOCOL",
}


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached or used now (retry later)."""
    if isinstance(exc, DisconnectionError | PoolTimeoutError | OSError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    for cause in _chain(exc):
        if isinstance(cause, OSError):
            return True
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_PG_OUTAGE):
            return True
        name = getattr(cause, "sqlite_errorname", None)
        if isinstance(name, str) and "_".join(name.split("_")[:2]) in _SQLITE_OUTAGE:  # SQLITE_IOERR_…
            return True
    return False


def describe(exc: BaseException) -> str:
    """The error's kinds, codes and SQL, without a single value: logs keep no personal data."""
    kinds = []
    for cause in _chain(exc):
        code = getattr(cause, "sqlstate", None) or getattr(cause, "sqlite_errorname", None)
        kinds.append(f"{type(cause).__module__}.{type(cause).__qualname__}" + (f" [{code}]" if code else ""))
    statement = exc.statement if isinstance(exc, StatementError) else None
    return " <- ".join(kinds) + (f"\nSQL: {statement}" if statement else "")


def bug_report(exc: BaseException) -> str:
    """`describe(exc)` and where it was raised: a traceback without messages (they hold values)."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return f"{describe(exc)}\nTraceback (most recent call last):\n{frames}".rstrip()


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, the driver's error inside it, and their causes, each once."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__ or current.__context__
