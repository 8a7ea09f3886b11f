"""INSERT … ON CONFLICT DO NOTHING for SQLite and PostgreSQL alike: the unique row decides."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import is_postgresql


def insert_ignoring_conflict(session: AsyncSession, model: type, conflict: list[str]) -> Any:
    """An INSERT into `model` that does nothing for rows whose `conflict` columns exist.

    Give it one row with `.values(...)`, or several as execute parameters.
    """
    dialect_insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    return dialect_insert(model).on_conflict_do_nothing(index_elements=conflict)
