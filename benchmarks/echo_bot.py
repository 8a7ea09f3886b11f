"""A bare python-telegram-bot echo bot behind a Starlette webhook: the yardstick of SPEC §9.

    python benchmarks/echo_bot.py PORT TELEGRAM_API_BASE_URL

Shaped like PTB's `examples/customwebhookbot/starlettebot.py`: the webhook puts each
update on the application's queue, a MessageHandler echoes the text with sendMessage.
No storage, no understanding: what Vecinos is compared with.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

TOKEN = "123456:TEST-token"


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(update.message.text)


def main() -> None:
    port, base_url = int(sys.argv[1]), sys.argv[2]
    application = (
        Application.builder().token(TOKEN).base_url(base_url).updater(None).concurrent_updates(True).build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))

    async def webhook(request: Request) -> Response:
        await application.update_queue.put(Update.de_json(await request.json(), application.bot))
        return Response()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with application:
            await application.start()
            yield
            await application.stop()

    app = Starlette(routes=[Route("/telegram/webhook", webhook, methods=["POST"])], lifespan=lifespan)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
