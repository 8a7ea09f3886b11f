"""The anonymous web chat's limits, through two app instances (two workers) on one database."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette

from bot.app import create_app
from bot.channels.webchat_quotas import (
    ADDRESS_NEW_TOKENS_PER_HOUR,
    MESSAGES_PER_MINUTE,
    PHOTOS_PER_HOUR,
)
from bot.settings import Settings
from db.engine import create_engine
from handlers.texts import Texts
from routing.understand import DEFAULT_DATA_DIR

TEXTS = Texts.from_dir(DEFAULT_DATA_DIR)
UNSENT = text("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200


@contextlib.asynccontextmanager
async def two_workers(
    database_url: str, media_dir: Path, media_quota_mb: int
) -> AsyncIterator[list[Starlette]]:
    """Two apps (two workers) on one database and one media folder, running."""
    settings = Settings(
        _env_file=None, database_url=database_url, media_dir=media_dir, media_quota_mb=media_quota_mb
    )
    async with contextlib.AsyncExitStack() as running:
        apps = [create_app(settings), create_app(settings)]
        for app in apps:
            await running.enter_async_context(app.router.lifespan_context(app))
        yield apps
        # Two apps on one SQLite file hang at shutdown while replies are still being sent
        # (already so before these limits): let the dispatchers finish first.
        await outbox_drained(database_url)


async def outbox_drained(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        while True:
            async with engine.connect() as connection:
                if not await connection.scalar(UNSENT):
                    return
            await asyncio.sleep(0.05)  # polling a condition: the dispatchers are in the apps
    finally:
        await engine.dispose()


# A lifespan is entered and left in the fixture's own task (its anyio scopes require it).
@pytest.fixture
async def workers(database_url: str, tmp_path: Path) -> AsyncIterator[list[Starlette]]:
    async with two_workers(database_url, tmp_path / "media", 2048) as apps:
        yield apps


@pytest.fixture
async def workers_with_1_mb(database_url: str, tmp_path: Path) -> AsyncIterator[list[Starlette]]:
    async with two_workers(database_url, tmp_path / "media", 1) as apps:
        yield apps


def browser(app: Starlette, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A neighbor's browser at `address`, talking to the worker `app`."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://vecinos.test")


async def say(client: httpx.AsyncClient, token: str, text: str = "hola") -> httpx.Response:
    body = {"token": token, "client_id": str(uuid.uuid4()), "text": text}
    return await client.post("/chat/api/messages", json=body)


async def send_photo(client: httpx.AsyncClient, token: str, data: bytes = JPEG) -> httpx.Response:
    form = {"token": token, "client_id": str(uuid.uuid4())}
    return await client.post("/chat/api/photos", data=form, files={"file": ("foto.jpg", data, "image/jpeg")})


async def test_a_token_over_its_limit_is_told_to_wait_by_every_worker(workers) -> None:
    one, two = (browser(app) for app in workers)
    token = secrets.token_hex(16)
    for n in range(MESSAGES_PER_MINUTE.amount):  # a burst, half through each worker
        assert (await say(one if n % 2 else two, token, f"mensaje {n}")).status_code == 202

    refused = await say(two, token, "uno más")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 120
    assert refused.json() == {"error": TEXTS("webchat.too_many_messages")}
    assert "133" in refused.json()["error"]  # whoever is in danger learns where to call at once
    assert (await say(one, token, "otro más")).status_code == 429

    assert (await say(one, secrets.token_hex(16))).status_code == 202  # another neighbor goes on
    transcript = (await one.get("/chat/api/messages", headers={"Authorization": f"Bearer {token}"})).json()[
        "messages"
    ]
    assert [m["text"] for m in transcript if m["direction"] == "in"] == [
        f"mensaje {n}" for n in range(MESSAGES_PER_MINUTE.amount)
    ]  # nothing refused was stored


async def test_new_tokens_do_not_buy_new_limits_from_one_address(workers) -> None:
    one, two = (browser(app, "203.0.113.9") for app in workers)
    for n in range(ADDRESS_NEW_TOKENS_PER_HOUR.amount):
        assert (await say(one if n % 2 else two, secrets.token_hex(16))).status_code == 202
    refused = await say(one, secrets.token_hex(16))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert (await say(browser(workers[1], "198.51.100.4"), secrets.token_hex(16))).status_code == 202


async def test_photos_per_token_are_limited_and_a_refused_photo_is_not_kept(workers, tmp_path: Path) -> None:
    one, two = (browser(app) for app in workers)
    token = secrets.token_hex(16)
    for n in range(PHOTOS_PER_HOUR.amount):
        assert (await send_photo(one if n % 2 else two, token)).status_code == 202
    refused = await send_photo(one, token)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json() == {"error": TEXTS("webchat.too_many_photos")}
    assert len(list((tmp_path / "media").iterdir())) == PHOTOS_PER_HOUR.amount
    assert (await say(two, token, "pero puedo escribir")).status_code == 202


async def test_no_photo_is_taken_once_the_media_folder_is_full(workers_with_1_mb, tmp_path: Path) -> None:
    one, two = (browser(app) for app in workers_with_1_mb)
    photo = JPEG + b"\x00" * 600 * 1024
    assert (await send_photo(one, secrets.token_hex(16), photo)).status_code == 202
    for worker in (one, two):  # the worker that saved it knows; the other one measures the folder
        full = await send_photo(worker, secrets.token_hex(16), photo)
        assert full.status_code == 507
        assert full.json() == {"error": TEXTS("webchat.storage_full")}
    assert len(list((tmp_path / "media").iterdir())) == 1
    assert (await say(two, secrets.token_hex(16))).status_code == 202  # words still get through
