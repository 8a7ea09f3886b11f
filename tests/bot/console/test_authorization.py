"""Who may do what, for every console page and every API endpoint (the issue's matrix).

For each role (officer, office admin, supervisor), every endpoint is called on its own
office's things, on another office of the same prefecture, and on another prefecture's.
A call is either allowed (whatever its answer to the input: 200, 303, 400), refused for
the role (403), or answered as if the thing did not exist (404); a refused call shows no
data of it and changes nothing. Without a session, pages send to the sign-in and the API
answers 401; without the CSRF token, nothing that changes anything is done.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.routing import Route

from bot.app import create_app
from bot.settings import Settings
from db.engine import create_engine, create_sessionmaker
from db.models import Conversation, Message, Note, Officer, QuickReply
from tests.bot.console.people import add_officer, csrf_of, neighbor_says, office_says, ready_officer

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
# Each scope's conversation, its office, and a word of it that must never leak.
SCOPES = {"own": ("rengo", "Aromos"), "near": ("machali", "Quillayes"), "far": ("pichilemu", "Boldos")}
PUBLIC = {"/console/login", "/console/logout", "/api/openapi.json", "/api/docs"}


@dataclass(frozen=True)
class Call:
    """One request of the matrix; `{c}`, `{m}`, `{o}`, `{q}`… are filled per scope (`World`)."""

    method: str
    path: str
    access: str  # "any", "read", "act", "admin" or "office" (figures of an office)
    body: dict[str, Any] | None = None

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def scoped(self) -> bool:
        return any(
            mark in self.path or mark in str(self.body)
            for mark in ("{c}", "{m}", "{o}", "{q}", "{q2}", "{office}")
        )


C = "/console/conversations/{c}"
A = "/api/conversations/{c}"
MATRIX = [
    Call("GET", "/console", "any"),
    Call("GET", "/console/password", "any"),
    Call("POST", "/console/password", "any", {"password": "corta", "repeat": "corta"}),
    Call("GET", C, "read"),
    Call("GET", "/console/media/{m}", "read"),
    Call("POST", f"{C}/take", "act", {}),
    Call("POST", f"{C}/reply", "act", {"text": "Buenas tardes"}),
    Call("POST", f"{C}/note", "act", {"text": "nota interna"}),
    Call("POST", f"{C}/transfer", "act", {"office": "{office}", "reason": "prueba"}),  # to itself: 400
    Call("POST", f"{C}/close", "act", {"outcome": "no-existe"}),  # a bad outcome: 400, nothing closed
    Call("POST", f"{C}/report-status", "act", {"status": "in_progress"}),  # no report here: 400
    Call("GET", "/console/account", "any"),
    Call("POST", "/console/account/link-code", "any", {}),
    Call("POST", "/console/account/unlink", "any", {}),
    Call("GET", "/console/admin", "admin"),
    Call("POST", "/console/admin/officers", "admin", {"name": "Cabo Nuevo", "email": "nuevo@carabineros.cl"}),
    Call("POST", "/console/admin/officers/{o}/reset", "admin", {}),
    Call("POST", "/console/admin/officers/{o}/active", "admin", {"active": "0"}),
    Call("POST", "/console/admin/officers/{o}/on-call", "admin", {"on_call": "1"}),
    Call("POST", "/console/admin/hours", "admin", {"opens-0-0": "08:30", "closes-0-0": "17:00"}),
    Call("POST", "/console/admin/quick-replies", "admin", {"title": "Saludo", "text": "Buenas tardes"}),
    Call("POST", "/console/admin/quick-replies/{q}/delete", "admin", {}),
    Call("GET", "/console/figures", "any"),
    Call("GET", "/console/figures?office={office}", "office"),
    Call("GET", "/api/me", "any"),
    Call("GET", "/api/conversations", "any"),
    Call("GET", A, "read"),
    Call("POST", f"{A}/take", "act", {}),
    Call("POST", f"{A}/reply", "act", {"text": "Buenas tardes"}),
    Call("POST", f"{A}/note", "act", {"text": "nota interna"}),
    Call("POST", f"{A}/transfer", "act", {"office": "{office}", "reason": "prueba"}),
    Call("POST", f"{A}/close", "act", {"outcome": "no-existe"}),
    Call("POST", f"{A}/report-status", "act", {"status": "in_progress"}),
    Call("GET", "/api/offices", "any"),
    Call("GET", "/api/quick-replies", "any"),
    Call("POST", "/api/quick-replies", "admin", {"title": "Saludo", "text": "Buenas tardes"}),
    Call("DELETE", "/api/quick-replies/{q2}", "admin"),
    Call("GET", "/api/officers", "admin"),
    Call("POST", "/api/officers", "admin", {"name": "Cabo Otro", "email": "otro@carabineros.cl"}),
    Call("POST", "/api/officers/{o}/reset-password", "admin"),
    Call("PUT", "/api/officers/{o}/active", "admin", {"active": False}),
    Call("PUT", "/api/officers/{o}/on-call", "admin", {"on_call": True}),
    Call("GET", "/api/office/hours", "any"),
    Call("PUT", "/api/office/hours", "admin", {"hours": ["lun-vie 08:30-17:00"]}),
    Call("POST", "/api/account/link-code", "any"),
    Call("DELETE", "/api/account/link", "any"),
    Call("GET", "/api/figures", "any"),
    Call("GET", "/api/figures?office={office}", "office"),
]


def sees(role: str, scope: str) -> bool:
    return scope == "own" or (scope == "near" and role == "supervisor")


def expected(call: Call, role: str, scope: str) -> str:
    """ "allowed", 403 or 404 for `role` calling `call` on `scope`'s things."""
    if call.access in ("read", "office"):
        return "allowed" if sees(role, scope) else "404"
    if call.access == "act":
        if not sees(role, scope):
            return "404"
        return "403" if role == "supervisor" else "allowed"
    if call.access == "admin":
        if role != "admin":
            return "403"
        return "allowed" if scope == "own" else "404"
    return "allowed"


