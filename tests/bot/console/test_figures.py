"""The figures page and `/api/figures`: an office's, or a supervisor's prefecture's."""

from __future__ import annotations

import secrets

import httpx

from tests.bot.console.people import (
    add_officer,
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


async def test_an_office_sees_its_figures_and_a_supervisor_the_prefectures(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await neighbor_waits(client, "rengo")
    await neighbor_waits(client, "malloa")  # served by Rengo's office
    await neighbor_waits(client, "machali")
    reporter = secrets.token_hex(16)
    for text in ("hola", "rengo", "3", "6", "la luminaria del pasaje está apagada hace una semana"):
        await neighbor_says(client, reporter, text)
    for text in ("Villa Los Aromos, frente a la plaza", "1", "1"):
        await neighbor_says(client, reporter, text)
    await office_says(client, reporter, "Recibimos su aviso")

    await ready_officer(client, database_url, "perez@carabineros.cl")
    here = f"/console/conversations/{await first_conversation(client)}"
    await post_form(client, f"{here}/reply", here, text="Buenas tardes, ¿en qué le ayudamos?")

    figures = (await client.get("/api/figures")).json()
    assert [o["id"] for o in figures["offices"]] == ["rengo"]
    assert (figures["conversations"], figures["reports"]) == (3, 1)
    assert {c["label"]: c["count"] for c in figures["conversations_by_commune"]} == {"Rengo": 2, "Malloa": 1}
    assert {c["label"]: c["count"] for c in figures["conversations_by_intent"]} == {
        "Conversar": 2,
        "Aviso": 1,
    }
    assert figures["reports_by_category"] == [{"label": "Calles oscuras o luminarias apagadas", "count": 1}]
    assert figures["reports_by_commune"] == [{"label": "Rengo", "count": 1}]
    assert figures["by_week"][-1] == {
        "monday": figures["by_week"][-1]["monday"],
        "conversations": 3,
        "reports": 1,
    }
    assert len(figures["by_week"]) == 12
    assert figures["answered"] == 1 and figures["median_first_response_minutes"] is not None
    assert (figures["waiting"], figures["open"]) == (2, 1)

    page = await client.get("/console/figures?weeks=4")
    assert page.status_code == 200 and "3 conversaciones y 1 avisos" in page.text
    assert "Calles oscuras o luminarias apagadas" in page.text and "Mediana:" in page.text
    assert (await client.get("/console/figures?office=machali")).status_code == 404
    assert (await client.get("/api/figures", params={"office": "machali"})).status_code == 404
    await sign_out(client)

    await add_officer(database_url, "jefa@carabineros.cl", office="san-fernando", role="supervisor")
    await sign_in(client, "jefa@carabineros.cl")
    await set_password(client, "lluvia-sobre-el-valle")
    colchagua = (await client.get("/api/figures")).json()
    assert colchagua["conversations"] == 0 and "rengo" not in [o["id"] for o in colchagua["offices"]]
    await sign_out(client)

    await add_officer(database_url, "jefe@carabineros.cl", office="machali", role="supervisor")
    await sign_in(client, "jefe@carabineros.cl")
    await set_password(client, "camino-viejo-al-cerro")
    cachapoal = (await client.get("/api/figures")).json()
    assert cachapoal["conversations"] == 4
    by_office = {
        o["office"]["id"]: (o["conversations"], o["reports"], o["waiting"]) for o in cachapoal["by_office"]
    }
    assert by_office["rengo"] == (3, 1, 2) and by_office["machali"] == (1, 0, 1)
    only_machali = (await client.get("/api/figures", params={"office": "machali"})).json()
    assert only_machali["conversations"] == 1
    page = await client.get("/console/figures")
    assert "Por oficina" in page.text and 'option value="machali"' in page.text
