"""The whole line with every channel on (web chat, Telegram webhook, WhatsApp, console).

Platform APIs are the local doubles; requests reach the app through the ASGI transport,
with 500s answered (not raised), as a platform or a browser would see them.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from bot.app import create_app
from bot.settings import Settings
from tests.doubles.telegram_api import TelegramApiDouble
from tests.doubles.twilio_api import ACCOUNT, SENDER, TOKEN, TwilioApiDouble, signed

PUBLIC = "https://vecinos.example.cl"
TELEGRAM_SECRET = "s3cr3t-token_for-tests"


def settings_for(
    database_url: str, media_dir: Path, telegram: TelegramApiDouble, twilio: TwilioApiDouble
) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        media_dir=media_dir,
        public_url=PUBLIC,
        secret_key="k" * 40,
        telegram_bot_token=telegram.token,
        telegram_api_base_url=telegram.base_url,
        telegram_webhook_secret=TELEGRAM_SECRET,
        twilio_account_sid=ACCOUNT,
        twilio_auth_token=TOKEN,
        twilio_whatsapp_number=SENDER,
        twilio_api_base_url=twilio.url,
    )


@contextlib.asynccontextmanager
async def serving(
    database_url: str, media_dir: Path, telegram: TelegramApiDouble, twilio: TwilioApiDouble
) -> AsyncIterator[httpx.AsyncClient]:
    """The app's lifespan around an HTTP client to it (at the public address Twilio signs)."""
    app = create_app(settings_for(database_url, media_dir, telegram, twilio))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
            yield client


def as_json(value: Any) -> dict[str, Any]:
    """Request arguments for a JSON body; escaped, so that lone surrogates go as JSON sends them."""
    return {"content": json.dumps(value), "headers": {"content-type": "application/json"}}


async def telegram_update(client: httpx.AsyncClient, update: Any) -> httpx.Response:
    request = as_json(update)
    request["headers"]["X-Telegram-Bot-Api-Secret-Token"] = TELEGRAM_SECRET
    return await client.post("/telegram/webhook", **request)


async def twilio_post(client: httpx.AsyncClient, path: str, params: dict[str, str]) -> httpx.Response:
    """A form Twilio signed (with twilio's own RequestValidator) for the public URL."""
    body, headers = signed(f"{PUBLIC}{path}", params)
    return await client.post(path, content=body, headers=headers)


async def chat_message(client: httpx.AsyncClient, token: str, **fields: Any) -> httpx.Response:
    body = {"token": token, "client_id": str(uuid.uuid4()), **fields}
    return await client.post("/chat/api/messages", **as_json(body))


async def api_json(client: httpx.AsyncClient, method: str, path: str, body: Any = None) -> httpx.Response:
    """A console API call with the session's CSRF token and any JSON body."""
    token = (await client.get("/api/me")).json()["csrf_token"]
    request = as_json(body)
    request["headers"]["X-CSRF-Token"] = token
    return await client.request(method, path, **request)
