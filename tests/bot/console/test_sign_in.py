"""Sign-in throttling is counted in the database: two workers count the same failures.

Per account from one address (5), per account from anywhere (10), per address (50), in
15 minutes; the current password asked by a password change counts in the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import create_app
from bot.settings import Settings
from tests.bot.console.people import (
    PASSWORD,
    READY_PASSWORD,
    add_officer,
    csrf_of,
    ready_officer,
    sign_in,
)


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
    for n in range(50):
        client = (first, second)[n % 2]
        assert (await sign_in(client, f"alguien{n}@carabineros.cl", PASSWORD)).status_code == 401
    assert (await sign_in(first, "perez@carabineros.cl")).status_code == 429


def browser_at(client: httpx.AsyncClient, address: str) -> httpx.AsyncClient:
    """A browser at another address, on the same app as `client`."""
    app = client._transport.app
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://vecinos.test")


async def test_guessing_one_account_from_many_addresses_stops_at_10(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await add_officer(database_url, "perez@carabineros.cl")
    for n in range(5):  # two guesses from each of five addresses: none reaches its own 5
        async with browser_at(client, f"198.51.100.{n}") as guesser:
            for _ in range(2):
                assert (await sign_in(guesser, "perez@carabineros.cl", "adivinando")).status_code == 401
    async with browser_at(client, "203.0.113.9") as officer:  # a new address, the right password
        blocked = await sign_in(officer, "perez@carabineros.cl")
        assert blocked.status_code == 429 and "15 minutos" in blocked.text
        assert (await sign_in(officer, "otra@carabineros.cl", "adivinando")).status_code == 401


async def test_an_office_behind_one_address_is_not_locked_out_by_its_typos(
    client: httpx.AsyncClient, database_url: str
) -> None:
    emails = [f"cabo{n}@carabineros.cl" for n in range(8)]
    for email in emails:
        await add_officer(database_url, email)
    for email in emails:  # 32 typos from the office's one public address
        for _ in range(4):
            assert (await sign_in(client, email, "me-equivoque")).status_code == 401
    for email in emails:
        assert (await sign_in(client, email)).headers["location"] == "/console/password"


async def test_guessing_the_current_password_in_a_signed_in_session_is_throttled(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await ready_officer(client, database_url, "perez@carabineros.cl")
    csrf = csrf_of(await client.get("/console/password"))
    new = {"csrf": csrf, "password": "otra-clave-larga", "repeat": "otra-clave-larga"}
    for n in range(5):
        wrong = await client.post("/console/password", data={**new, "current": f"adivinando-{n}"})
        assert wrong.status_code == 400 and "actual no es correcta" in wrong.text
    blocked = await client.post("/console/password", data={**new, "current": READY_PASSWORD})
    assert blocked.status_code == 429 and "15 minutos" in blocked.text
    async with httpx.AsyncClient(transport=client._transport, base_url="http://vecinos.test") as other:
        assert (await sign_in(other, "perez@carabineros.cl", READY_PASSWORD)).status_code == 429  # one count
