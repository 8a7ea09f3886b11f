"""The region-wide urgent queue in the console: every office sees it, the first to act takes it."""

from __future__ import annotations

import secrets

import httpx

from tests.bot.console.people import (
    api_call,
    first_conversation,
    neighbor_says,
    neighbor_waits,
    office_says,
    ready_officer,
    sign_out,
)

DANGER = "me vienen siguiendo dos tipos en moto, tengo miedo"


async def test_two_offices_and_a_supervisor_see_it_first_the_first_officer_to_act_takes_it(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await neighbor_waits(client, "machali")  # an older conversation of Machalí's own
    token = secrets.token_hex(16)
    await neighbor_says(client, token, DANGER)
    await office_says(client, token, "todas las oficinas de la región")

    for email, office, role in (
        ("rojas@carabineros.cl", "machali", "officer"),
        ("super@carabineros.cl", "san-fernando", "supervisor"),
        ("perez@carabineros.cl", "rengo", "officer"),
    ):
        await ready_officer(client, database_url, email, office=office, role=role)
        queue = (await client.get("/api/conversations")).json()
        top = queue["items"][0]
        assert (top["office"], top["urgent"], top["emergency_kind"]) == (None, True, "danger"), email
        page = await client.get("/console")
        first = page.text.index('class="conversation')
        assert "SIN COMUNA" in page.text[first : page.text.index("</li>", first)]
        detail = await client.get(f"/console/conversations/{top['id']}")
        assert detail.status_code == 200 and DANGER in detail.text
        if role == "supervisor":  # reads, acts on nothing
            response = await api_call(client, "POST", f"/api/conversations/{top['id']}/take")
            assert response.status_code == 403
        if email != "perez@carabineros.cl":
            await sign_out(client)

    # Pérez, of Rengo, answers: the conversation is Rengo's from now on.
    region = await first_conversation(client)
    reply = {"text": "Le habla el Cabo Pérez. ¿Dónde está usted?"}
    assert (await api_call(client, "POST", f"/api/conversations/{region}/reply", reply)).status_code == 200
    taken = (await client.get(f"/api/conversations/{region}")).json()
    assert (taken["office"]["id"], taken["status"], taken["assigned_officer"]) == (
        "rengo",
        "open",
        "Sargento Pérez",
    )
    await office_says(client, token, "Cabo Pérez")
    await sign_out(client)

    await ready_officer(client, database_url, "soto@carabineros.cl", office="machali")
    ids = [item["id"] for item in (await client.get("/api/conversations")).json()["items"]]
    assert region not in ids
    assert (await client.get(f"/api/conversations/{region}")).status_code == 404
