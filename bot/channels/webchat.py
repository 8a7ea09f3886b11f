"""The web chat: a page served by Vecinos itself, so the line can be tried with no account.

A neighbor's identity is a random token the page keeps in the browser. The page posts
messages (deduplicated by a client id, so a retry never doubles one) and long-polls for
the transcript; a reply shows once the dispatcher has marked it sent, which wakes the
neighbor's pollers at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from bot.channels.base import Channel
from bot.channels.webchat_input import MAX_TEXT, read_identity, read_message, read_poll
from bot.channels.webchat_quotas import WebChatQuotas
from bot.clean import clean_text
from bot.inbound import InboundPipeline
from bot.media import MediaStore, image_extension
from db.models import Message, OutboxMessage
from db.neighbors import find_neighbor
from db.outbox import DELIVERED
from handlers.events import InboundMessage, Location, Media, Reply
from handlers.texts import Texts

NAME = "webchat"
MAX_PHOTO_BYTES = 10 * 1024 * 1024
POLL_FALLBACK_S = 2.0  # other workers' replies are found by polling the database
_PAGE_TEXTS = ("start", "you", "office", "sending", "retrying", "location_denied", "photo_too_big")


class WebChat(Channel):
    """The `/chat` page and its JSON API."""

    name = NAME

    def __init__(
        self,
        pipeline: InboundPipeline,
        sessions: async_sessionmaker[AsyncSession],
        texts: Texts,
        templates: Jinja2Templates,
        media: MediaStore,
        quotas: WebChatQuotas,
    ) -> None:
        self._pipeline = pipeline
        self._sessions = sessions
        self._texts = texts
        self._templates = templates
        self._media = media
        self._quotas = quotas
        self._arrivals: dict[str, asyncio.Event] = {}  # token -> woken when a reply is sent

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/chat", self.page, methods=["GET"]),
            Route("/chat/api/messages", self.post_message, methods=["POST"]),
            Route("/chat/api/messages", self.list_messages, methods=["GET"]),
            Route("/chat/api/photos", self.post_photo, methods=["POST"]),
        ]

    async def send(self, address: str, reply: Reply, *, outbox_id: int) -> str:
        # The transcript is the delivery: marking the row sent makes it visible to the page.
        return f"web-{outbox_id}"

    def sent(self, address: str) -> None:
        event = self._arrivals.pop(address, None)
        if event is not None:
            event.set()

    async def page(self, request: Request) -> Response:
        texts = self._texts
        context = {
            "t": texts,
            "static_url": "/static",
            "js_texts": {f"webchat.{key}": texts(f"webchat.{key}") for key in _PAGE_TEXTS},
        }
        return self._templates.TemplateResponse(request, "chat.html", context)

    async def post_message(self, request: Request) -> Response:
        body = read_message(await _json_object(request, self._texts), self._texts)
        location = body.location
        await self._quotas.admit_message(request, body.token)
        message = InboundMessage(
            channel=NAME,
            address=body.token,
            platform_id=f"{body.token}:{body.client_id}",
            received_at=datetime.now(UTC),
            text=body.text,
            option=body.option,
            location=Location(location.latitude, location.longitude) if location else None,
        )
        accepted = await self._pipeline.receive(message)
        return JSONResponse({"accepted": True, "duplicate": not accepted}, status_code=202)

    async def post_photo(self, request: Request) -> Response:
        try:
            form = await request.form(max_files=1, max_fields=4, max_part_size=MAX_PHOTO_BYTES + 1024)
        except Exception as exc:  # multipart parsing errors have no common base
            raise HTTPException(400, self._texts("webchat.bad_photo")) from exc
        try:
            token, client_id = read_identity(form.get("token"), form.get("client_id"), self._texts)
            upload, caption = form.get("file"), form.get("caption") or ""
            if not isinstance(upload, UploadFile) or not isinstance(caption, str):
                raise HTTPException(400, self._texts("webchat.bad_photo"))
            data = await upload.read(MAX_PHOTO_BYTES + 1)
        finally:
            await form.close()
        if len(data) > MAX_PHOTO_BYTES:
            raise HTTPException(413, self._texts("webchat.photo_too_big"))
        extension = image_extension(data)
        if extension is None:
            raise HTTPException(400, self._texts("webchat.bad_photo"))
        await self._quotas.admit_photo(request, token, len(data))
        ref = self._media.save(data, extension)
        message = InboundMessage(
            channel=NAME,
            address=token,
            platform_id=f"{token}:{client_id}",
            received_at=datetime.now(UTC),
            text=clean_text(caption)[:MAX_TEXT],
            media=(Media("photo", ref, f"image/{extension[1:]}"),),
        )
        accepted = await self._pipeline.receive(message)  # a duplicate's file is deleted
        return JSONResponse({"accepted": True, "duplicate": not accepted}, status_code=202)

    async def list_messages(self, request: Request) -> Response:
        """The transcript after `after`, waiting up to `wait` seconds for something new."""
        token, after, wait = read_poll(request.query_params, request.headers, self._texts)
        deadline = time.monotonic() + wait
        while True:
            arrival = self._arrivals.setdefault(token, asyncio.Event())
            messages = await self._transcript(token, after)
            remaining = deadline - time.monotonic()
            if messages or remaining <= 0 or await request.is_disconnected():
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, POLL_FALLBACK_S)):
                    await arrival.wait()
        if self._arrivals.get(token) is arrival:
            del self._arrivals[token]  # nobody keeps an event for a page that left
        last_id = messages[-1]["id"] if messages else after
        return JSONResponse({"messages": messages, "last_id": last_id})

    async def _transcript(self, token: str, after: int) -> list[dict[str, Any]]:
        async with self._sessions() as session:
            neighbor = await find_neighbor(session, channel=NAME, address=token)
            if neighbor is None:
                return []
            # Stop before the first reply not yet sent, so that the page's `after` never skips it.
            unsent = await session.scalar(
                select(func.min(Message.id))
                .join(OutboxMessage, OutboxMessage.message_id == Message.id)
                .where(
                    Message.neighbor_id == neighbor.id,
                    Message.id > after,
                    OutboxMessage.status.in_(("pending", "sending")),
                )
            )
            query = (
                select(Message)
                .outerjoin(OutboxMessage, OutboxMessage.message_id == Message.id)
                .where(
                    Message.neighbor_id == neighbor.id,
                    Message.id > after,
                    or_(Message.direction == "in", OutboxMessage.status.in_((*DELIVERED, "failed"))),
                )
                .order_by(Message.id)
                .limit(200)
            )
            if unsent is not None:
                query = query.where(Message.id < unsent)
            rows = (await session.execute(query)).scalars().all()
        return [_as_json(row) for row in rows]


async def _json_object(request: Request, texts: Texts) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, or nested too deep
        raise HTTPException(400, texts("webchat.bad_message")) from exc
    if not isinstance(body, dict):
        raise HTTPException(400, texts("webchat.bad_message"))
    return body


def _as_json(message: Message) -> dict[str, Any]:
    location = None
    if message.latitude is not None and message.longitude is not None:
        location = {"latitude": message.latitude, "longitude": message.longitude}
    return {
        "id": message.id,
        "direction": message.direction,
        "text": message.text,
        "options": message.options or [],
        "media": {"kind": message.media_kind} if message.media_kind else None,
        "location": location,
        "at": message.created_at.isoformat(),
    }
