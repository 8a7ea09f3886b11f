"""The benchmarks measure fresh neighbors: a database given with --database-url must be empty.

(Left-over neighbors answer in other steps, and the figures would count the wrong replies.)
"""

from __future__ import annotations

import asyncio

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine


def require_empty(database_url: str) -> None:
    async def tables() -> list[str]:
        engine = create_async_engine(database_url)
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: inspect(c).get_table_names())
        await engine.dispose()
        return names

    if asyncio.run(tables()):
        raise SystemExit(
            f"{database_url} has tables: give an empty database "
            "(for PostgreSQL: DROP SCHEMA public CASCADE; CREATE SCHEMA public;)"
        )
