"""`/console`: the officers' web console, server-rendered. Thin: parse, check, call, render.

Today: sign-in (with the first-time password change), sign-out, the waiting queue of the
officer's offices, and a conversation: its transcript with media, take, reply, close.
Every form carries the session's CSRF token; every page checks who is signed in and which
offices they may see.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
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
from bot.media import MediaStore
from db.models import Conversation, Message, Neighbor, Officer
from db.officers import (
    VIEWS,
    conversation_notes,
    conversation_report,
    conversation_transcript,
    earlier_conversations,
    find_officer,
    queue_view,
    view_counts,
)
from handlers import officers
from handlers.officers import OUTCOMES, REPORT_STATUSES
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
        media: MediaStore,
        outbox_ready: asyncio.Event,
    ) -> None:
        self._media = media
        self._outbox_ready = outbox_ready
        self._sessions = sessions
        self._texts = texts
        self._templates = templates
        self._directory = directory
        self._timezone = timezone
        self._throttle = LoginThrottle()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/console", self.queue, methods=["GET"]),
            Route("/console/api/queue", self.queue_json, methods=["GET"]),
            Route("/console/login", self.login_page, methods=["GET"]),
            Route("/console/login", self.login, methods=["POST"]),
            Route("/console/logout", self.logout, methods=["POST"]),
            Route("/console/password", self.password_page, methods=["GET"]),
            Route("/console/password", self.set_password, methods=["POST"]),
            Route("/console/conversations/{conversation_id:int}", self.conversation, methods=["GET"]),
            Route("/console/conversations/{conversation_id:int}/{action:str}", self.act, methods=["POST"]),
            Route("/console/media/{message_id:int}", self.media_file, methods=["GET"]),
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
        view = request.query_params.get("view", "waiting")
        view = view if view in VIEWS else "waiting"
        counts, items = await self._queue(officer, view)
        tabs = [(v, self._texts(f"console.views.{v}", count=counts[v])) for v in VIEWS]
        return self._render(
            request, "console/queue.html", officer=officer, view=view, tabs=tabs, waiting=items
        )

    async def queue_json(self, request: Request) -> Response:
        """The same view as JSON, for the page to refresh itself without reloading."""
        officer = await self._officer(request)
        if officer is None or officer.must_change_password:
            return JSONResponse({"error": "sign in"}, status_code=401)
        view = request.query_params.get("view", "waiting")
        counts, items = await self._queue(officer, view if view in VIEWS else "waiting")
        labels = {v: self._texts(f"console.views.{v}", count=counts[v]) for v in VIEWS}
        return JSONResponse({"counts": counts, "labels": labels, "items": items})

    async def _queue(self, officer: Officer, view: str) -> tuple[dict[str, int], list[dict[str, Any]]]:
        offices = visible_offices(officer, self._directory)
        async with self._sessions() as session:
            counts = await view_counts(session, offices, officer.id)
            rows = await queue_view(session, offices, view, officer.id)
        items = [
            {
                "id": conversation.id,
                "urgent": conversation.urgent,
                "urgent_label": self._texts("console.urgent"),
                "intent": self._texts(f"console.intents.{conversation.intent}"),
                "commune": neighbor.commune or "",
                "office": self._directory.offices[conversation.office_id].name,
                "since": self._texts(
                    "console.waiting_since",
                    when=when_text(conversation.created_at.astimezone(self._timezone), self._texts),
                ),
            }
            for conversation, neighbor in rows
        ]  # no phone number here: only with the neighbor's consent, in the conversation
        return counts, items

    # --- one conversation ----------------------------------------------------------------

    async def conversation(self, request: Request) -> Response:
        officer = await self._officer(request)
        if officer is None or officer.must_change_password:
            return RedirectResponse("/console/login", 303)
        async with self._sessions() as session:
            found = await self._visible(session, officer, request.path_params["conversation_id"])
            if found is None:
                return self._not_found(request, officer)
            conversation, neighbor = found
            transcript = await conversation_transcript(session, conversation.id)
            earlier = await earlier_conversations(session, neighbor.id, conversation.id)
            notes = await conversation_notes(session, conversation.id)
            report = await conversation_report(session, conversation.id)
        texts = self._texts
        messages = [
            {
                "id": message.id,
                "author": texts(f"console.conversation.author_{message.author}"),
                "direction": message.direction,
                "text": message.text,
                "media_kind": message.media_kind
                if message.media_ref and not message.media_ref.startswith(("telegram:", "twilio:"))
                else None,
                "delivery": texts("console.conversation.delivery", status=status) if status else "",
                "at": message.created_at.astimezone(self._timezone).strftime("%d/%m %H:%M"),
            }
            for message, status in transcript
        ]
        context = {
            "officer": officer,
            "conversation": conversation,
            "status_text": texts(f"console.statuses.{conversation.status}"),
            "commune": neighbor.commune or "",
            "channel": neighbor.channel,
            "contact": neighbor.address
            if neighbor.shares_contact and neighbor.channel == "whatsapp"
            else None,
            "messages": messages,
            "earlier": earlier,
            "outcomes": [(o, texts(f"console.outcomes.{o}")) for o in OUTCOMES],
            "notes": [{"text": n.text, "who": name, "at": self._local(n.created_at)} for n, name in notes],
            "offices": [
                (o.id, o.name) for o in self._directory.offices.values() if o.id != conversation.office_id
            ],
            "report": report
            and {
                "line": texts(
                    "console.actions.report",
                    reference=report.reference,
                    category=texts(f"report.categories.{report.category}"),
                    place=report.place or report.commune,
                ),
                "status": texts(
                    "console.actions.report_status", status=texts(f"report_status.labels.{report.status}")
                ),
                "statuses": [(v, texts(f"report_status.labels.{v}")) for v in REPORT_STATUSES],
            },
            "error": _error_text(texts, request.query_params.get("error")),
        }
        return self._render(request, "console/conversation.html", **context)

    async def act(self, request: Request) -> Response:
        """take, reply, close: each checks the session, the CSRF token and the office."""
        officer = await self._officer(request)
        if officer is None or officer.must_change_password:
            return RedirectResponse("/console/login", 303)
        form = await request.form()
        if not csrf_ok(request, form.get("csrf")):
            return self._render(
                request, "console/login.html", error=self._texts("console.bad_form"), status=403
            )
        action, conversation_id = request.path_params["action"], request.path_params["conversation_id"]
        if action not in ("take", "reply", "close", "note", "transfer", "report"):
            return self._not_found(request, officer)
        here = f"/console/conversations/{conversation_id}"
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            found = await self._visible(session, officer, conversation_id)
            if found is None:
                return self._not_found(request, officer)
            conversation, neighbor = found
            if action == "take":
                officers.take(conversation, officer, now)
            elif action == "reply":
                text = str(form.get("text", "")).strip()
                if not text:
                    return RedirectResponse(f"{here}?error=empty_reply", 303)
                await officers.reply(session, conversation, neighbor, officer, text[:4000], now)
            elif action == "note":
                text = str(form.get("text", "")).strip()
                if not text:
                    return RedirectResponse(f"{here}?error=empty_note", 303)
                officers.add_note(session, conversation, officer, text[:4000], now)
            elif action == "transfer":
                to_office, reason = str(form.get("office", "")), str(form.get("reason", "")).strip()
                if to_office not in self._directory.offices or to_office == conversation.office_id:
                    return RedirectResponse(here, 303)
                if not reason:
                    return RedirectResponse(f"{here}?error=needs_reason", 303)
                await officers.transfer(
                    session, conversation, neighbor, to_office=to_office,
                    to_office_name=self._directory.offices[to_office].name, reason=reason[:300],
                    texts=self._texts, now=now,
                )  # fmt: skip
            elif action == "report":
                report, status = (
                    await conversation_report(session, conversation.id),
                    str(form.get("status", "")),
                )
                if report is None or status not in REPORT_STATUSES:
                    return RedirectResponse(here, 303)
                note = str(form.get("note", "")).strip()[:500]
                await officers.update_report(
                    session, report, status=status, note=note, texts=self._texts, now=now
                )
            else:
                outcome, derived_to = str(form.get("outcome", "")), str(form.get("derived_to", "")).strip()
                if outcome not in OUTCOMES:
                    return RedirectResponse(here, 303)
                if outcome == "derived" and not derived_to:
                    return RedirectResponse(f"{here}?error=derived_needs_to", 303)
                office_name = self._directory.offices[conversation.office_id].name
                await officers.close(
                    session, conversation, neighbor, outcome=outcome, derived_to=derived_to[:200],
                    office_name=office_name, texts=self._texts, now=now,
                )  # fmt: skip
        self._outbox_ready.set()
        return RedirectResponse(here, 303)

    async def media_file(self, request: Request) -> Response:
        """A photo or voice note of a conversation the officer may see."""
        officer = await self._officer(request)
        if officer is None or officer.must_change_password:
            return RedirectResponse("/console/login", 303)
        async with self._sessions() as session:
            message = await session.get(Message, request.path_params["message_id"])
            visible = (
                message is not None
                and message.conversation_id is not None
                and await self._visible(session, officer, message.conversation_id) is not None
            )
        path = self._media.path(message.media_ref) if visible and message.media_ref else None
        if path is None:
            return self._not_found(request, officer)
        return FileResponse(path, headers={"Cache-Control": "private, no-store"})

    async def _visible(
        self, session: AsyncSession, officer: Officer, conversation_id: int
    ) -> tuple[Conversation, Neighbor] | None:
        """The conversation and its neighbor, if the officer may see it; None otherwise."""
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or conversation.office_id not in visible_offices(officer, self._directory):
            return None
        neighbor = await session.get(Neighbor, conversation.neighbor_id)
        return (conversation, neighbor) if neighbor is not None else None

    def _not_found(self, request: Request, officer: Officer) -> Response:
        """The same answer for "does not exist" and "not yours": nothing leaks."""
        return self._render(request, "console/queue.html", officer=officer, waiting=[], tabs=[], status=404)

    # --- helpers -----------------------------------------------------------------------

    async def _officer(self, request: Request) -> Officer | None:
        officer_id = request.session.get("officer_id")
        if not isinstance(officer_id, int):
            return None
        async with self._sessions() as session:
            return await session.get(Officer, officer_id)

    def _local(self, moment: datetime) -> str:
        return moment.astimezone(self._timezone).strftime("%d/%m %H:%M")

    def _render(self, request: Request, template: str, *, status: int = 200, **context: Any) -> Response:
        officer = context.get("officer")
        office_name = self._directory.offices[officer.office_id].name if officer else ""
        context = {"t": self._texts, "csrf": csrf_token(request), "office_name": office_name, **context}
        response = self._templates.TemplateResponse(request, template, context, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        return response


def _error_text(texts: Texts, key: str | None) -> str | None:
    """The message for an `?error=` key of the conversation page."""
    for section in ("console.conversation", "console.actions"):
        with contextlib.suppress(KeyError):
            return texts(f"{section}.{key}") if key else None
    return None
