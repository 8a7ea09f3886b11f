"""The Telegram channel, on python-telegram-bot: updates in, replies out.

Webhook mode (`PUBLIC_URL` set): `POST /telegram/webhook` checks Telegram's secret token
first (403), parses the update (400 if it is none; an oddly shaped one is tidied by
`telegram_input.py` and kept), stores and handles it through the inbound pipeline,
and only then answers 200, so a crash before that makes Telegram send it again and its
`update_id` makes a retry harmless. Polling mode: our own getUpdates loop confirms an
update (the next offset) only once it is stored, which PTB's Updater does not promise.

Replies: options become inline keyboard buttons (a press answers its callback query and
goes on like a typed number); a request for a location becomes Telegram's location
button. Platform errors become `SendError`s the outbox understands: 429 waits retry_after,
"bot was blocked by the user" marks the neighbor unreachable, network errors retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import json
import logging
import re
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder
from telegram.warnings import PTBDeprecationWarning

from bot.channels.base import Channel, SendError, split_text
from bot.channels.telegram_input import MAX_CALLBACK_DATA, MAX_TEXT, tidy_update, update_id_of
from bot.clean import clip, text_or_none
from bot.inbound import InboundPipeline
from bot.media import MediaStore
from bot.settings import Settings
from bot.supervisor import Loop
from db.limits import DISPLAY_NAME, MEDIA_REF
from handlers.events import InboundMessage, Location, Media, Reply, numbered_text
from handlers.texts import Texts

log = logging.getLogger(__name__)

NAME = "telegram"
WEBHOOK_PATH = "/telegram/webhook"
ALLOWED_UPDATES = ["message", "callback_query"]
POLL_TIMEOUT_S = 25
POLL_RETRY_S = 5
COMMANDS = ("start", "menu", "comuna", "baja", "alta", "borrar", "ayuda")
# Telegram's /start opens a chat: for the dialog it is a greeting.
START = "hola"
# An officer links their chat for alerts: "/vincular CODE", or the console's link, which
# Telegram sends as "/start vincular-CODE" (https://core.telegram.org/bots/features#deep-linking).
_LINK = re.compile(r"^/(?:vincular(?:@\w+)?\s+|start\s+vincular-)([A-Za-z0-9]{8})\s*$")


class TelegramChannel(Channel):
    """Telegram through a PTB `Application` (its bot, rate limiter and lifecycle)."""

    name = NAME
    links_officers = True

    def __init__(
        self, settings: Settings, pipeline: InboundPipeline, media: MediaStore, texts: Texts
    ) -> None:
        self._pipeline = pipeline
        self._media = media
        self._texts = texts
        self._public_url = settings.public_url
        self._secret = settings.telegram_webhook_secret
        self.application: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(settings.telegram_bot_token)
            .base_url(settings.telegram_api_base_url)
            .base_file_url(_file_url(settings.telegram_api_base_url))
            .updater(None)  # our own polling loop, see `_poll`
            # Replies are not throttled to the broadcast rate (TELEGRAM_RATE_LIMIT is for
            # campaigns); the limiter keeps Telegram's 20 a minute per group and lets a 429's
            # retry_after reach the outbox (max_retries=0).
            .rate_limiter(AIORateLimiter(overall_max_rate=0, max_retries=0))
            .build()
        )
        self._callback_answers: set[asyncio.Task[None]] = set()

    @property
    def bot(self) -> Bot:
        return self.application.bot

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """getMe, the command list, then the webhook or the polling loop."""
        await self.application.initialize()
        commands = [BotCommand(c, self._texts(f"telegram.commands.{c}")) for c in COMMANDS]
        await self.bot.set_my_commands(commands)
        if self._public_url:
            await self.bot.set_webhook(
                f"{self._public_url}{WEBHOOK_PATH}",
                secret_token=self._secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            await self.bot.delete_webhook()

    async def stop(self) -> None:
        await self.application.shutdown()

    def loops(self) -> dict[str, Loop]:
        """Without a public address, the line asks Telegram for updates itself."""
        return {} if self._public_url else {"telegram-polling": self._poll}

    def routes(self) -> list[BaseRoute]:
        return [Route(WEBHOOK_PATH, self.webhook, methods=["POST"])] if self._public_url else []

    def chat_link(self, payload: str) -> str | None:
        """t.me's deep link to the bot, once getMe has told its username."""
        try:
            return f"https://t.me/{self.bot.username}?start={payload}"
        except RuntimeError:  # not initialized yet
            return None

    # --- inbound -----------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        """Authenticate at the door, then parse; 403 / 400, never 500."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            data = json.loads(await request.body())
        except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep
            data = None
        if update_id_of(data) is None:
            return JSONResponse({"error": "not a Telegram update"}, status_code=400)
        update = _parse_update(tidy_update(data), self.bot)
        if update is not None:
            await self._receive(update)
        return JSONResponse({})

    async def _poll(self) -> None:
        """getUpdates; an update is confirmed (next offset) only once it is stored."""
        offset: int | None = None
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT_S, allowed_updates=ALLOWED_UPDATES
                )
                for update in updates:
                    await self._receive(update)
                    offset = update.update_id + 1
            except RetryAfter as exc:
                await asyncio.sleep(_retry_seconds(exc))
            except (NetworkError, SQLAlchemyError, OSError):
                log.warning("telegram: polling failed; retrying in %s s", POLL_RETRY_S, exc_info=True)
                await asyncio.sleep(POLL_RETRY_S)

    async def _receive(self, update: Update) -> None:
        platform_id = f"update:{update.update_id}"
        if update.callback_query is not None:
            await self._receive_button(update.callback_query, platform_id)
        elif update.message is not None:
            await self._receive_message(update.message, platform_id)
        # Edited messages and everything else are not part of a neighbor's conversation.

    async def _receive_button(self, query: CallbackQuery, platform_id: str) -> None:
        message = query.message
        chat_id = message.chat.id if message is not None else query.from_user.id
        label = _button_label(query)
        await self._pipeline.receive(
            InboundMessage(
                channel=NAME,
                address=str(chat_id),
                platform_id=platform_id,
                received_at=datetime.now(UTC),
                text=clip(label or query.data or "", MAX_TEXT),
                option=text_or_none(query.data, MAX_CALLBACK_DATA),
                display_name=text_or_none(query.from_user.first_name, DISPLAY_NAME) or None,
            )
        )
        # The client shows a spinner until the query is answered.
        task = asyncio.create_task(self._answer(query.id))
        self._callback_answers.add(task)
        task.add_done_callback(self._callback_answers.discard)

    async def _answer(self, query_id: str) -> None:
        with contextlib.suppress(TelegramError):
            await self.bot.answer_callback_query(query_id)

    async def _receive_message(self, message: Message, platform_id: str) -> None:
        chat = message.chat
        if chat.type != "private":
            # A neighbor's conversation is private: say so to the group, once ever.
            await self._pipeline.notify_once(
                channel=NAME,
                address=str(chat.id),
                key=f"telegram:group:{chat.id}",
                platform_id=platform_id,
                reply=Reply(self._texts("telegram.groups_not_served")),
            )
            return
        link = _LINK.match(message.text or "")
        if link is not None:
            await self._pipeline.link_officer(
                channel=NAME, address=str(chat.id), platform_id=platform_id, code=link.group(1).upper()
            )
            return
        location = message.location
        has_media = bool(message.photo or message.voice)
        await self._pipeline.receive(
            InboundMessage(
                channel=NAME,
                address=str(chat.id),
                platform_id=platform_id,
                received_at=message.date or datetime.now(UTC),
                text=_text_of(message),
                location=Location(location.latitude, location.longitude) if location else None,
                display_name=text_or_none(message.from_user.first_name, DISPLAY_NAME)
                if message.from_user
                else None,
            ),
            fetch_media=functools.partial(self._media_of, message) if has_media else None,
        )

    async def _media_of(self, message: Message) -> tuple[Media, ...]:
        """Photos and voice notes, fetched with getFile and kept in the media store."""
        if message.photo:
            kind, file_id, extension, content_type = "photo", message.photo[-1].file_id, ".jpg", "image/jpeg"
        elif message.voice:
            kind, file_id, extension, content_type = "voice", message.voice.file_id, ".ogg", "audio/ogg"
        else:
            return ()
        try:
            telegram_file = await self.bot.get_file(file_id)
            ref = self._media.save(bytes(await telegram_file.download_as_bytearray()), extension)
        except Exception as exc:  # TelegramError, but also httpx's or the disk's (OSError)
            # Kept as Telegram's id: the file can be fetched later, the message is not lost,
            # and Telegram is not made to retry what would fail again.
            log.warning(
                "telegram: could not download a %s (%s); keeping its file id", kind, type(exc).__name__
            )
            ref = f"telegram:{file_id}"[:MEDIA_REF]
        return (Media(kind, ref, content_type),)

    # --- outbound ----------------------------------------------------------------------

    async def send(self, address: str, reply: Reply, *, outbox_id: int) -> str:
        chat_id = int(address)
        if reply.asks_location:
            button = KeyboardButton(self._texts("telegram.share_location"), request_location=True)
            markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = ReplyKeyboardMarkup(
                [[button]], one_time_keyboard=True, resize_keyboard=True
            )
            text = numbered_text(reply)  # one keyboard per message: the options as text
        elif reply.options:
            rows = [
                [InlineKeyboardButton(o.label, callback_data=o.key[:MAX_CALLBACK_DATA])]
                for o in reply.options
            ]
            markup, text = InlineKeyboardMarkup(rows), reply.text
        else:
            markup, text = None, reply.text
        chunks = split_text(text, MAX_TEXT)
        message_id = ""
        try:
            for index, chunk in enumerate(chunks):
                last = index == len(chunks) - 1
                sent = await self.bot.send_message(chat_id, chunk, reply_markup=markup if last else None)
                message_id = str(sent.message_id)
        except RetryAfter as exc:
            raise SendError(str(exc), retry_after=_retry_seconds(exc)) from exc
        except Forbidden as exc:
            raise SendError(str(exc), unreachable=True) from exc
        except BadRequest as exc:  # a subclass of NetworkError: it must be caught first
            raise SendError(str(exc), permanent=True) from exc
        except TelegramError as exc:  # network errors and time-outs: retried
            raise SendError(str(exc)) from exc
        return message_id


def _parse_update(data: dict[str, Any], bot: Bot) -> Update | None:
    """The tidied update as PTB's, or None (logged) if PTB still cannot read it."""
    try:
        return Update.de_json(data, bot)
    except Exception:  # PTB's parsers raise anything; the update is acknowledged all the same
        log.warning("telegram: could not read update %s; acknowledged, nothing kept", data["update_id"])
        return None


def _text_of(message: Message) -> str:
    text = clip(message.text or message.caption or "", MAX_TEXT)
    if text.startswith("/"):
        command = text.split()[0].split("@")[0][1:].lower()  # "/menu@VecinosBot" -> "menu"
        return START if command == "start" else command
    return text


def _button_label(query: CallbackQuery) -> str | None:
    markup = query.message.reply_markup if query.message is not None else None
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return None


def _file_url(base_url: str) -> str:
    """Files download from `…/file/bot<token>` beside the API's `…/bot<token>`."""
    return base_url.removesuffix("/bot") + "/file/bot"


def _retry_seconds(exc: RetryAfter) -> float:
    """`retry_after` in seconds; PTB 22 warns that it will become a timedelta, we take both."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        retry_after = exc.retry_after
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)
