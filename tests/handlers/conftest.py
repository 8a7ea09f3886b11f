from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.inbound import InboundPipeline
from bot.media import MediaStore
from db.directory import sync_directory
from handlers.alerts import OfficeAlerts
from handlers.neighbor import Dialog
from handlers.texts import Texts
from handlers.tips import Tips
from routing.understand import DEFAULT_DATA_DIR, Understander
from tests.doubles.neighbor import Neighbor, make_pipeline


@pytest.fixture(scope="session")
def texts() -> Texts:
    return Texts.from_dir(DEFAULT_DATA_DIR)


@pytest.fixture(scope="session")
def dialog(understander: Understander, texts: Texts) -> Dialog:
    alerts = OfficeAlerts(texts, understander.directory, understander.timezone)
    return Dialog(texts, understander, Tips.from_dir(DEFAULT_DATA_DIR), alerts)


@pytest.fixture
async def db(
    sessions: async_sessionmaker[AsyncSession], understander: Understander
) -> async_sessionmaker[AsyncSession]:
    """A migrated database with the office directory in it."""
    async with sessions.begin() as session:
        await sync_directory(session, understander.directory)
    return sessions


@pytest.fixture
def pipeline(db: async_sessionmaker[AsyncSession], dialog: Dialog, tmp_path: Path) -> InboundPipeline:
    return make_pipeline(db, dialog, MediaStore(tmp_path / "media"))


@pytest.fixture
def new_neighbor(
    pipeline: InboundPipeline, db: async_sessionmaker[AsyncSession], tuesday_morning: datetime
) -> Callable[..., Neighbor]:
    """A factory of neighbors writing on Tuesday at 11:00 (offices open)."""
    counter = iter(range(1, 1000))

    def make(address: str | None = None, *, clock: datetime = tuesday_morning, **kwargs: object) -> Neighbor:
        return Neighbor(pipeline, db, address or f"+5691234{next(counter):04d}", clock=clock, **kwargs)  # type: ignore[arg-type]

    return make
