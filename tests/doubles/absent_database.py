"""A PostgreSQL that is not there: a query to a closed local port, refused as in an outage."""

from __future__ import annotations

from sqlalchemy import text

from db.engine import create_engine
from tests.doubles.server import free_port


async def query_an_absent_database() -> None:
    """Raises what the driver raises when nothing listens (an `OSError`)."""
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/vecinos")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
