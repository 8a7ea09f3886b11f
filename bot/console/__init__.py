"""`/console` and `/api/`: the officers' web console and its JSON API.

`console_routes(context)` is all the app needs; the modules inside are the door and the
rendering (`web`), the rules (`context`), the shapes (`schemas`, `views`), the changes
(`actions`) and the pages (`pages`, `office`, `api`).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from bot.console.api import Api
from bot.console.context import ConsoleContext
from bot.console.office import OfficePages
from bot.console.pages import Pages
from bot.console.web import Web


def console_routes(context: ConsoleContext) -> list[BaseRoute]:
    web = Web(context)
    return [
        *Pages(context, web).routes(),
        *OfficePages(context, web).routes(),
        *Api(context, web).routes(),
    ]
