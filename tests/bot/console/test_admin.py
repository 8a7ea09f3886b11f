"""The office admin's page: accounts, opening hours and quick replies."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import httpx

from bot.app import create_app
from bot.settings import Settings
from tests.bot.console.people import (
    READY_PASSWORD,
    add_officer,
    api_call,
    first_conversation,
    neighbor_says,
    neighbor_waits,
    office_says,
    post_form,
    ready_officer,
    set_password,
    sign_in,
    sign_out,
)

ADMIN = "/console/admin"


async def test_an_admin_creates_an_account_whose_password_is_shown_once(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await ready_officer(client, database_url, "jefe@carabineros.cl", role="admin")
    page = await post_form(
        client, "/console/admin/officers", ADMIN, name="Cabo Soto", email="Soto@Carabineros.cl"
    )
    assert page.status_code == 200
    password = re.search(r"se muestra solo esta vez\): (\S+)</p>", page.text).group(1)
    assert password not in (await client.get(ADMIN)).text  # once
    listed = (await api_call(client, "GET", "/api/officers")).json()["officers"]
    assert {(o["email"], o["role"], o["must_change_password"]) for o in listed} == {
        ("jefe@carabineros.cl", "admin", False),
        ("soto@carabineros.cl", "officer", True),
    }

    taken = await post_form(
        client, "/console/admin/officers", ADMIN, name="Otro", email="soto@carabineros.cl"
    )
    assert taken.headers["location"] == f"{ADMIN}?error=email_taken"
    bad = await post_form(client, "/console/admin/officers", ADMIN, name="Otro", email="no-es-correo")
    assert "error=bad_email" in bad.headers["location"]
    supervisor = await api_call(
        client, "POST", "/api/officers", {"name": "X", "email": "x@x.cl", "role": "supervisor"}
    )
    assert (supervisor.status_code, supervisor.json()["code"]) == (
        400,
        "bad_role",
    )  # an admin makes no supervisors

    await sign_out(client)
    assert (await sign_in(client, "soto@carabineros.cl", password)).headers["location"] == "/console/password"
    await set_password(client, "ventana-azul-de-tarde")
    me = (await client.get("/api/me")).json()
    assert (me["name"], me["office"]["id"], me["can_admin"]) == ("Cabo Soto", "rengo", False)


async def test_a_reset_or_a_switched_off_account_ends_its_sessions(
    client: httpx.AsyncClient, database_url: str
) -> None:
    officer_id = await add_officer(database_url, "soto@carabineros.cl")
    async with httpx.AsyncClient(transport=client._transport, base_url="http://vecinos.test") as soto:
        await sign_in(soto, "soto@carabineros.cl")
        await set_password(soto, "ventana-azul-de-tarde")
        assert (await soto.get("/console")).status_code == 200

        await ready_officer(client, database_url, "jefe@carabineros.cl", role="admin")
        reset = (await api_call(client, "POST", f"/api/officers/{officer_id}/reset-password")).json()
        assert reset["officer"]["must_change_password"] is True
        assert (await soto.get("/console")).headers["location"] == "/console/login"
        assert (await sign_in(soto, "soto@carabineros.cl", "ventana-azul-de-tarde")).status_code == 401
        assert (await sign_in(soto, "soto@carabineros.cl", reset["one_time_password"])).status_code == 303
        await set_password(soto, "ventana-roja-de-noche")

        await post_form(client, f"/console/admin/officers/{officer_id}/active", ADMIN, active="0")
        assert (await soto.get("/console")).headers["location"] == "/console/login"
        assert (await sign_in(soto, "soto@carabineros.cl", "ventana-roja-de-noche")).status_code == 401
        page = (await client.get(ADMIN)).text
        assert "desactivada" in page and "Activar" in page

        await post_form(client, f"/console/admin/officers/{officer_id}/active", ADMIN, active="1")
        assert (await soto.get("/console")).headers["location"] == "/console/login"  # not revived
        assert (await sign_in(soto, "soto@carabineros.cl", "ventana-roja-de-noche")).headers[
            "location"
        ] == "/console"

    me = (await client.get("/api/me")).json()["id"]
    myself = await api_call(client, "PUT", f"/api/officers/{me}/active", {"active": False})
    assert (myself.status_code, myself.json()["code"]) == (400, "not_yourself")


async def test_the_hours_an_admin_sets_are_what_neighbors_are_told_in_every_worker(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    await ready_officer(client, database_url, "jefe@carabineros.cl", role="admin")
    week = {f"opens-{day}-0": "08:00" for day in range(5)} | {f"closes-{day}-0": "16:30" for day in range(5)}
    week |= {"opens-5-0": "09:00", "closes-5-0": "13:00"}
    assert (await post_form(client, "/console/admin/hours", ADMIN, **week)).headers["location"] == ADMIN
    hours = (await client.get("/api/office/hours")).json()
    assert hours["hours"] == ["lun-vie 08:00-16:30", "sab 09:00-13:00"]
    told = "lunes a viernes de 08:00 a 16:30; sábado de 09:00 a 13:00"
    assert hours["text"] == told  # confirmed by the office: no "(por confirmar)"
    assert f"Hoy los vecinos leen: {told}" in (await client.get(ADMIN)).text

    token = secrets.token_hex(16)
    for text in ("hola", "rengo"):
        await neighbor_says(client, token, text)
    assert f"Horario de atención: {told}\n" in await office_says(client, token, "Horario de atención")

    # Another worker, started on the same database, tells neighbors the same.
    settings = Settings(_env_file=None, database_url=database_url, media_dir=tmp_path / "media2")
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://vecinos.test") as elsewhere:
            token = secrets.token_hex(16)
            for text in ("hola", "rengo"):
                await neighbor_says(elsewhere, token, text)
            assert told in await office_says(elsewhere, token, "Horario de atención")

    half = {"opens-0-0": "08:00"}  # without its closing hour
    assert (
        (await post_form(client, "/console/admin/hours", ADMIN, **half))
        .headers["location"]
        .endswith("error=bad_hours")
    )
    backwards = await api_call(client, "PUT", "/api/office/hours", {"hours": ["lun-vie 17:00-08:00"]})
    assert (backwards.status_code, backwards.json()["code"]) == (400, "bad_hours")
    assert (await client.get("/api/office/hours")).json()["hours"] == [
        "lun-vie 08:00-16:30",
        "sab 09:00-13:00",
    ]


async def test_quick_replies_kept_by_the_admin_are_offered_to_the_officers(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await neighbor_waits(client, "rengo")
    await ready_officer(client, database_url, "jefe@carabineros.cl", role="admin")
    text = "Buenas tardes, le saluda la Oficina de Integración Comunitaria. ¿En qué le podemos ayudar?"
    await post_form(client, "/console/admin/quick-replies", ADMIN, title="Saludo", text=text)
    await post_form(client, "/console/admin/quick-replies", ADMIN, title="Despedida", text="Que esté bien.")
    empty = await post_form(client, "/console/admin/quick-replies", ADMIN, title="", text="x")
    assert empty.headers["location"] == f"{ADMIN}?error=needs_title"
    listed = (await client.get("/api/quick-replies")).json()["quick_replies"]
    assert [q["title"] for q in listed] == ["Despedida", "Saludo"]
    await sign_out(client)

    await ready_officer(client, database_url, "soto@carabineros.cl")
    here = f"/console/conversations/{await first_conversation(client)}"
    page = (await client.get(here)).text
    assert f'data-text="{text}">Saludo</button>' in page and ">Despedida</button>" in page
    await post_form(client, f"{here}/reply", here, text=text)  # what the button puts in the box
    assert await office_says(client, token, "le saluda la Oficina") == text

    await sign_out(client)
    await sign_in(client, "jefe@carabineros.cl", READY_PASSWORD)
    despedida = next(q["id"] for q in listed if q["title"] == "Despedida")
    await post_form(client, f"/console/admin/quick-replies/{despedida}/delete", ADMIN)
    assert [q["title"] for q in (await client.get("/api/quick-replies")).json()["quick_replies"]] == [
        "Saludo"
    ]


async def test_the_admin_names_officers_on_call(client: httpx.AsyncClient, database_url: str) -> None:
    colleague = await add_officer(database_url, "soto@carabineros.cl", name="Cabo Soto")
    await ready_officer(client, database_url, "jefe@carabineros.cl", role="admin")
    assert "<strong>de turno</strong>" not in (await client.get(ADMIN)).text
    await post_form(client, f"/console/admin/officers/{colleague}/on-call", ADMIN, on_call="1")
    page = (await client.get(ADMIN)).text
    row = page[page.index(f'data-officer="{colleague}"') :]
    assert (
        "<strong>de turno</strong>" in row[: row.index("</tr>")]
        and "Quitar turno" in row[: row.index("</tr>")]
    )
    answer = await api_call(client, "PUT", f"/api/officers/{colleague}/on-call", {"on_call": False})
    assert (answer.status_code, answer.json()["on_call"]) == (200, False)
