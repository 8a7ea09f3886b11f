"""What every console page does: find the officer, check the CSRF token, render, refuse.

A page that needs a signed-in officer is written `async def page(request, officer, form)`
and wrapped with `Web.page`; forms (POST) get their CSRF token checked before the page
sees them, and a refused input comes back to the page it was sent from, with the reason.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.auth import csrf_ok, csrf_token
from bot.console import views
from bot.console.context import (
    ConsoleContext,
    ConsoleError,
    Forbidden,
    Invalid,
    NotSignedIn,
    check_path_ids,
    session_officer,
    signed_in,
)
from db.models import Officer

PageHandler = Callable[[Request, Officer, FormData | None], Awaitable[Response]]


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


class Web:
    """Rendering and the signed-in wrapper, shared by the console's page modules."""

    def __init__(self, context: ConsoleContext) -> None:
        self.context = context

    def render(
        self,
        request: Request,
        template: str,
        *,
        officer: Officer | None = None,
        status: int = 200,
        **values: Any,
    ) -> Response:
        texts = self.context.texts
        error = values.pop("error", None) or _error_key(request)
        context = {
            "t": texts,
            "csrf": csrf_token(request),
            "officer": officer,
            "me": views.me(self.context, officer) if officer else None,
            "error": texts(f"console.errors.{error}")
            if error and f"console.errors.{error}" in texts
            else None,
            **values,
        }
        response = self.context.templates.TemplateResponse(request, template, context, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        return response

    def page(
        self, handler: PageHandler, *, back: Callable[[Request], str] | None = None
    ) -> Callable[[Request], Awaitable[Response]]:
        """`handler` for a signed-in officer; on a form, after its CSRF token is checked.

        A refused form input returns to `back(request)` with `?error=`; other errors render
        their page (403, 404); no session goes to the sign-in page.
        """

        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            try:
                officer = await signed_in(request, self.context)
            except NotSignedIn:
                pending = await session_officer(request, self.context)
                return redirect("/console/password" if pending else "/console/login")
            form = None
            try:
                if request.method == "POST":
                    form = await request.form()
                    if not csrf_ok(request, form.get("csrf")):
                        raise Forbidden("bad_form")
                check_path_ids(request)
                return await handler(request, officer, form)
            except Invalid as exc:
                if back is None:
                    return self.refused(request, officer, exc)
                return redirect(f"{back(request)}?error={exc.key}")
            except ConsoleError as exc:
                return self.refused(request, officer, exc)

        return endpoint

    def refused(self, request: Request, officer: Officer | None, error: ConsoleError) -> Response:
        """The page that says why: the same for "does not exist" and "not yours"."""
        return self.render(
            request, "console/refused.html", officer=officer, status=error.status, error=error.key
        )


def _error_key(request: Request) -> str | None:
    return request.query_params.get("error")