@dataclass
class World:
    """The things each scope's calls are about."""

    ids: dict[str, dict[str, str]]  # scope -> placeholder -> value

    def fill(self, call: Call, scope: str) -> tuple[str, dict[str, Any] | None]:
        values = self.ids[scope]
        path = call.path.format(**values)
        body = call.body and {
            k: v.format(**values) if isinstance(v, str) else v for k, v in call.body.items()
        }
        return path, body


@pytest.fixture
async def app_client(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    settings = Settings(_env_file=None, database_url=database_url, media_dir=tmp_path / "media")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vecinos.test") as client:
            yield client, app


async def build_world(client: httpx.AsyncClient, database_url: str) -> World:
    """A waiting conversation with a photo in each scope's office; accounts and quick replies in each."""
    for office, word in SCOPES.values():
        token = f"token-{office}-{'x' * 16}"
        await neighbor_says(client, token, f"quiero hablar con alguien del pasaje {word}")
        await neighbor_says(client, token, office)
        await office_says(client, token, "quedó en la fila")
        photo = {"token": token, "client_id": f"photo-{office}-1"}
        response = await client.post(
            "/chat/api/photos", data=photo, files={"file": ("a.png", PNG, "image/png")}
        )
        assert response.status_code == 202
    for scope, (office, _) in SCOPES.items():
        await add_officer(
            database_url, f"colega-{scope}@carabineros.cl", office=office, name=f"Colega {scope}"
        )
    engine = create_engine(database_url)
    ids: dict[str, dict[str, str]] = {}
    async with create_sessionmaker(engine).begin() as session:
        for scope, (office, _) in SCOPES.items():
            conversation = (
                await session.execute(select(Conversation).where(Conversation.office_id == office))
            ).scalar_one()
            media = await session.scalar(
                select(Message.id).where(
                    Message.conversation_id == conversation.id, Message.media_ref.is_not(None)
                )
            )
            officer = await session.scalar(
                select(Officer.id).where(Officer.email == f"colega-{scope}@carabineros.cl")
            )
            quick_replies = [
                QuickReply(office_id=office, title=title, text=title, created_at=conversation.created_at)
                for title in ("Hola", "Chao")
            ]
            session.add_all(quick_replies)
            await session.flush()
            q, q2 = (str(r.id) for r in quick_replies)
            ids[scope] = {"c": str(conversation.id), "m": str(media), "o": str(officer), "q": q, "q2": q2}
            ids[scope]["office"] = office
    await engine.dispose()
    return World(ids)


async def call(client: httpx.AsyncClient, c: Call, path: str, body: Any, csrf: str | None) -> httpx.Response:
    if c.is_api:
        headers = {"X-CSRF-Token": csrf} if csrf else {}
        return await client.request(c.method, path, json=body if c.method != "GET" else None, headers=headers)
    if c.method == "GET":
        return await client.get(path)
    return await client.post(path, data={**(body or {}), **({"csrf": csrf} if csrf else {})})


@pytest.mark.parametrize("role", ["officer", "admin", "supervisor"])
async def test_every_endpoint_as_each_role_on_each_office(
    app_client: tuple[httpx.AsyncClient, Any], database_url: str, role: str
) -> None:
    client, _ = app_client
    world = await build_world(client, database_url)
    await ready_officer(client, database_url, f"{role}@carabineros.cl", office="rengo", role=role)
    csrf = (await client.get("/api/me")).json()["csrf_token"]
    hidden = [word for scope, (_, word) in SCOPES.items() if not sees(role, scope)]
    hidden += [f"colega-{scope}@carabineros.cl" for scope in ("near", "far")]

    for c in MATRIX:
        for scope in SCOPES if c.scoped else ["own"]:
            path, body = world.fill(c, scope)
            response = await call(client, c, path, body, csrf)
            want, got = expected(c, role, scope), response.status_code
            where = f"{role} {c.method} {path} ({scope}): {got} {response.text[:200]}"
            if want == "allowed":
                assert got < 500 and got not in (401, 403, 404), where
            else:
                assert got == int(want), where
            for word in hidden:
                assert word not in response.text, f"{where} shows {word}"

    # What the other offices' conversations went through changed nothing of them.
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        for scope in ("near", "far"):
            conversation = await session.get(Conversation, int(world.ids[scope]["c"]))
            assert (conversation.status, conversation.assigned_officer_id) == ("waiting", None)
            notes = await session.scalar(select(func.count()).where(Note.conversation_id == conversation.id))
            officer_messages = await session.scalar(
                select(func.count()).where(
                    Message.conversation_id == conversation.id, Message.author == "officer"
                )
            )
            assert (notes, officer_messages) == (0, 0)
            colleague = await session.get(Officer, int(world.ids[scope]["o"]))
            assert colleague.active and colleague.password_hash and not colleague.on_call
            for quick_reply in ("q", "q2"):
                assert await session.get(QuickReply, int(world.ids[scope][quick_reply])) is not None
    await engine.dispose()


async def test_without_a_session_pages_send_to_sign_in_and_the_api_answers_401(
    app_client: tuple[httpx.AsyncClient, Any], database_url: str
) -> None:
    client, _ = app_client
    world = await build_world(client, database_url)
    for c in MATRIX:
        path, body = world.fill(c, "own")
        response = await call(client, c, path, body, csrf=None)
        if c.is_api:
            assert response.status_code == 401, f"{c.method} {path}"
            assert response.json()["code"] == "sign_in"
        else:
            assert (response.status_code, response.headers["location"]) == (303, "/console/login"), path
        assert "Aromos" not in response.text


async def test_nothing_changes_without_the_csrf_token(
    app_client: tuple[httpx.AsyncClient, Any], database_url: str
) -> None:
    client, _ = app_client
    world = await build_world(client, database_url)
    await ready_officer(client, database_url, "admin@carabineros.cl", office="rengo", role="admin")
    page = await client.get("/console")
    for c in MATRIX:
        if c.method == "GET":
            continue
        path, body = world.fill(c, "own")
        for token in (None, "forjado"):
            response = await call(client, c, path, body, csrf=token)
            assert response.status_code == 403, f"{c.method} {path}: {response.status_code}"
    assert (await client.get("/console")).status_code == 200  # still signed in
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        conversation = await session.get(Conversation, int(world.ids["own"]["c"]))
        assert (conversation.status, conversation.assigned_officer_id) == ("waiting", None)
        assert await session.scalar(select(func.count()).select_from(Note)) == 0
        assert await session.scalar(select(func.count()).select_from(QuickReply)) == 6
        assert await session.scalar(select(func.count()).where(Officer.active.is_(True))) == 4
    await engine.dispose()
    assert csrf_of(page)


def test_the_matrix_covers_every_console_and_api_route(tmp_path: Path) -> None:
    app = create_app(Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'v.db'}"))
    world = World({"own": {"c": "1", "m": "1", "o": "1", "q": "1", "q2": "2", "office": "rengo"}})
    covered: set[tuple[str, str]] = set()
    for c in MATRIX:
        path = world.fill(c, "own")[0].split("?")[0]
        for route in app.routes:
            if isinstance(route, Route) and c.method in route.methods and route.path_regex.match(path):
                covered.add((c.method, route.path))
    routes = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        and route.path.startswith(("/console", "/api/"))
        and route.path not in PUBLIC
        for method in route.methods - {"HEAD"}
    }
    assert routes - covered == set()
