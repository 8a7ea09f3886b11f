"""INSERT … ON CONFLICT DO NOTHING for SQLite and PostgreSQL alike: the unique row decides."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import is_postgresql


def insert_ignoring_conflict(
    session: AsyncSession, model: type, values: dict[str, Any], conflict: list[str]
) -> Any:
    """An INSERT statement that does nothing when `conflict` columns already hold `values`."""
    dialect_insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    return dialect_insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
