"""Console sessions live in the database: signing out ends one for good, and none outlives 12 h."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update

from db.engine import create_engine, create_sessionmaker
from db.models import ConsoleSession
from tests.bot.console.people import READY_PASSWORD, ready_officer, sign_in, sign_out

COOKIE = "vecinos_console"


def browser_with(client: httpx.AsyncClient, cookie: str) -> httpx.AsyncClient:
    """Another browser on the same app, holding a copy of `cookie` (as a thief would)."""
    other = httpx.AsyncClient(transport=client._transport, base_url="http://vecinos.test")
    other.cookies.set(COOKIE, cookie, domain="vecinos.test")
    return other


async def session_rows(database_url: str) -> list[ConsoleSession]:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return list((await session.execute(select(ConsoleSession))).scalars())
    finally:
        await engine.dispose()


async def test_a_cookie_replayed_after_sign_out_opens_nothing(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await ready_officer(client, database_url, "perez@carabineros.cl")
    stolen = client.cookies[COOKIE]
    async with browser_with(client, stolen) as thief:
        assert (await thief.get("/api/me")).status_code == 200  # the copy works while the session lasts

        await sign_out(client)
        assert await session_rows(database_url) == []
        assert (await thief.get("/console")).headers["location"] == "/console/login"
        me = await thief.get("/api/me")
        assert (me.status_code, me.json()["code"]) == (401, "sign_in")


async def test_signing_out_ends_only_that_session(client: httpx.AsyncClient, database_url: str) -> None:
    await ready_officer(client, database_url, "perez@carabineros.cl")
    first = client.cookies[COOKIE]
    async with browser_with(client, first) as same:
        client.cookies.clear()
        assert (await sign_in(client, "perez@carabineros.cl", READY_PASSWORD)).headers[
            "location"
        ] == "/console"
        assert len(await session_rows(database_url)) == 2

        await sign_out(same)  # the first session
        assert (await same.get("/console")).headers["location"] == "/console/login"
        assert (await client.get("/console")).status_code == 200  # the other goes on


async def test_a_session_ends_12_hours_after_signing_in_however_used(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await ready_officer(client, database_url, "perez@carabineros.cl")
    (row,) = await session_rows(database_url)
    assert row.expires_at - row.created_at == timedelta(hours=12)

    for _ in range(3):  # using it does not make it last longer
        assert (await client.get("/console")).status_code == 200
    assert (await session_rows(database_url))[0].expires_at == row.expires_at

    engine = create_engine(database_url)  # twelve hours later
    async with create_sessionmaker(engine).begin() as session:
        await session.execute(
            update(ConsoleSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    await engine.dispose()
    assert (await client.get("/console")).headers["location"] == "/console/login"
    assert (await client.get("/api/me")).status_code == 401
