"""The two sides of the console's tests: officers signing in and clicking, neighbors writing.

Everything goes over HTTP to the real app, as a browser and the web chat page would.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.auth import hash_password
from db.engine import create_engine, create_sessionmaker
from db.officers import create_officer

PASSWORD = "una clave bien larga"
READY_PASSWORD = "clave-definitiva"


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


async def add_officer(
    database_url: str, email: str, office: str = "rengo", role: str = "officer", name: str = "Sargento Pérez"
) -> int:
    """An account straight in the database, as `vecinos officers add` makes it; its id."""
    engine = create_engine(database_url)
    async with create_sessionmaker(engine).begin() as session:
        officer = await create_officer(
            session, office_id=office, name=name, email=email, role=role,
            password_hash=hash_password(PASSWORD), now=datetime.now(UTC),
        )  # fmt: skip
    await engine.dispose()
    return officer.id


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    csrf = csrf_of(await client.get("/console/login"))
    return await client.post("/console/login", data={"csrf": csrf, "email": email, "password": password})


async def set_password(client: httpx.AsyncClient, password: str, repeat: str | None = None) -> httpx.Response:
    csrf = csrf_of(await client.get("/console/password"))
    data = {"csrf": csrf, "password": password, "repeat": password if repeat is None else repeat}
    return await client.post("/console/password", data=data)


async def ready_officer(
    client: httpx.AsyncClient, database_url: str, email: str, office: str = "rengo", role: str = "officer"
) -> int:
    """An officer signed in on `client`, past the first-time password; their id."""
    officer_id = await add_officer(database_url, email, office=office, role=role)
    await sign_in(client, email)
    await set_password(client, READY_PASSWORD)
    return officer_id


ALWAYS_OPEN = ["lun-dom 00:00-24:00"]


async def set_office_hours(
    client: httpx.AsyncClient, database_url: str, office: str, hours: list[str]
) -> None:
    """The office's admin (a new account, signed out afterwards) sets the office's hours."""
    email = f"admin-{office}-{secrets.token_hex(3)}@carabineros.cl"
    await ready_officer(client, database_url, email, office=office, role="admin")
    assert (await api_call(client, "PUT", "/api/office/hours", {"hours": hours})).status_code == 200
    await sign_out(client)


async def sign_out(client: httpx.AsyncClient) -> None:
    await client.post("/console/logout", data={"csrf": csrf_of(await client.get("/console/login"))})


async def post_form(client: httpx.AsyncClient, path: str, page: str, **fields: str) -> httpx.Response:
    """Submit a form of `page` to `path`, with the page's CSRF token."""
    return await client.post(path, data={"csrf": csrf_of(await client.get(page)), **fields})


async def api_token(client: httpx.AsyncClient) -> str:
    return (await client.get("/api/me")).json()["csrf_token"]


async def api_call(client: httpx.AsyncClient, method: str, path: str, body: Any = None) -> httpx.Response:
    """A JSON API call with the session's CSRF token, as the console's script makes it."""
    headers = {"X-CSRF-Token": await api_token(client)} if method != "GET" else {}
    return await client.request(method, path, json=body, headers=headers)


async def neighbor_waits(
    client: httpx.AsyncClient, commune: str, first: str = "quiero hablar con alguien"
) -> str:
    """A web-chat neighbor who asked to talk and gave their commune: their token."""
    token = secrets.token_hex(16)
    for text in (first, commune):
        await neighbor_says(client, token, text)
    return token


async def neighbor_says(client: httpx.AsyncClient, token: str, text: str = "", **extra: Any) -> None:
    body = {"token": token, "client_id": str(uuid.uuid4()), "text": text, **extra}
    assert (await client.post("/chat/api/messages", json=body)).status_code == 202


async def first_conversation(client: httpx.AsyncClient, view: str = "waiting") -> int:
    """The id of the first conversation of the signed-in officer's view."""
    return (await client.get("/api/conversations", params={"view": view})).json()["items"][0]["id"]


async def poll(client: httpx.AsyncClient, token: str, after: int = 0) -> list[dict]:
    response = await client.get(
        "/chat/api/messages",
        params={"after": after, "wait": 10},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.json()["messages"]


async def office_replies(client: httpx.AsyncClient, token: str, count: int) -> list[dict]:
    """The neighbor's page: waits (server side) until `count` office messages arrived."""
    seen: list[dict] = []
    while len([m for m in seen if m["direction"] == "out"]) < count:
        batch = await poll(client, token, seen[-1]["id"] if seen else 0)
        assert batch, "nothing arrived within the long poll"
        seen += batch
    return [m for m in seen if m["direction"] == "out"]


async def replies_until(client: httpx.AsyncClient, token: str, needle: str) -> list[dict]:
    """The office's messages up to the first one containing `needle`, long-polling for it.

    Replies are shown as each is sent, one after the other: counting them is racy, a
    message that ends a step is not.
    """
    seen: list[dict] = []
    while not any(m["direction"] == "out" and needle in m["text"] for m in seen):
        batch = await poll(client, token, seen[-1]["id"] if seen else 0)
        assert batch, f"no message with {needle!r} within the long poll"
        seen += batch
    out = [m for m in seen if m["direction"] == "out"]
    return out[: next(i for i, m in enumerate(out) if needle in m["text"]) + 1]


async def office_says(client: httpx.AsyncClient, token: str, needle: str) -> str:
    """The first office message containing `needle`, long-polling until it arrives."""
    after = 0
    for _ in range(5):
        batch = await poll(client, token, after)
        for message in batch:
            if message["direction"] == "out" and needle in message["text"]:
                return message["text"]
        after = batch[-1]["id"] if batch else after
    raise AssertionError(f"no message with {needle!r}")
