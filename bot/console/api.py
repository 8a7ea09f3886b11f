"""The console's JSON API under `/api/`, used by its live parts, and its OpenAPI document.

The same actions and views as the pages; the same session cookie, and for every call
that changes something the session's CSRF token in an `X-CSRF-Token` header (it is in
`GET /api/me`). Errors are `{"error": text, "code": key}` with 400, 401, 403 or 404;
the document at `/api/openapi.json` is built from the endpoint table below and the
models in `schemas.py`, so it cannot drift from what the API does.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.auth import csrf_ok, csrf_token
from bot.console import actions, schemas, views
from bot.console.context import (
    ConsoleContext,
    ConsoleError,
    Forbidden,
    Invalid,
    check_path_ids,
    require_admin,
    signed_in,
    visible_conversation,
)
from bot.console.office import figures_for
from bot.console.web import Web
from db.models import Officer
from db.officers import office_officers
from db.quick_replies import office_quick_replies
from handlers.offices import hours_text

Handler = Callable[[Request, Officer, Any], Awaitable[BaseModel]]
CSRF_HEADER = "X-CSRF-Token"
SESSION_COOKIE = "vecinos_console"


class MeWithToken(schemas.Me):
    """The signed-in account, and the CSRF token its calls that change something must send."""

    csrf_token: str


class Offices(schemas.Out):
    """Every office of the directory (where a conversation can be transferred)."""

    offices: list[schemas.OfficeRef]


class QuickReplies(schemas.Out):
    """The office's quick replies."""

    quick_replies: list[schemas.QuickReplyOut]


