"""The console's pages about the office rather than one conversation.

One's account (and the Telegram chat linked for alerts), the office admin's page (accounts,
hours, quick replies), and the figures.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console import actions, schemas, views
from bot.console.context import ConsoleContext, NotFound, require_admin, visible_offices
from bot.console.web import Web, redirect
from db.figures import office_figures
from db.models import Officer
from db.officers import office_officers
from db.quick_replies import office_quick_replies
from handlers.offices import hours_text
from routing.directory import DAY_NAMES, entries_of, week_of

WEEKS = (4, 12, 26, 52)
RANGES_PER_DAY = 2


def _to_account(request: Request) -> str:
    return "/console/account"


def _to_admin(request: Request) -> str:
    return "/console/admin"


class OfficePages:
    """Account, admin and figures pages."""

    def __init__(self, context: ConsoleContext, web: Web) -> None:
        self._context = context
        self._web = web

    def routes(self) -> list[BaseRoute]:
        page = self._web.page
        account, admin = _to_account, _to_admin
        return [
            Route("/console/account", page(self.account), methods=["GET"]),
            Route("/console/account/link-code", page(self.link_code, back=account), methods=["POST"]),
            Route("/console/account/unlink", page(self.unlink, back=account), methods=["POST"]),
            Route("/console/admin", page(self.admin), methods=["GET"]),
            Route("/console/admin/officers", page(self.add_officer, back=admin), methods=["POST"]),
            Route(
                "/console/admin/officers/{officer_id:int}/reset",
                page(self.reset_password, back=admin),
                methods=["POST"],
            ),
            Route(
                "/console/admin/officers/{officer_id:int}/active",
                page(self.set_active, back=admin),
                methods=["POST"],
            ),
            Route(
                "/console/admin/officers/{officer_id:int}/on-call",
                page(self.set_on_call, back=admin),
                methods=["POST"],
            ),
            Route("/console/admin/hours", page(self.set_hours, back=admin), methods=["POST"]),
            Route("/console/admin/quick-replies", page(self.add_quick_reply, back=admin), methods=["POST"]),
            Route(
                "/console/admin/quick-replies/{quick_reply_id:int}/delete",
                page(self.delete_quick_reply, back=admin),
                methods=["POST"],
            ),
            Route("/console/figures", page(self.figures), methods=["GET"]),
        ]

    # --- one's account -------------------------------------------------------------------

    async def account(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        return self._render_account(request, officer)

    async def link_code(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        code = await actions.new_link_code(self._context, officer)
        until = code.expires_at.astimezone(self._context.timezone).strftime("%H:%M")
        return self._render_account(request, officer, code=code, until=until)

    async def unlink(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        await actions.unlink_alerts(self._context, officer)
        return redirect("/console/account")

    def _render_account(self, request: Request, officer: Officer, **values: object) -> Response:
        return self._web.render(
            request,
            "console/account.html",
            officer=officer,
            alerts_on=self._context.alert_channel is not None,
            **values,
        )

    # --- the office admin's page ---------------------------------------------------------

    async def admin(
        self, request: Request, officer: Officer, form: FormData | None, **values: object
    ) -> Response:
        require_admin(officer)
        context = self._context
        async with context.sessions() as session:
            accounts = await office_officers(session, officer.office_id)
            quick_replies = await office_quick_replies(session, officer.office_id)
        office = context.directory.offices[officer.office_id]
        week = week_of(office)
        names = context.texts.table("calendar.short_days")
        days = [
            (index, names[name], (week[index] + [("", "")] * RANGES_PER_DAY)[:RANGES_PER_DAY])
            for index, name in enumerate(DAY_NAMES)
        ]
        return self._web.render(
            request,
            "console/admin.html",
            officer=officer,
            accounts=[views.officer_out(context, a) for a in accounts],
            quick_replies=quick_replies,
            days=days,
            hours_now=hours_text(office, context.texts),
            **values,
        )

    async def add_officer(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        account, password = await actions.add_officer(self._context, officer, form)
        return await self._show_password(request, officer, account, password)

    async def reset_password(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        account, password = await actions.reset_password(
            self._context, officer, request.path_params["officer_id"]
        )
        return await self._show_password(request, officer, account, password)

    async def _show_password(
        self, request: Request, admin: Officer, account: Officer, password: str
    ) -> Response:
        """Shown once, in the answer to the form: never in a link or a cookie."""
        new_account = {"name": account.name, "email": account.email, "password": password}
        return await self.admin(request, admin, None, new_account=new_account)

    async def set_active(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        await actions.set_active(
            self._context, officer, request.path_params["officer_id"], {"active": form.get("active") == "1"}
        )
        return redirect("/console/admin")

    async def set_on_call(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        await actions.set_on_call(
            self._context, officer, request.path_params["officer_id"], {"on_call": form.get("on_call") == "1"}
        )
        return redirect("/console/admin")

    async def set_hours(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        """The form has, per day, up to two ranges (opens, closes); empty ones mean closed."""
        require_admin(officer)
        week = [
            [
                (
                    str(form.get(f"opens-{day}-{n}", "")).strip(),
                    str(form.get(f"closes-{day}-{n}", "")).strip(),
                )
                for n in range(RANGES_PER_DAY)
            ]
            for day in range(len(DAY_NAMES))
        ]
        filled = [[(o, c) for o, c in ranges if o or c] for ranges in week]
        if any(not (o and c) for ranges in filled for o, c in ranges):
            return redirect("/console/admin?error=bad_hours")  # an hour without its pair
        await actions.set_hours(self._context, officer, {"hours": entries_of(filled)})
        return redirect("/console/admin")

    async def add_quick_reply(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        await actions.add_office_quick_reply(self._context, officer, form)
        return redirect("/console/admin")

    async def delete_quick_reply(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        await actions.delete_office_quick_reply(self._context, officer, request.path_params["quick_reply_id"])
        return redirect("/console/admin")

    # --- figures -------------------------------------------------------------------------

    async def figures(self, request: Request, officer: Officer, form: FormData | None) -> Response:
        found, weeks = await figures_for(self._context, officer, request)
        visible = sorted(visible_offices(officer, self._context.directory))
        return self._web.render(
            request,
            "console/figures.html",
            officer=officer,
            figures=found,
            choices=[views.office_ref(self._context, o) for o in visible] if len(visible) > 1 else [],
            chosen=request.query_params.get("office", ""),
            weeks=weeks,
            week_choices=WEEKS,
        )


async def figures_for(
    context: ConsoleContext, officer: Officer, request: Request
) -> tuple[schemas.Figures, int]:
    """The figures `?office=` (one the officer sees; all of them if none) over `?weeks=`."""
    visible = visible_offices(officer, context.directory)
    chosen = request.query_params.get("office", "")
    if chosen and chosen not in visible:
        raise NotFound("not_found")
    try:
        weeks = int(request.query_params.get("weeks", "12"))
    except ValueError:
        weeks = 12
    weeks = weeks if weeks in WEEKS else 12
    office_ids = [chosen] if chosen else sorted(visible)
    async with context.sessions() as session:
        found = await office_figures(
            session, office_ids, weeks=weeks, now=datetime.now(UTC), timezone=context.timezone
        )
    return views.figures(context, found, office_ids, weeks), weeks
