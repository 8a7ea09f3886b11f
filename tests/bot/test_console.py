"""The console's sign-in and queue: who may see what, CSRF, throttling; and `vecinos officers add`."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.auth import hash_password
from db.engine import create_engine, create_sessionmaker
from db.models import Conversation
from db.officers import create_officer

PASSWORD = "una clave bien larga"


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


async def add_officer(database_url: str, email: str, office: str = "rengo", role: str = "officer") -> None:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine).begin() as session:
        await create_officer(
            session, office_id=office, name="Sargento Pérez", email=email, role=role,
            password_hash=hash_password(PASSWORD), now=datetime.now(UTC),
        )  # fmt: skip
    await engine.dispose()


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    csrf = csrf_of(await client.get("/console/login"))
    return await client.post("/console/login", data={"csrf": csrf, "email": email, "password": password})


async def set_password(client: httpx.AsyncClient, password: str, repeat: str | None = None) -> httpx.Response:
    csrf = csrf_of(await client.get("/console/password"))
    data = {"csrf": csrf, "password": password, "repeat": password if repeat is None else repeat}
    return await client.post("/console/password", data=data)


async def neighbor_waits(
    client: httpx.AsyncClient, commune: str, first: str = "quiero hablar con alguien"
) -> str:
    token = secrets.token_hex(16)
    for text in (first, commune):
        body = {"token": token, "client_id": str(uuid.uuid4()), "text": text}
        assert (await client.post("/chat/api/messages", json=body)).status_code == 202
    return token


async def test_signing_in_sets_the_password_then_shows_only_the_own_office(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await add_officer(database_url, "perez@carabineros.cl")
    rengo = await neighbor_waits(client, "rengo")
    machali = await neighbor_waits(client, "machali")
    urgent = await neighbor_waits(client, "rengo", first="hay un tipo con pistola afuera de mi casa")

    assert (await client.get("/console")).headers["location"] == "/console/login"
    response = await sign_in(client, "Perez@Carabineros.cl ")
    assert (response.status_code, response.headers["location"]) == (303, "/console/password")
    assert (await client.get("/console")).headers["location"] == "/console/password"

    short = await set_password(client, "corta")
    assert short.status_code == 400 and "al menos 10" in short.text
    assert (await set_password(client, "x" * 12, "y" * 12)).status_code == 400
    assert (await set_password(client, "nueva-clave-123")).headers["location"] == "/console"

    page = await client.get("/console")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "En espera (2)" in page.text and "Machalí" not in page.text
    first = page.text.index('class="conversation')
    assert "URGENTE" in page.text[first : page.text.index("</li>", first)]  # urgent first
    for token in (rengo, machali, urgent):
        assert token not in page.text  # a neighbor's address appears nowhere

    await client.post("/console/logout", data={"csrf": csrf_of(page)})
    assert (await client.get("/console")).headers["location"] == "/console/login"
    assert (await sign_in(client, "perez@carabineros.cl", "nueva-clave-123")).headers[
        "location"
    ] == "/console"


async def test_a_supervisor_sees_the_prefecture(client: httpx.AsyncClient, database_url: str) -> None:
    await add_officer(database_url, "jefa@carabineros.cl", office="rengo", role="supervisor")
    await neighbor_waits(client, "machali")
    await neighbor_waits(client, "pichilemu")  # Colchagua: not hers
    await sign_in(client, "jefa@carabineros.cl")
    await set_password(client, "p" * 12)
    page = await client.get("/console")
    assert "En espera (1)" in page.text and "Machalí" in page.text and "Pichilemu" not in page.text


async def test_forms_without_the_csrf_token_are_refused(client: httpx.AsyncClient, database_url: str) -> None:
    await add_officer(database_url, "perez@carabineros.cl")
    await client.get("/console/login")
    for data in ({}, {"csrf": "forged"}):
        fields = {**data, "email": "perez@carabineros.cl", "password": PASSWORD}
        assert (await client.post("/console/login", data=fields)).status_code == 403


async def test_sign_in_is_throttled_after_five_failures(client: httpx.AsyncClient, database_url: str) -> None:
    await add_officer(database_url, "perez@carabineros.cl")
    for _ in range(5):
        assert (await sign_in(client, "perez@carabineros.cl", "adivinando")).status_code == 401
    blocked = await sign_in(client, "perez@carabineros.cl")  # even the right password, for a while
    assert blocked.status_code == 429 and "15 minutos" in blocked.text


def vecinos(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=60, check=False)


def test_officers_add_prints_a_one_time_password(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"DATABASE_URL=sqlite+aiosqlite:///{tmp_path / 'v.db'}\n", encoding="utf-8"
    )
    args = (
        "officers",
        "add",
        "--office",
        "rengo",
        "--name",
        "Sargento Pérez",
        "--email",
        "perez@carabineros.cl",
    )
    done = vecinos(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "funcionario de Oficina de Integración Comunitaria Rengo" in done.stdout
    assert re.search(r"un solo uso.*: \S{12,}", done.stdout)
    again = vecinos(*args, cwd=tmp_path)
    assert again.returncode == 2 and "Ya existe una cuenta" in again.stderr


@pytest.mark.parametrize(
    ("office", "email", "complaint"),
    [("atlantida", "x@carabineros.cl", "No existe la oficina"), ("rengo", "no-es-correo", "no es válido")],
)
def test_officers_add_refuses_bad_input(tmp_path: Path, office: str, email: str, complaint: str) -> None:
    (tmp_path / ".env").write_text(
        f"DATABASE_URL=sqlite+aiosqlite:///{tmp_path / 'v.db'}\n", encoding="utf-8"
    )
    done = vecinos("officers", "add", "--office", office, "--name", "X", "--email", email, cwd=tmp_path)
    assert done.returncode == 2 and complaint in done.stderr


async def ready_officer(
    client: httpx.AsyncClient, database_url: str, email: str, office: str = "rengo"
) -> None:
    """An officer signed in, past the first-time password."""
    await add_officer(database_url, email, office=office)
    await sign_in(client, email)
    await set_password(client, "clave-definitiva")


async def first_conversation(client: httpx.AsyncClient) -> int:
    """The id of the first conversation of the signed-in officer's waiting view."""
    page = await client.get("/console")
    return int(re.search(r'/console/conversations/(\d+)"', page.text).group(1))