class Officers(schemas.Out):
    """The office's accounts."""

    officers: list[schemas.OfficerOut]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One API operation: its route, what it takes and returns, and who may call it."""

    method: str
    path: str  # Starlette's, with converters: "/api/conversations/{conversation_id:int}"
    handler: Handler
    summary: str
    response: type[BaseModel]
    body: type[schemas.Body] | None = None
    query: tuple[tuple[str, str], ...] = ()  # (name, description)

    @property
    def documented_path(self) -> str:
        return self.path.replace(":int}", "}").replace(":str}", "}")


class Api:
    """The `/api/` routes."""

    def __init__(self, context: ConsoleContext, web: Web) -> None:
        self._context = context
        self._web = web
        self.endpoints = self._endpoints()

    def routes(self) -> list[BaseRoute]:
        return [
            *(Route(e.path, self._endpoint(e), methods=[e.method]) for e in self.endpoints),
            Route("/api/openapi.json", self.openapi_json, methods=["GET"]),
            Route("/api/docs", self.docs, methods=["GET"]),
        ]

    def _endpoints(self) -> list[Endpoint]:
        conversation = "/api/conversations/{conversation_id:int}"
        acting = [
            Endpoint("POST", f"{conversation}/{name}", self._action(name), summary, schemas.Done, body)
            for name, summary, body in (
                ("take", "Take a waiting conversation (it becomes the officer's).", None),
                ("reply", "Reply to the neighbor, on their channel, through the outbox.", schemas.ReplyBody),
                ("note", "Add an internal note (never sent).", schemas.NoteBody),
                (
                    "transfer",
                    "Transfer to another office's queue; the neighbor is told why.",
                    schemas.TransferBody,
                ),
                (
                    "close",
                    "Close with an outcome; the neighbor is told and asked if it was solved.",
                    schemas.CloseBody,
                ),
                (
                    "report-status",
                    "Update the report's status; its author and followers are told.",
                    schemas.ReportStatusBody,
                ),
            )
        ]
        return [
            Endpoint("GET", "/api/me", self.me, "The signed-in account.", MeWithToken),
            Endpoint(
                "GET",
                "/api/conversations",
                self.queue,
                "A view of the queue.",
                schemas.Queue,
                query=(("view", "waiting (default), mine, open or closed"),),
            ),
            Endpoint(
                "GET", conversation, self.conversation, "One conversation, whole.", schemas.Conversation
            ),
            *acting,
            Endpoint("GET", "/api/offices", self.offices, "Every office of the directory.", Offices),
            Endpoint(
                "GET", "/api/quick-replies", self.quick_replies, "The office's quick replies.", QuickReplies
            ),
            Endpoint(
                "POST",
                "/api/quick-replies",
                self.add_quick_reply,
                "Add a quick reply (office admin).",
                schemas.Done,
                schemas.QuickReplyBody,
            ),
            Endpoint(
                "DELETE",
                "/api/quick-replies/{quick_reply_id:int}",
                self.delete_quick_reply,
                "Delete a quick reply (office admin).",
                schemas.Done,
            ),
            Endpoint(
                "GET", "/api/officers", self.officers, "The office's accounts (office admin).", Officers
            ),
            Endpoint(
                "POST",
                "/api/officers",
                self.add_officer,
                "Create an account (office admin).",
                schemas.NewAccount,
                schemas.OfficerBody,
            ),
            Endpoint(
                "POST",
                "/api/officers/{officer_id:int}/reset-password",
                self.reset_password,
                "Give an account a new one-time password (office admin).",
                schemas.NewAccount,
            ),
            Endpoint(
                "PUT",
                "/api/officers/{officer_id:int}/active",
                self.set_active,
                "Switch an account on or off (office admin).",
                schemas.OfficerOut,
                schemas.ActiveBody,
            ),
            Endpoint(
                "PUT",
                "/api/officers/{officer_id:int}/on-call",
                self.set_on_call,
                "Name an account on call: told of urgent conversations at any hour (office admin).",
                schemas.OfficerOut,
                schemas.OnCallBody,
            ),
            Endpoint("GET", "/api/office/hours", self.hours, "The office's opening hours.", schemas.Hours),
            Endpoint(
                "PUT",
                "/api/office/hours",
                self.set_hours,
                "Set the office's opening hours (office admin).",
                schemas.Hours,
                schemas.HoursBody,
            ),
            Endpoint(
                "POST",
                "/api/account/link-code",
                self.link_code,
                "A code to link a Telegram chat for alerts of new conversations.",
                schemas.LinkCode,
            ),
            Endpoint(
                "DELETE",
                "/api/account/link",
                self.unlink,
                "Stop the alerts to the linked chat.",
                schemas.Done,
            ),
            Endpoint(
                "GET",
                "/api/figures",
                self.figures,
                "Figures of an office or of all one sees.",
                schemas.Figures,
                query=(
                    ("office", "an office id; all the account sees if none"),
                    ("weeks", "4, 12 (default), 26 or 52"),
                ),
            ),
        ]

    # --- the door ------------------------------------------------------------------------

    def _endpoint(self, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                officer = await signed_in(request, self._context)
                if endpoint.method != "GET" and not csrf_ok(request, request.headers.get(CSRF_HEADER)):
                    raise Forbidden("bad_form")
                check_path_ids(request)
                data = await _json_body(request) if endpoint.body is not None else None
                result = await endpoint.handler(request, officer, data)
            except ConsoleError as exc:
                return self.error(exc)
            return JSONResponse(result.model_dump(mode="json"), headers={"Cache-Control": "no-store"})

        run.__name__ = endpoint.handler.__name__
        return run

    def error(self, exc: ConsoleError) -> Response:
        body = schemas.Error(error=self._context.texts(f"console.errors.{exc.key}"), code=exc.key)
        return JSONResponse(body.model_dump(), status_code=exc.status)

    # --- reading -------------------------------------------------------------------------

    async def me(self, request: Request, officer: Officer, data: None) -> MeWithToken:
        me = views.me(self._context, officer)
        return MeWithToken(**me.model_dump(), csrf_token=csrf_token(request))

    async def queue(self, request: Request, officer: Officer, data: None) -> schemas.Queue:
        return await views.queue(self._context, officer, request.query_params.get("view", "waiting"))

    async def conversation(self, request: Request, officer: Officer, data: None) -> schemas.Conversation:
        context = self._context
        async with context.sessions() as session:
            conversation, neighbor = await visible_conversation(
                session, officer, request.path_params["conversation_id"], context.directory
            )
            return await views.conversation(context, session, officer, conversation, neighbor)

    async def offices(self, request: Request, officer: Officer, data: None) -> Offices:
        return Offices(offices=[views.office_ref(self._context, o) for o in self._context.directory.offices])

    async def quick_replies(self, request: Request, officer: Officer, data: None) -> QuickReplies:
        async with self._context.sessions() as session:
            rows = await office_quick_replies(session, officer.office_id)
        return QuickReplies(quick_replies=[schemas.QuickReplyOut.model_validate(row) for row in rows])

    async def officers(self, request: Request, officer: Officer, data: None) -> Officers:
        require_admin(officer)
        async with self._context.sessions() as session:
            rows = await office_officers(session, officer.office_id)
        return Officers(officers=[views.officer_out(self._context, row) for row in rows])

    async def hours(self, request: Request, officer: Officer, data: None) -> schemas.Hours:
        office = self._context.directory.offices[officer.office_id]
        return schemas.Hours(hours=list(office.hours_text), text=hours_text(office, self._context.texts))

    async def figures(self, request: Request, officer: Officer, data: None) -> schemas.Figures:
        found, _ = await figures_for(self._context, officer, request)
        return found

    # --- changing ------------------------------------------------------------------------

    def _action(self, name: str) -> Handler:
        async def act(request: Request, officer: Officer, data: Any) -> schemas.Done:
            conversation_id = request.path_params["conversation_id"]
            await actions.act_on_conversation(self._context, officer, conversation_id, name, data)
            return schemas.Done()

        act.__name__ = name.replace("-", "_")
        return act

    async def add_quick_reply(self, request: Request, officer: Officer, data: Any) -> schemas.Done:
        await actions.add_office_quick_reply(self._context, officer, data)
        return schemas.Done()

    async def delete_quick_reply(self, request: Request, officer: Officer, data: None) -> schemas.Done:
        await actions.delete_office_quick_reply(self._context, officer, request.path_params["quick_reply_id"])
        return schemas.Done()

    async def add_officer(self, request: Request, officer: Officer, data: Any) -> schemas.NewAccount:
        account, password = await actions.add_officer(self._context, officer, data)
        return schemas.NewAccount(
            officer=views.officer_out(self._context, account), one_time_password=password
        )

    async def reset_password(self, request: Request, officer: Officer, data: None) -> schemas.NewAccount:
        account, password = await actions.reset_password(
            self._context, officer, request.path_params["officer_id"]
        )
        return schemas.NewAccount(
            officer=views.officer_out(self._context, account), one_time_password=password
        )

    async def set_active(self, request: Request, officer: Officer, data: Any) -> schemas.OfficerOut:
        account = await actions.set_active(self._context, officer, request.path_params["officer_id"], data)
        return views.officer_out(self._context, account)

    async def set_on_call(self, request: Request, officer: Officer, data: Any) -> schemas.OfficerOut:
        account = await actions.set_on_call(self._context, officer, request.path_params["officer_id"], data)
        return views.officer_out(self._context, account)

    async def set_hours(self, request: Request, officer: Officer, data: Any) -> schemas.Hours:
        await actions.set_hours(self._context, officer, data)
        return await self.hours(request, officer, None)

    async def link_code(self, request: Request, officer: Officer, data: None) -> schemas.LinkCode:
        return await actions.new_link_code(self._context, officer)

    async def unlink(self, request: Request, officer: Officer, data: None) -> schemas.Done:
        await actions.unlink_alerts(self._context, officer)
        return schemas.Done()

    # --- the document --------------------------------------------------------------------

    async def openapi_json(self, request: Request) -> Response:
        return JSONResponse(openapi_document(self.endpoints))

    async def docs(self, request: Request) -> Response:
        return self._web.render(request, "console/api_docs.html", endpoints=self.endpoints)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"{}")
    except (ValueError, RecursionError):  # not JSON, not UTF-8, too big a number, nested too deep
        raise Invalid("bad_json") from None


def openapi_document(endpoints: list[Endpoint]) -> dict[str, Any]:
    """OpenAPI 3.1 for `endpoints`, with the pydantic models as its components."""
    models = {e.response for e in endpoints} | {e.body for e in endpoints if e.body} | {schemas.Error}
    modes = [(m, "validation" if issubclass(m, schemas.Body) else "serialization") for m in models]
    _, definitions = models_json_schema(
        sorted(modes, key=lambda pair: pair[0].__name__), ref_template="#/components/schemas/{model}"
    )
    error = {"description": "Refused; nothing changed.", "content": _json_of(schemas.Error)}
    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        path = e.documented_path
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
            for name in _path_names(path)
        ] + [
            {"name": name, "in": "query", "required": False, "description": d, "schema": {"type": "string"}}
            for name, d in e.query
        ]
        operation: dict[str, Any] = {
            "summary": e.summary,
            "operationId": f"{e.method.lower()}_{e.handler.__name__}",
            "responses": {
                "200": {"description": e.response.__doc__ or "", "content": _json_of(e.response)},
                **{status: error for status in ("400", "401", "403", "404")},
            },
        }
        if parameters:
            operation["parameters"] = parameters
        if e.body is not None:
            operation["requestBody"] = {"required": True, "content": _json_of(e.body)}
        if e.method != "GET":
            operation["security"] = [{"session": [], "csrf": []}]
        paths.setdefault(path, {})[e.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vecinos console API",
            "version": "1",
            "description": (__doc__ or "").strip(),
        },
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
                "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER},
            },
        },
        "security": [{"session": []}],
    }


def _json_of(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]
