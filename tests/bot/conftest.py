from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import create_app
from bot.settings import Settings


@pytest.fixture
async def client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to the real app (lifespan, dispatcher and all) on a fresh database."""
    settings = Settings(_env_file=None, database_url=database_url, media_dir=tmp_path / "media")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vecinos.test") as client:
            yield client
