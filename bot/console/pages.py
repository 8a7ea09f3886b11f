"""The console's everyday pages: sign-in, the queue, a conversation and its actions, media.

Thin: parse, check, call `actions`, render `views`. The JSON API (`bot/console/api.py`)
does the same through the same two modules.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from bot.auth import csrf_ok, verify_password_off_loop
from bot.clean import clean_text, clip
from bot.console import actions, views
from bot.console.context import (
    SESSION_LASTS,
    ConsoleContext,
    ConsoleError,
    Invalid,
    NotFound,
    can_act,
    new_session_token,
    remember_session,
    session_officer,
    session_token_hash,
    visible_conversation,
)
from bot.console.web import Web, redirect
from bot.passwords import MIN_PASSWORD
from db.console_sessions import end_session, start_session
from db.limits import OFFICER_EMAIL
from db.models import Message, Officer
from db.officers import find_officer
from db.queue import VIEWS
from db.quick_replies import office_quick_replies
from handlers.officers import OUTCOMES, REPORT_STATUSES
from routing.emergencies import KINDS


class Pages:
    """Sign-in, queue and conversation pages."""

    def __init__(self, context: ConsoleContext, web: Web) -> None:
        self._context = context
        self._web = web
        self._throttle = context.throttle

    def routes(self) -> list[BaseRoute]:
        page, here = self._web.page, _conversation_page
        return [
            Route("/console/login", self.login_page, methods=["GET"]),
            Route("/console/login", self.login, methods=["POST"]),
            Route("/console/logout", self.logout, methods=["POST"]),
            Route("/console/password", self.password_page, methods=["GET"]),
            Route("/console/password", self.set_password, methods=["POST"]),
            Route("/console", page(self.queue), methods=["GET"]),
            Route("/console/conversations/{conversation_id:int}", page(self.conversation), methods=["GET"]),
            Route(
                "/console/conversations/{conversation_id:int}/{action:str}",
                page(self.act, back=here),
                methods=["POST"],
            ),
            Route("/console/media/{message_id:int}", page(self.media_file), methods=["GET"]),
        ]

    # --- signing in and out ------------------------------------------------------------

    async def login_page(self, request: Request) -> Response:
        return self._web.render(request, "console/login.html")

    async def login(self, request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request, form.get("csrf")):
            return self._web.render(request, "console/login.html", error="bad_form", status=403)
        email = clip(str(form.get("email", "")).strip().lower(), OFFICER_EMAIL)
        address = _address(request)
        now = datetime.now(UTC)
        async with self._context.sessions() as session:
            blocked = await self._throttle.blocked(session, email, address, now)
            officer = None if blocked else await find_officer(session, email=email)
        if blocked:
            return self._web.render(request, "console/login.html", error="throttled", status=429)
        password = clean_text(str(form.get("password", "")))  # as the password form stored it
        valid = await verify_password_off_loop(officer.password_hash if officer else None, password)
        async with self._context.sessions.begin() as session:
            if not valid or officer is None or not officer.active:
                await self._throttle.failed(session, email, address, now)
                return self._web.render(request, "console/login.html", error="bad_login", status=401)
            await self._throttle.succeeded(session, email, address)
            token, token_hash = new_session_token()
            await start_session(
                session, token_hash=token_hash, officer_id=officer.id, now=now, lasts=SESSION_LASTS
            )
        remember_session(request, token)  # a new session at sign-in (no fixation)
        return redirect("/console/password" if officer.must_change_password else "/console")

    async def logout(self, request: Request) -> Response:
        """Ends the session in the database: its cookie, replayed, opens nothing."""
        form = await request.form()
        if csrf_ok(request, form.get("csrf")):
            token_hash = session_token_hash(request)
            if token_hash is not None:
                async with self._context.sessions.begin() as session:
                    await end_session(session, token_hash=token_hash)
            request.session.clear()
        return redirect("/console/login")

    async def password_page(self, request: Request) -> Response:
        officer = await session_officer(request, self._context)
        if officer is None:
            return redirect("/console/login")
        return self._web.render(request, "console/password.html", officer=officer, min_password=MIN_PASSWORD)

    async def set_password(self, request: Request) -> Response:
        """The first-time password, or a change (which asks for the current one)."""
        officer = await session_officer(request, self._context)
        if officer is None:
            return redirect("/console/login")
        form = await request.form()
        try:
            if not csrf_ok(request, form.get("csrf")):
                raise Invalid("bad_form")
            await actions.change_password(
                self._context, officer, form, address=_address(request), keep=session_token_hash(request)
            )
        except ConsoleError as exc:
            return self._web.render(
                request,
                "console/password.html",
                officer=officer,
                min_password=MIN_PASSWORD,
                error=exc.key,
                status=403 if exc.key == "bad_form" else exc.status,
            )
        return redirect("/console")  # this session goes on; every other one ended

    # --- the queue ---------------------------------------------------------------------

    async def queue(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        view = request.query_params.get("view", "waiting")
        queue = await views.queue(self._context, officer, view)
        tabs = [(v, queue.labels[v]) for v in VIEWS]
        return self._web.render(
            request,
            "console/queue.html",
            officer=officer,
            queue=queue,
            tabs=tabs,
            emergency_labels={kind: self._context.texts(f"console.emergencies.{kind}") for kind in KINDS},
        )

    # --- one conversation ----------------------------------------------------------------

    async def conversation(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        context = self._context
        async with context.sessions() as session:
            conversation, neighbor = await visible_conversation(
                session, officer, request.path_params["conversation_id"], context.directory
            )
            detail = await views.conversation(context, session, officer, conversation, neighbor)
            quick_replies = await office_quick_replies(session, conversation.office_id or officer.office_id)
        texts = context.texts
        return self._web.render(
            request,
            "console/conversation.html",
            officer=officer,
            conversation=detail,
            can_act=can_act(officer),
            quick_replies=quick_replies,
            outcomes=[(o, texts(f"console.outcomes.{o}")) for o in OUTCOMES],
            statuses=[(s, texts(f"report_status.labels.{s}")) for s in REPORT_STATUSES],
            offices=[
                (o.id, o.name) for o in context.directory.offices.values() if o.id != conversation.office_id
            ],
        )

    async def act(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        conversation_id = request.path_params["conversation_id"]
        await actions.act_on_conversation(
            self._context, officer, conversation_id, request.path_params["action"], form
        )
        return redirect(_conversation_page(request))

    async def media_file(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        """A photo or voice note of a conversation the officer may see."""
        context = self._context
        async with context.sessions() as session:
            message = await session.get(Message, request.path_params["message_id"])
            if message is None or message.conversation_id is None:
                raise NotFound("not_found")
            await visible_conversation(session, officer, message.conversation_id, context.directory)
        path = context.media.path(message.media_ref) if message.media_ref else None
        if path is None:
            raise NotFound("not_found")
        return FileResponse(path, headers={"Cache-Control": "private, no-store"})


def _address(request: Request) -> str:
    """The client's address, as uvicorn gives it: a proxy's header only if FORWARDED_ALLOW_IPS trusts it."""
    return request.client.host if request.client else ""


def _conversation_page(request: Request) -> str:
    return f"/console/conversations/{request.path_params['conversation_id']}"
