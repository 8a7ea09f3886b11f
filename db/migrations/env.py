"""Alembic environment: runs on the connection `db.migrate` hands in (connection sharing).

From the command line: `alembic -c db/alembic.ini revision --autogenerate -m "..."` with
DATABASE_URL set.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from db.engine import create_engine
from db.models import Base, UTCDateTime


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our UTC datetime column as the plain DateTime it is stored as."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_command_line() -> None:
    engine = create_engine(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///vecinos.db"))
    async with engine.begin() as connection:
        await connection.run_sync(run)
    await engine.dispose()


shared = context.config.attributes.get("connection")
if shared is not None:
    run(shared)
else:
    asyncio.run(run_from_command_line())
