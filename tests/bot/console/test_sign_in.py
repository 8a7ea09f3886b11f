"""Sign-in throttling is counted in the database: two workers count the same failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import create_app
from bot.settings import Settings
from tests.bot.console.people import PASSWORD, add_officer, sign_in


@pytest.fixture
async def two_workers(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
    """Two apps on one database, as `vecinos serve` runs behind a load balancer."""
    clients = []
    apps = [
        create_app(Settings(_env_file=None, database_url=database_url, media_dir=tmp_path / f"m{n}"))
        for n in range(2)
    ]
    async with apps[0].router.lifespan_context(apps[0]), apps[1].router.lifespan_context(apps[1]):
        for app in apps:
            transport = httpx.ASGITransport(app=app)
            clients.append(httpx.AsyncClient(transport=transport, base_url="http://vecinos.test"))
        yield tuple(clients)
        for client in clients:
            await client.aclose()


async def test_failures_on_any_worker_count_and_a_success_forgets_them(
    two_workers: tuple[httpx.AsyncClient, ...], database_url: str
) -> None:
    first, second = two_workers
    await add_officer(database_url, "perez@carabineros.cl")
    for client in (first, second, first, second):
        assert (await sign_in(client, "perez@carabineros.cl", "adivinando")).status_code == 401
    assert (await sign_in(first, "perez@carabineros.cl")).status_code == 303  # the fourth was not the limit
    for client in (second, first, second, first, second):
        assert (await sign_in(client, "perez@carabineros.cl", "adivinando")).status_code == 401
    for client in (first, second):
        blocked = await sign_in(client, "perez@carabineros.cl")  # even the right password, for a while
        assert blocked.status_code == 429 and "15 minutos" in blocked.text


async def test_guessing_across_many_accounts_from_one_address_is_throttled(
    two_workers: tuple[httpx.AsyncClient, ...], database_url: str
) -> None:
    first, second = two_workers
    await add_officer(database_url, "perez@carabineros.cl")
    for n in range(30):
        client = (first, second)[n % 2]
        assert (await sign_in(client, f"alguien{n}@carabineros.cl", PASSWORD)).status_code == 401
    assert (await sign_in(first, "perez@carabineros.cl")).status_code == 429
