"""`/console`: the officers' web console, server-rendered. Thin: parse, check, call, render.

Today: sign-in (with the first-time password change), sign-out, and the waiting queue of
the officer's offices. Every form carries the session's CSRF token; every page checks who
is signed in and which offices they may see.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from bot.auth import (
    MIN_PASSWORD,
    LoginThrottle,
    csrf_ok,
    csrf_token,
    hash_password,
    verify_password,
    visible_offices,
)
from db.models import Officer
from db.officers import find_officer, waiting_queue
from handlers.offices import when_text
from handlers.texts import Texts
from routing.directory import Directory


class Console:
    """The console's pages."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        texts: Texts,
        templates: Jinja2Templates,
        directory: Directory,
        timezone: Any,
    ) -> None:
        self._sessions = sessions
        self._texts = texts
        self._templates = templates
        self._directory = directory
        self._timezone = timezone
        self._throttle = LoginThrottle()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/console", self.queue, methods=["GET"]),
            Route("/console/login", self.login_page, methods=["GET"]),
            Route("/console/login", self.login, methods=["POST"]),
            Route("/console/logout", self.logout, methods=["POST"]),
            Route("/console/password", self.password_page, methods=["GET"]),
            Route("/console/password", self.set_password, methods=["POST"]),
        ]

    # --- signing in and out ------------------------------------------------------------

    async def login_page(self, request: Request) -> Response:
        return self._render(request, "console/login.html")

    async def login(self, request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request, form.get("csrf")):
            return self._render(
                request, "console/login.html", error=self._texts("console.bad_form"), status=403
            )
        email = str(form.get("email", "")).strip().lower()
        key = f"{email}|{request.client.host if request.client else ''}"
        if self._throttle.blocked(key):
            return self._render(
                request, "console/login.html", error=self._texts("console.throttled"), status=429
            )
        async with self._sessions() as session:
            officer = await find_officer(session, email=email)
        if officer is None or not verify_password(officer.password_hash, str(form.get("password", ""))):
            self._throttle.failed(key)
            return self._render(
                request, "console/login.html", error=self._texts("console.bad_login"), status=401
            )
        self._throttle.succeeded(key)
        request.session.clear()  # a new session at sign-in (no fixation)
        request.session["officer_id"] = officer.id
        return RedirectResponse("/console/password" if officer.must_change_password else "/console", 303)

    async def logout(self, request: Request) -> Response:
        form = await request.form()
        if csrf_ok(request, form.get("csrf")):
            request.session.clear()
        return RedirectResponse("/console/login", 303)

    async def password_page(self, request: Request) -> Response:
        officer = await self._officer(request)
        if officer is None:
            return RedirectResponse("/console/login", 303)
        return self._render(request, "console/password.html", officer=officer, min_password=MIN_PASSWORD)

    async def set_password(self, request: Request) -> Response:
        officer = await self._officer(request)
        if officer is None:
            return RedirectResponse("/console/login", 303)
        form = await request.form()
        password, repeat = str(form.get("password", "")), str(form.get("repeat", ""))
        error = None
        if not csrf_ok(request, form.get("csrf")):
            error = self._texts("console.bad_form")
        elif len(password) < MIN_PASSWORD:
            error = self._texts("console.password_too_short", min=MIN_PASSWORD)
        elif password != repeat:
            error = self._texts("console.passwords_differ")
        if error:
            return self._render(
                request,
                "console/password.html",
                officer=officer,
                min_password=MIN_PASSWORD,
                error=error,
                status=400,
            )
        async with self._sessions.begin() as session:
            account = await session.get(Officer, officer.id)
            account.password_hash, account.must_change_password = hash_password(password), False
        return RedirectResponse("/console", 303)

    # --- the queue ---------------------------------------------------------------------

    async def queue(self, request: Request) -> Response:
        officer = await self._officer(request)
        if officer is None:
            return RedirectResponse("/console/login", 303)
        if officer.must_change_password:
            return RedirectResponse("/console/password", 303)
        offices = visible_offices(officer, self._directory)
        async with self._sessions() as session:
            rows = await waiting_queue(session, offices)
        waiting = [
            {
                "id": conversation.id,
                "urgent": conversation.urgent,
                "intent": self._texts(f"console.intents.{conversation.intent}"),
                "commune": neighbor.commune or "",
                "office": self._directory.offices[conversation.office_id].name,
                "since": when_text(conversation.created_at.astimezone(self._timezone), self._texts),
            }
            for conversation, neighbor in rows
        ]  # no phone number here: only with the neighbor's consent, in the conversation
        return self._render(request, "console/queue.html", officer=officer, waiting=waiting)

    # --- helpers -----------------------------------------------------------------------

    async def _officer(self, request: Request) -> Officer | None:
        officer_id = request.session.get("officer_id")
        if not isinstance(officer_id, int):
            return None
        async with self._sessions() as session:
            return await session.get(Officer, officer_id)

    def _render(self, request: Request, template: str, *, status: int = 200, **context: Any) -> Response:
        officer = context.get("officer")
        office_name = self._directory.offices[officer.office_id].name if officer else ""
        context = {"t": self._texts, "csrf": csrf_token(request), "office_name": office_name, **context}
        response = self._templates.TemplateResponse(request, template, context, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        return response
