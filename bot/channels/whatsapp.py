"""The WhatsApp channel through Twilio: signed webhooks in, REST sends out.

`POST /twilio/whatsapp` validates `X-Twilio-Signature` with twilio's own `RequestValidator`
against `PUBLIC_URL` + path (the URL Twilio signed, whatever the reverse proxy forwards),
stores and handles the message, and answers 200 with empty TwiML. `MessageSid` dedupes
Twilio's retries. `POST /twilio/status` (signed too) records each message's delivery.

WhatsApp allows free-form messages only within 24 hours of the neighbor's last message
(https://www.twilio.com/docs/whatsapp/key-concepts#the-24-hour-window). Outside it, a
message goes as the approved Content template configured for its kind, or waits, with the
reason, until the neighbor writes again.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import Channel, SendError, split_text
from bot.clean import clean_text, clip, text_or_none
from bot.inbound import InboundPipeline
from bot.media import MediaStore
from bot.settings import Settings
from db.limits import ADDRESS, DISPLAY_NAME, MEDIA_REF, PLATFORM_ID
from db.neighbors import find_neighbor
from db.outbox import mark_unreachable, record_delivery
from handlers.events import InboundMessage, Location, Media, Reply, numbered_text

log = logging.getLogger(__name__)

NAME = "whatsapp"
INBOUND_PATH = "/twilio/whatsapp"
STATUS_PATH = "/twilio/status"
TWILIO_API = "https://api.twilio.com"
MAX_TEXT = 1600  # a WhatsApp message body through Twilio
MAX_INBOUND_TEXT = 4096  # WhatsApp's own limit: no real message is longer
MAX_OPTION = 128
REPLY_WINDOW = timedelta(hours=24)
MEDIA_TIMEOUT_S = 8
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Keywords WhatsApp users expect (https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out).
OPT_OUT = {"STOP": "baja", "START": "alta"}
# Twilio error codes that mean the number cannot receive from us.
UNREACHABLE = {21211, 21610, 21614, 63024, 63003}
OUTSIDE_WINDOW = 63016
_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/amr": ".amr",
    "application/pdf": ".pdf",
    "video/mp4": ".mp4",
}


class _RoutedHttpClient(AsyncTwilioHttpClient):
    """Twilio's async HTTP client, sent to `TWILIO_API_BASE_URL` instead of api.twilio.com.

    It also sends the credentials as a header: twilio 9.x would pass them to aiohttp as
    `BasicAuth`, which aiohttp deprecates.
    """

    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=15)
        self._base_url = base_url

    async def request(
        self, method: str, url: str, *args: Any, auth: tuple[str, str] | None = None, **kwargs: Any
    ) -> TwilioResponse:
        if url.startswith(TWILIO_API):
            url = self._base_url + url[len(TWILIO_API) :]
        if auth is not None:
            credentials = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Authorization": f"Basic {credentials}"}
        return await super().request(method, url, *args, **kwargs)


class WhatsAppChannel(Channel):
    """WhatsApp through Twilio's REST API and signed webhooks."""

    name = NAME

    def __init__(
        self,
        settings: Settings,
        pipeline: InboundPipeline,
        sessions: async_sessionmaker[AsyncSession],
        media: MediaStore,
    ) -> None:
        self._pipeline = pipeline
        self._sessions = sessions
        self._media = media
        self._account_sid = settings.twilio_account_sid
        self._auth_token = settings.twilio_auth_token
        self._sender = _whatsapp_address(settings.twilio_whatsapp_number)
        self._api_base = settings.twilio_api_base_url
        self._public_url = settings.public_url
        self._templates = settings.twilio_content_sids
        self._validator = RequestValidator(settings.twilio_auth_token)
        self._limiter = AsyncLimiter(settings.whatsapp_rate_limit, 1)
        self._client: Client | None = None

    async def start(self) -> None:
        # Twilio's async client opens an aiohttp session: it must be made inside the loop.
        self._client = Client(
            self._account_sid, self._auth_token, http_client=_RoutedHttpClient(self._api_base)
        )

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.http_client.close()

    def routes(self) -> list[BaseRoute]:
        return [
            Route(INBOUND_PATH, self.inbound, methods=["POST"]),
            Route(STATUS_PATH, self.status, methods=["POST"]),
        ]

    # --- inbound -----------------------------------------------------------------------

    async def _signed_form(self, request: Request) -> FormData | None:
        """The form, if its signature is Twilio's for the public URL; None otherwise."""
        signature = request.headers.get("X-Twilio-Signature", "")
        try:
            form = await request.form()
        except Exception:  # not a form at all: it cannot carry a valid signature
            return None
        base = self._public_url or f"{request.url.scheme}://{request.url.netloc}"
        query = request.scope.get("query_string", b"").decode()
        url = f"{base}{request.url.path}" + (f"?{query}" if query else "")
        return form if signature and self._validator.validate(url, form, signature) else None

    async def inbound(self, request: Request) -> Response:
        """Authenticate at the door (403), then parse (400), store, handle, answer."""
        form = await self._signed_form(request)
        if form is None:
            return JSONResponse({"error": "forbidden"}, status_code=403)
        # The message's id and its sender's number are taken whole or not at all (a clipped
        # one would be another's); past them, Twilio signed it: whatever else is odd is
        # cleaned, clipped to its column or dropped, and the message kept.
        sid, sender = _str(form.get("MessageSid")), _str(form.get("From"))
        address = sender.removeprefix("whatsapp:")
        if not (_fits(sid, PLATFORM_ID) and sender.startswith("whatsapp:") and _fits(address, ADDRESS)):
            return JSONResponse({"error": "not a WhatsApp message"}, status_code=400)
        message = InboundMessage(
            channel=NAME,
            address=address,
            platform_id=sid,
            received_at=datetime.now(UTC),
            text=clip(_text_of(form), MAX_INBOUND_TEXT),
            option=clip(_str(form.get("ButtonPayload")), MAX_OPTION) or None,
            location=_location(form),
            display_name=text_or_none(form.get("ProfileName"), DISPLAY_NAME) or None,
            contact_shareable=True,
        )
        payload = {key: value for key, value in form.items() if isinstance(value, str)}
        has_media = _str(form.get("NumMedia")) not in ("", "0")
        fetch_media = functools.partial(self._fetch_media, form) if has_media else None
        await self._pipeline.receive(message, payload, fetch_media=fetch_media)
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def status(self, request: Request) -> Response:
        """Delivery reports: queued, sent, delivered, read, failed/undelivered with the code."""
        form = await self._signed_form(request)
        if form is None:
            return JSONResponse({"error": "forbidden"}, status_code=403)
        sid, status = _str(form.get("MessageSid")), clip(_str(form.get("MessageStatus")), 32)
        if not _fits(sid, PLATFORM_ID) or not status:
            return JSONResponse({"error": "not a status callback"}, status_code=400)
        code = clip(_str(form.get("ErrorCode")), 16)
        error = clip(f"{code}: {_str(form.get('ErrorMessage'))}".strip(": "), 1000) if code else None
        async with self._sessions.begin() as session:
            row = await record_delivery(
                session,
                platform_message_id=sid,
                status=status,
                error=error,
                waits=code == str(OUTSIDE_WINDOW),
            )
            if row is not None and code.isascii() and code.isdigit() and int(code) in UNREACHABLE:
                await mark_unreachable(session, channel=NAME, address=row.address, error=error or code)
        return Response(status_code=204)

    async def _fetch_media(self, form: FormData) -> tuple[Media, ...]:
        """Photos, voice notes and documents, fetched with the account's credentials."""
        number = _str(form.get("NumMedia"))
        count = int(number) if number.isascii() and number.isdigit() and len(number) <= 2 else 0
        media = []
        async with httpx.AsyncClient(
            auth=(self._account_sid, self._auth_token), follow_redirects=True, timeout=MEDIA_TIMEOUT_S
        ) as client:
            for index in range(min(count, 10)):
                url = clean_text(_str(form.get(f"MediaUrl{index}")))
                content_type = clip(_str(form.get(f"MediaContentType{index}")), 128)
                kind = (
                    "photo"
                    if content_type.startswith("image/")
                    else "voice"
                    if content_type.startswith("audio/")
                    else "document"
                )
                try:
                    response = await client.get(url)
                    response.raise_for_status()
                    ref = self._media.save(response.content, _EXTENSIONS.get(content_type, ""))
                except Exception as exc:  # httpx's errors (InvalidURL is none of HTTPError), the disk's
                    # Kept by its address: the message is not lost, and Twilio not made to retry.
                    log.warning(
                        "whatsapp: could not fetch a %s (%s); keeping its address", kind, type(exc).__name__
                    )
                    ref = f"twilio:{url}"[:MEDIA_REF]
                media.append(Media(kind, ref, content_type))
        return tuple(media)

    # --- outbound ----------------------------------------------------------------------

    async def send(self, address: str, reply: Reply, *, outbox_id: int) -> str:
        if self._client is None:
            raise SendError("WhatsApp is not connected yet")
        template = None
        if not await self._within_window(address, reply):
            template = self._templates.get(reply.kind)
            if template is None:
                raise SendError(
                    f"outside WhatsApp's 24-hour window, and no template for '{reply.kind}'", waiting=True
                )
        callback = f"{self._public_url}{STATUS_PATH}" if self._public_url else None
        chunks = [reply.text] if template else split_text(numbered_text(reply), MAX_TEXT)
        sid = ""
        try:
            for chunk in chunks:
                async with self._limiter:
                    message = await self._client.messages.create_async(
                        to=_whatsapp_address(address),
                        from_=self._sender,
                        **(
                            {"content_sid": template, "content_variables": json.dumps({"1": chunk[:1024]})}
                            if template
                            else {"body": chunk}
                        ),
                        **({"status_callback": callback} if callback else {}),
                    )
                sid = message.sid
        except TwilioRestException as exc:
            raise _send_error(exc) from exc
        except (TimeoutError, OSError) as exc:
            raise SendError(repr(exc)) from exc
        return sid

    async def _within_window(self, address: str, reply: Reply) -> bool:
        """Free-form text may go: the neighbor wrote within 24 hours (the reply's own message counts)."""
        if reply.answers_at is not None and datetime.now(UTC) - reply.answers_at < REPLY_WINDOW:
            return True
        async with self._sessions() as session:
            neighbor = await find_neighbor(session, channel=NAME, address=address)
        last = neighbor.last_inbound_at if neighbor else None
        return last is not None and datetime.now(UTC) - last < REPLY_WINDOW