async def poll(client: httpx.AsyncClient, token: str, after: int = 0) -> list[dict]:
    response = await client.get("/chat/api/messages", params={"token": token, "after": after, "wait": 10})
    return response.json()["messages"]


async def office_replies(client: httpx.AsyncClient, token: str, count: int) -> list[dict]:
    """The neighbor's page: waits (server side) until `count` officer messages arrived."""
    seen: list[dict] = []
    while len([m for m in seen if m["direction"] == "out"]) < count:
        batch = await poll(client, token, seen[-1]["id"] if seen else 0)
        assert batch, "nothing arrived within the long poll"
        seen += batch
    return [m for m in seen if m["direction"] == "out"]


async def test_an_officer_takes_replies_and_closes_and_no_reopens(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await neighbor_waits(client, "rengo")
    before = len(await office_replies(client, token, 3))  # welcome, question, queued
    await ready_officer(client, database_url, "perez@carabineros.cl")
    queue = await client.get("/console")
    conversation_id = int(re.search(r'/console/conversations/(\d+)"', queue.text).group(1))
    here = f"/console/conversations/{conversation_id}"

    page = await client.get(here)
    assert "quiero hablar con alguien" in page.text and "Comuna: Rengo" in page.text
    assert "El vecino no compartió su número." in page.text
    csrf = csrf_of(page)
    await client.post(f"{here}/take", data={"csrf": csrf})
    assert "Estado: abierta" in (await client.get(here)).text

    await client.post(f"{here}/reply", data={"csrf": csrf, "text": "Buenas tardes, soy el sargento Pérez."})
    replies = await office_replies(client, token, before + 1)
    assert replies[-1]["text"] == "Buenas tardes, soy el sargento Pérez."
    assert "entrega: sent" in (await client.get(here)).text  # the console shows delivery

    missing = await client.post(f"{here}/close", data={"csrf": csrf, "outcome": "derived", "derived_to": ""})
    assert "error=derived_needs_to" in missing.headers["location"]
    await client.post(
        f"{here}/close", data={"csrf": csrf, "outcome": "derived", "derived_to": "Municipalidad de Rengo"}
    )
    told, question = (await office_replies(client, token, before + 3))[-2:]
    assert "derivó su caso a: Municipalidad de Rengo" in told["text"]
    assert [o["label"] for o in question["options"]] == ["Sí", "No"]
    assert "En espera (0)" in (await client.get("/console")).text

    body = {"token": token, "client_id": str(uuid.uuid4()), "text": "No", "option": "2"}
    await client.post("/chat/api/messages", json=body)
    assert "volvió a la fila" in (await office_replies(client, token, before + 4))[-1]["text"]
    assert "En espera (1)" in (await client.get("/console")).text


async def test_another_offices_conversation_is_404_and_untouched(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await neighbor_waits(client, "rengo")
    await ready_officer(client, database_url, "rengo@carabineros.cl")
    conversation_id = await first_conversation(client)
    await client.post("/console/logout", data={"csrf": csrf_of(await client.get("/console"))})

    await ready_officer(client, database_url, "machali@carabineros.cl", office="machali")
    here = f"/console/conversations/{conversation_id}"
    page = await client.get(here)
    assert page.status_code == 404 and "quiero hablar con alguien" not in page.text
    csrf = csrf_of(page)
    for action, data in (("take", {}), ("reply", {"text": "hola"}), ("close", {"outcome": "resolved"})):
        assert (await client.post(f"{here}/{action}", data={"csrf": csrf, **data})).status_code == 404
    assert (await client.get("/console/media/1")).status_code == 404
    assert (await client.get("/console/conversations/99999")).status_code == 404

    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        conversation = await session.get(Conversation, conversation_id)
    await engine.dispose()
    assert (conversation.status, conversation.assigned_officer_id) == ("waiting", None)


async def test_actions_without_the_csrf_token_are_refused(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await neighbor_waits(client, "rengo")
    await ready_officer(client, database_url, "perez@carabineros.cl")
    conversation_id = await first_conversation(client)
    response = await client.post(f"/console/conversations/{conversation_id}/reply", data={"text": "hola"})
    assert response.status_code == 403


async def test_views_and_their_live_json(client: httpx.AsyncClient, database_url: str) -> None:
    assert (await client.get("/console/api/queue")).status_code == 401
    await neighbor_waits(client, "rengo")
    await neighbor_waits(client, "quinta de tilcoco")
    await ready_officer(client, database_url, "perez@carabineros.cl")
    live = (await client.get("/console/api/queue")).json()
    assert live["counts"] == {"waiting": 2, "mine": 0, "open": 0, "closed": 0}
    taken = live["items"][0]["id"]
    page = await client.get(f"/console/conversations/{taken}")
    await client.post(f"/console/conversations/{taken}/take", data={"csrf": csrf_of(page)})
    mine = (await client.get("/console/api/queue", params={"view": "mine"})).json()
    assert [i["id"] for i in mine["items"]] == [taken] and mine["labels"]["waiting"] == "En espera (1)"
    assert "Mías (1)" in (await client.get("/console?view=mine")).text


async def test_notes_stay_internal_and_a_transfer_tells_the_neighbor(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await neighbor_waits(client, "rengo")
    before = len(await office_replies(client, token, 3))
    await ready_officer(client, database_url, "perez@carabineros.cl")
    conversation_id = await first_conversation(client)
    here = f"/console/conversations/{conversation_id}"
    csrf = csrf_of(await client.get(here))

    await client.post(f"{here}/note", data={"csrf": csrf, "text": "Vecina conocida, vive sola."})
    assert "Vecina conocida, vive sola." in (await client.get(here)).text
    missing = await client.post(f"{here}/transfer", data={"csrf": csrf, "office": "machali", "reason": ""})
    assert "error=needs_reason" in missing.headers["location"]
    await client.post(
        f"{here}/transfer", data={"csrf": csrf, "office": "machali", "reason": "el caso es de su sector"}
    )
    told = (await office_replies(client, token, before + 1))[-1]["text"]
    assert "pasó a la Oficina de Integración Comunitaria Machalí: el caso es de su sector" in told
    assert "Vecina conocida" not in told  # notes are never sent
    assert (await client.get(here)).status_code == 404  # no longer Rengo's


async def test_a_report_status_reaches_its_author_and_followers(
    client: httpx.AsyncClient, database_url: str
) -> None:
    async def report(token: str) -> None:
        for text in ("hola", "rengo", "3", "1", "venden droga en la esquina del pasaje"):
            body = {"token": token, "client_id": str(uuid.uuid4()), "text": text}
            await client.post("/chat/api/messages", json=body)
        for message in (
            {"location": {"latitude": -34.4057, "longitude": -70.8563}},
            {"text": "1"},
            {"text": "1"},
        ):
            await client.post(
                "/chat/api/messages", json={"token": token, "client_id": str(uuid.uuid4()), **message}
            )

    author, follower = secrets.token_hex(16), secrets.token_hex(16)
    await report(author)
    await report(follower)  # offered the author's report instead of filing a duplicate…
    body = {"token": follower, "client_id": str(uuid.uuid4()), "text": "1"}  # …"1" follows it
    await client.post("/chat/api/messages", json=body)
    await office_says(client, follower, "le avisaremos por aquí")
    await ready_officer(client, database_url, "perez@carabineros.cl")
    conversation_id = await first_conversation(client)
    here = f"/console/conversations/{conversation_id}"
    page = await client.get(here)
    assert "Aviso N° 2026-" in page.text and "Estado del aviso: recibido" in page.text
    data = {"csrf": csrf_of(page), "status": "in_progress", "note": "Coordinamos rondas con el cuadrante."}
    await client.post(f"{here}/report", data=data)
    for token in (author, follower):
        told = await office_says(client, token, "está ahora: en gestión")
        assert told.endswith("está ahora: en gestión. Coordinamos rondas con el cuadrante.")


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
