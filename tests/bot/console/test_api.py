"""The JSON API: its OpenAPI document is valid, complete, and what the API really answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jsonschema
from openapi_spec_validator import validate
from starlette.routing import Route

from bot.app import create_app
from bot.settings import Settings
from tests.bot.console.people import (
    api_call,
    first_conversation,
    neighbor_waits,
    office_says,
    ready_officer,
    sign_out,
)


def answers_as_documented(document: dict[str, Any], method: str, path: str, response: httpx.Response) -> None:
    """The response's JSON fits the schema the document gives for `method path` and its status."""
    operation = document["paths"][path][method.lower()]
    documented = operation["responses"][str(response.status_code)]
    schema = {**documented["content"]["application/json"]["schema"], "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(response.json())


async def test_the_document_is_valid_and_lists_every_api_route(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    document = (await client.get("/api/openapi.json")).json()
    validate(document)
    app = create_app(Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'v.db'}"))
    routes = {
        (method.lower(), route.path.replace(":int}", "}").replace(":str}", "}"))
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
        for method in route.methods - {"HEAD"}
    } - {("get", "/api/openapi.json"), ("get", "/api/docs")}
    documented = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert documented == routes
    docs = await client.get("/api/docs")
    assert docs.status_code == 200 and "POST /api/conversations/{conversation_id}/reply" in docs.text


async def test_a_conversation_worked_through_the_api_answers_as_documented(
    client: httpx.AsyncClient, database_url: str
) -> None:
    document = (await client.get("/api/openapi.json")).json()
    token = await neighbor_waits(client, "rengo")
    await ready_officer(client, database_url, "jefe@carabineros.cl", role="admin")
    conversation = await first_conversation(client)
    item = f"/api/conversations/{conversation}"

    async def check(method: str, path: str, documented: str, body: Any = None) -> httpx.Response:
        response = await api_call(client, method, path, body)
        answers_as_documented(document, method, documented, response)
        return response

    detail = "/api/conversations/{conversation_id}"
    me = (await check("GET", "/api/me", "/api/me")).json()
    assert (me["role"], me["can_act"], me["can_admin"], me["alerts_linked"]) == ("admin", True, True, False)
    await check("GET", "/api/conversations?view=waiting", "/api/conversations")
    await check("POST", f"{item}/take", f"{detail}/take")
    await check("POST", f"{item}/reply", f"{detail}/reply", {"text": "Buenas tardes, ¿cómo está? 🙂"})
    await check("POST", f"{item}/note", f"{detail}/note", {"text": "Llamar mañana."})
    whole = (await check("GET", item, detail)).json()
    assert [m["author"] for m in whole["messages"]][-1] == "officer"
    assert whole["messages"][-1]["delivery"] in ("pending", "sending", "sent")
    assert whole["notes"][0]["text"] == "Llamar mañana." and whole["contact"] is None
    await office_says(client, token, "Buenas tardes, ¿cómo está? 🙂")

    empty = await check("POST", f"{item}/reply", f"{detail}/reply", {"text": ""})
    assert (empty.status_code, empty.json()["code"]) == (400, "empty_reply")
    long = await check("POST", f"{item}/reply", f"{detail}/reply", {"text": "x" * 4001})
    assert long.json()["code"] == "too_long"
    unknown = await check(
        "POST", f"{item}/transfer", f"{detail}/transfer", {"office": "atlantida", "reason": "x"}
    )
    assert unknown.json()["code"] == "unknown_office"
    not_json = await client.post(
        f"{item}/note", content=b"{no es json", headers={"X-CSRF-Token": me["csrf_token"]}
    )
    assert (not_json.status_code, not_json.json()["code"]) == (400, "bad_json")
    not_object = await api_call(client, "POST", f"{item}/note", ["una", "lista"])
    assert (not_object.status_code, not_object.json()["code"]) == (400, "bad_input")
    assert (await api_call(client, "POST", f"{item}/archive", {})).status_code == 404

    await check("POST", f"{item}/close", f"{detail}/close", {"outcome": "resolved"})
    assert (await check("GET", item, detail)).json()["status"] == "closed"
    await office_says(client, token, "quedó resuelto")

    await check("GET", "/api/offices", "/api/offices")
    await check(
        "POST", "/api/quick-replies", "/api/quick-replies", {"title": "Saludo", "text": "Buenas tardes"}
    )
    await check("GET", "/api/quick-replies", "/api/quick-replies")
    await check("GET", "/api/officers", "/api/officers")
    made = await check(
        "POST", "/api/officers", "/api/officers", {"name": "Cabo Soto", "email": "soto@carabineros.cl"}
    )
    soto = made.json()["officer"]["id"]
    await check("POST", f"/api/officers/{soto}/reset-password", "/api/officers/{officer_id}/reset-password")
    await check("PUT", f"/api/officers/{soto}/active", "/api/officers/{officer_id}/active", {"active": False})
    await check("GET", "/api/office/hours", "/api/office/hours")
    await check("PUT", "/api/office/hours", "/api/office/hours", {"hours": ["lun-vie 08:30-17:00"]})
    await check("GET", "/api/figures?weeks=4", "/api/figures")
    off = await check("POST", "/api/account/link-code", "/api/account/link-code")  # no Telegram here
    assert off.json()["code"] == "alerts_off"
    await check("DELETE", "/api/account/link", "/api/account/link")
    await check("GET", "/api/conversations/99999", detail)  # 404, documented too

    await sign_out(client)
    answers_as_documented(document, "GET", "/api/me", await client.get("/api/me"))  # 401
