"""The migrations build exactly the models' schema, and go down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from db.engine import create_engine
from db.migrate import migrate
from db.models import Base

TABLES = {
    "alembic_version", "communes", "console_sessions", "conversations", "inbound_events", "messages",
    "neighbors", "notes", "offices", "officers", "outbox", "quick_replies", "rate_counts",
    "report_followers", "report_statuses", "reports", "sign_in_failures",
}  # fmt: skip


async def test_upgrade_creates_the_models_schema_and_downgrade_removes_it(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.connect() as connection:
            assert set(await connection.run_sync(lambda c: inspect(c).get_table_names())) == TABLES
            differences = await connection.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": False}), Base.metadata
                )
            )
        assert differences == [], "models and migrations differ: add a migration"

        await migrate(engine, "base")
        async with engine.connect() as connection:
            assert set(await connection.run_sync(lambda c: inspect(c).get_table_names())) <= {
                "alembic_version"
            }

        await migrate(engine)  # and up again
    finally:
        await engine.dispose()


async def test_migrating_twice_is_harmless(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        await migrate(engine)
    finally:
        await engine.dispose()
