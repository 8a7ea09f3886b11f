"""INSERT … ON CONFLICT for SQLite and PostgreSQL alike: the unique row decides.

The statements are built once per dialect and reused, values given at execution: building
a statement costs more than running it on this path (SQLAlchemy's cache keys).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_ignoring_conflict(
    session: AsyncSession, model: type, conflict: list[str], returning: tuple[Any, ...] = ()
) -> Any:
    """An INSERT into `model` that does nothing for rows whose `conflict` columns exist.

    Execute it with the row (a dict) or rows (a list of dicts) as parameters.
    """
    return _insert_ignoring(session.bind.dialect.name, model, tuple(conflict), returning)


def upsert_returning_row(
    session: AsyncSession, model: type, conflict: list[str], update: tuple[str, ...]
) -> Any:
    """An INSERT that, where `conflict` columns exist, updates `update` columns; returns the row."""
    return _upsert(session.bind.dialect.name, model, tuple(conflict), update)


@functools.cache
def _insert_ignoring(dialect: str, model: type, conflict: tuple[str, ...], returning: tuple[Any, ...]) -> Any:
    statement = _dialect_insert(dialect)(model).on_conflict_do_nothing(index_elements=list(conflict))
    return statement.returning(*returning) if returning else statement


@functools.cache
def _upsert(dialect: str, model: type, conflict: tuple[str, ...], update: tuple[str, ...]) -> Any:
    statement = _dialect_insert(dialect)(model)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=list(conflict), set_={column: excluded[column] for column in update}
    ).returning(model)


def _dialect_insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