def _send_error(exc: TwilioRestException) -> SendError:
    message = f"{exc.code}: {exc.msg}"
    if exc.code == OUTSIDE_WINDOW:
        return SendError(message, waiting=True)
    if exc.code in UNREACHABLE:
        return SendError(message, unreachable=True)
    if exc.status == 429 or exc.status >= 500:
        return SendError(message)
    return SendError(message, permanent=True)


def _text_of(form: FormData) -> str:
    opt_out = _str(form.get("OptOutType")).upper()
    if opt_out in OPT_OUT:
        return OPT_OUT[opt_out]
    body = _str(form.get("Body")) or _str(form.get("ButtonText"))
    return OPT_OUT["START"] if body.strip().upper() == "START" else body


def _location(form: FormData) -> Location | None:
    """The shared point; one that is not a point on the Earth is dropped, the message kept."""
    latitude, longitude = _str(form.get("Latitude")), _str(form.get("Longitude"))
    if not latitude and not longitude:
        return None
    try:
        point = Location(float(latitude), float(longitude))
    except ValueError:
        point = None
    if point is None or not (
        math.isfinite(point.latitude)
        and math.isfinite(point.longitude)
        and abs(point.latitude) <= 90
        and abs(point.longitude) <= 180
    ):
        log.warning("whatsapp: a location that is none; keeping the message without it")
        return None
    return point


def _fits(value: str, limit: int) -> bool:
    """An id or address as it must be stored: not empty, not too long, nothing to clean."""
    return 0 < len(value) <= limit and clean_text(value) == value


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _whatsapp_address(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"
