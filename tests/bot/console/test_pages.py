"""The console's pages: sign-in, the queue and its views, a conversation and its actions."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from db.engine import create_engine, create_sessionmaker
from db.models import Conversation, Neighbor
from tests.bot.console.people import (
    PASSWORD,
    READY_PASSWORD,
    add_officer,
    csrf_of,
    first_conversation,
    neighbor_says,
    neighbor_waits,
    office_replies,
    office_says,
    post_form,
    ready_officer,
    replies_until,
    set_password,
    sign_in,
    sign_out,
)
from tests.conftest import SANTIAGO


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
    assert (await client.get("/api/me")).status_code == 401  # not before choosing a password

    short = await set_password(client, "corta")
    assert short.status_code == 400 and "al menos 12" in short.text and "muy corta" in short.text
    differ = await set_password(client, "x" * 12, "y" * 12)
    assert differ.status_code == 400 and "no coinciden" in differ.text
    assert (await set_password(client, "puerta-verde-del-patio")).headers["location"] == "/console"

    page = await client.get("/console")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "En espera (2)" in page.text and "Machalí" not in page.text
    first = page.text.index('class="conversation')
    assert "URGENTE" in page.text[first : page.text.index("</li>", first)]  # urgent first
    for token in (rengo, machali, urgent):
        assert token not in page.text  # a neighbor's address appears nowhere

    await client.post("/console/logout", data={"csrf": csrf_of(page)})
    assert (await client.get("/console")).headers["location"] == "/console/login"
    assert (await sign_in(client, "perez@carabineros.cl", PASSWORD)).status_code == 401  # the old one
    assert (await sign_in(client, "perez@carabineros.cl", "puerta-verde-del-patio")).headers[
        "location"
    ] == "/console"


async def test_changing_the_password_asks_for_the_current_one_and_ends_other_sessions(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await ready_officer(client, database_url, "perez@carabineros.cl")
    transport = client._transport  # a second browser, on the same app
    async with httpx.AsyncClient(transport=transport, base_url="http://vecinos.test") as other:
        await sign_in(other, "perez@carabineros.cl", READY_PASSWORD)
        assert (await other.get("/console")).status_code == 200

        page = await client.get("/console/password")
        assert 'name="current"' in page.text
        csrf = csrf_of(page)
        new = {"csrf": csrf, "password": "otra-clave-larga", "repeat": "otra-clave-larga"}
        wrong = await client.post("/console/password", data={**new, "current": "no-es-esta"})
        assert wrong.status_code == 400 and "actual no es correcta" in wrong.text
        done = await client.post("/console/password", data={**new, "current": READY_PASSWORD})
        assert done.headers["location"] == "/console"

        assert (await client.get("/console")).status_code == 200  # this session goes on
        assert (await other.get("/console")).headers["location"] == "/console/login"  # the other ended


async def test_a_supervisor_sees_the_prefecture_and_only_reads(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await add_officer(database_url, "jefa@carabineros.cl", office="rengo", role="supervisor")
    await neighbor_waits(client, "machali")
    await neighbor_waits(client, "pichilemu")  # Colchagua: not hers
    await sign_in(client, "jefa@carabineros.cl")
    await set_password(client, "mirador-del-cerro")
    page = await client.get("/console")
    assert "En espera (1)" in page.text and "Machalí" in page.text and "Pichilemu" not in page.text
    assert "acceso de lectura" in page.text
    conversation = await client.get(f"/console/conversations/{await first_conversation(client)}")
    assert conversation.status_code == 200 and "quiero hablar con alguien" in conversation.text
    assert "/reply" not in conversation.text and "/take" not in conversation.text


async def test_forms_without_the_csrf_token_are_refused(client: httpx.AsyncClient, database_url: str) -> None:
    await add_officer(database_url, "perez@carabineros.cl")
    await client.get("/console/login")
    for data in ({}, {"csrf": "forged"}):
        fields = {**data, "email": "perez@carabineros.cl", "password": PASSWORD}
        assert (await client.post("/console/login", data=fields)).status_code == 403


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


async def test_an_officer_takes_replies_and_closes_and_no_reopens(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await neighbor_waits(client, "rengo")
    before = len(await replies_until(client, token, "quedó en la fila"))  # welcome … queued
    await ready_officer(client, database_url, "perez@carabineros.cl")
    here = f"/console/conversations/{await first_conversation(client)}"

    page = await client.get(here)
    assert "quiero hablar con alguien" in page.text and "Comuna: Rengo" in page.text
    assert "Canal: chat web" in page.text
    assert "El vecino no compartió su número." in page.text and "Es su primera conversación." in page.text
    await post_form(client, f"{here}/take", here)
    assert (
        "Estado: abierta" in (page := await client.get(here)).text
        and "La atiende: Sargento Pérez" in page.text
    )

    empty = await post_form(client, f"{here}/reply", here, text="   ")
    assert empty.headers["location"] == f"{here}?error=empty_reply"
    assert "Escriba una respuesta antes de enviar." in (await client.get(empty.headers["location"])).text
    await post_form(client, f"{here}/reply", here, text="Buenas tardes, soy el sargento Pérez. 👮")
    replies = await office_replies(client, token, before + 1)
    assert replies[-1]["text"] == "Buenas tardes, soy el sargento Pérez. 👮"
    assert "entrega: enviado" in (await client.get(here)).text  # the console shows delivery

    missing = await post_form(client, f"{here}/close", here, outcome="derived", derived_to="")
    assert missing.headers["location"] == f"{here}?error=derived_needs_to"
    await post_form(client, f"{here}/close", here, outcome="derived", derived_to="Municipalidad de Rengo")
    told, question = (await office_replies(client, token, before + 3))[-2:]
    assert "derivó su caso a: Municipalidad de Rengo" in told["text"]
    assert [o["label"] for o in question["options"]] == ["Sí", "No"]
    assert "En espera (0)" in (await client.get("/console")).text
    closed = await post_form(client, f"{here}/reply", here, text="¿sigue ahí?")
    assert closed.headers["location"] == f"{here}?error=closed"

    await neighbor_says(client, token, "No", option="2")
    assert "volvió a la fila" in (await office_replies(client, token, before + 4))[-1]["text"]
    assert "En espera (1)" in (await client.get("/console")).text


async def test_another_offices_conversation_is_404_and_untouched(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await neighbor_waits(client, "rengo")
    await ready_officer(client, database_url, "rengo@carabineros.cl")
    conversation_id = await first_conversation(client)
    await sign_out(client)

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


async def test_views_and_their_counts(client: httpx.AsyncClient, database_url: str) -> None:
    await neighbor_waits(client, "rengo")
    await neighbor_waits(client, "quinta de tilcoco")
    await ready_officer(client, database_url, "perez@carabineros.cl")
    live = (await client.get("/api/conversations")).json()
    assert live["counts"] == {"waiting": 2, "mine": 0, "open": 0, "closed": 0}
    taken = live["items"][0]["id"]
    await post_form(client, f"/console/conversations/{taken}/take", f"/console/conversations/{taken}")
    mine = (await client.get("/api/conversations", params={"view": "mine"})).json()
    assert [i["id"] for i in mine["items"]] == [taken] and mine["labels"]["waiting"] == "En espera (1)"
    page = await client.get("/console?view=mine")
    assert "Mías (1)" in page.text and f'data-id="{taken}"' in page.text
    assert "Abiertas (1)" in (await client.get("/console?view=open")).text
    assert "Cerradas (0)" in (await client.get("/console?view=closed")).text


async def test_the_conversation_lists_the_neighbors_earlier_conversations(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await neighbor_waits(client, "rengo")
    await ready_officer(client, database_url, "perez@carabineros.cl")
    first = await first_conversation(client)
    await post_form(
        client, f"/console/conversations/{first}/close", f"/console/conversations/{first}", outcome="informed"
    )
    await neighbor_says(client, token, "Sí", option="1")
    await neighbor_says(client, token, "quiero conversar otra vez")  # a new one
    await office_says(client, token, "quedó en la fila")
    second = await first_conversation(client)
    assert second != first

    page = (await client.get(f"/console/conversations/{second}")).text
    assert f'href="/console/conversations/{first}"' in page and "Información entregada" in page


async def test_notes_stay_internal_and_a_transfer_tells_the_neighbor(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await neighbor_waits(client, "rengo")
    before = len(await replies_until(client, token, "quedó en la fila"))
    await ready_officer(client, database_url, "perez@carabineros.cl")
    here = f"/console/conversations/{await first_conversation(client)}"

    await post_form(client, f"{here}/note", here, text="Vecina conocida, vive sola.")
    assert "Vecina conocida, vive sola." in (await client.get(here)).text
    missing = await post_form(client, f"{here}/transfer", here, office="machali", reason="")
    assert missing.headers["location"] == f"{here}?error=needs_reason"
    same = await post_form(client, f"{here}/transfer", here, office="rengo", reason="x")
    assert same.headers["location"] == f"{here}?error=unknown_office"
    await post_form(client, f"{here}/transfer", here, office="machali", reason="el caso es de su sector")
    told = (await office_replies(client, token, before + 1))[-1]["text"]
    assert "pasó a la Oficina de Integración Comunitaria Machalí: el caso es de su sector" in told
    assert "Vecina conocida" not in told  # notes are never sent
    assert (await client.get(here)).status_code == 404  # no longer Rengo's


async def test_a_report_status_reaches_its_author_and_followers(
    client: httpx.AsyncClient, database_url: str
) -> None:
    async def report(token: str) -> None:
        for text in ("hola", "rengo", "3", "1", "venden droga en la esquina del pasaje"):
            await neighbor_says(client, token, text)
        await neighbor_says(client, token, location={"latitude": -34.4057, "longitude": -70.8563})
        await neighbor_says(client, token, "1")
        await neighbor_says(client, token, "1")

    author, follower = secrets.token_hex(16), secrets.token_hex(16)
    await report(author)
    await report(follower)  # offered the author's report instead of filing a duplicate…
    await neighbor_says(client, follower, "1")  # …"1" follows it
    await office_says(client, follower, "le avisaremos por aquí")
    await ready_officer(client, database_url, "perez@carabineros.cl")
    here = f"/console/conversations/{await first_conversation(client)}"
    page = await client.get(here)
    assert (
        f"Aviso N° {datetime.now(SANTIAGO).year}-" in page.text and "Estado del aviso: recibido" in page.text
    )
    note = "Coordinamos rondas con el cuadrante."
    await post_form(client, f"{here}/report-status", here, status="in_progress", note=note)
    for token in (author, follower):
        told = await office_says(client, token, "está ahora: en gestión")
        assert told.endswith(f"está ahora: en gestión. {note}")
    assert "Estado del aviso: en gestión" in (await client.get(here)).text


async def test_a_shared_number_shows_only_to_the_neighbors_office(
    client: httpx.AsyncClient, database_url: str
) -> None:
    engine = create_engine(database_url)
    ids = []
    async with create_sessionmaker(engine).begin() as session:
        for address, shares in (("+56911112222", True), ("+56933334444", False)):
            now = datetime.now(SANTIAGO)
            neighbor = Neighbor(
                channel="whatsapp", address=address, commune="Rengo", office_id="rengo",
                step="in_conversation", shares_contact=shares, created_at=now,
            )  # fmt: skip
            session.add(neighbor)
            await session.flush()
            conversation = Conversation(
                neighbor_id=neighbor.id, office_id="rengo", intent="report", created_at=now, updated_at=now
            )
            session.add(conversation)
            await session.flush()
            ids.append(conversation.id)
    await engine.dispose()
    shared, private = ids

    await ready_officer(client, database_url, "perez@carabineros.cl")
    page = (await client.get(f"/console/conversations/{shared}")).text
    assert "Teléfono (compartido por el vecino): +56911112222" in page
    assert (await client.get(f"/api/conversations/{shared}")).json()["contact"] == "+56911112222"
    assert (await client.get(f"/api/conversations/{private}")).json()["contact"] is None
    assert "+5693333" not in (await client.get(f"/console/conversations/{private}")).text
    for listing in (await client.get("/console"), await client.get("/api/conversations")):
        assert "+569" not in listing.text
    await sign_out(client)

    await ready_officer(client, database_url, "jefe@carabineros.cl", office="machali", role="supervisor")
    seen = await client.get(f"/api/conversations/{shared}")
    assert (
        seen.status_code == 200 and seen.json()["contact"] is None
    )  # the prefecture reads; the number is Rengo's
    assert "+569" not in (await client.get(f"/console/conversations/{shared}")).text
