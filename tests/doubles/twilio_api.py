"""A local double of Twilio's REST API for WhatsApp, over real HTTP, and a request signer.

Messages.json records what Vecinos sends (To, From, Body, ContentSid, ContentVariables,
StatusCallback) and answers with a message resource, or with the error Twilio would give
(429, 63016 outside the window, 63024 invalid recipient) when told to. Media are served
behind HTTP Basic auth with the account's credentials, as Twilio serves them.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from tests.doubles.server import InThread

HANG, HANG_S = 0, 1.5
ACCOUNT = "AC" + "0" * 32
TOKEN = "twilio-auth-token-for-tests"
SENDER = "whatsapp:+14155238886"


@dataclass
class TwilioApiDouble:
    """Run with `with TwilioApiDouble() as api:`; point TWILIO_API_BASE_URL at `api.url`."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)  # the media names fetched, in order
    # recipient ("whatsapp:+569…") -> failures to answer with, in order: (http status, Twilio code);
    # status 0 hangs: the answer comes `HANG_S` later, to a caller that gave up, and delivers nothing.
    failures: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self._sids = (f"SM{n:032d}" for n in itertools.count(1))
        app = Starlette(
            routes=[
                Route("/2010-04-01/Accounts/{account}/Messages.json", self._create, methods=["POST"]),
                Route("/media/{name}", self._media, methods=["GET"]),
            ]
        )
        self._served = InThread(app)
        self.url = self._served.url

    def __enter__(self) -> TwilioApiDouble:
        self._served.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._served.stop()

    def wait_for(self, count: int, to: str | None = None, timeout: float = 15) -> list[dict[str, Any]]:
        """The first `count` messages created (to `to`), waiting for them."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self._to(to)) >= count, timeout=timeout)
            messages = self._to(to)
        assert arrived, f"expected {count} messages to {to}, got {[m.get('Body') for m in messages]}"
        return messages

    def delivered(self, to: str | None = None) -> list[dict[str, Any]]:
        """The messages Twilio accepted (answered 201)."""
        with self._changed:
            return [m for m in self._to(to) if not m["failed"]]

    def wait_for_delivered(self, count: int, timeout: float = 30) -> None:
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.delivered()) >= count, timeout=timeout)
        assert arrived, f"expected {count} messages delivered, got {len(self.delivered())}"

    def _to(self, to: str | None) -> list[dict[str, Any]]:
        return [m for m in self.sent if to in (None, m["To"])]

    async def _create(self, request: Request) -> Response:
        if request.path_params["account"] != ACCOUNT or not _authorized(request):
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, status_code=401)
        params = dict(await request.form())
        with self._changed:
            failure = (
                self.failures[params.get("To", "")].pop(0)
                if self.failures.get(params.get("To", ""))
                else None
            )
            self.sent.append({**params, "failed": failure is not None})
            self._changed.notify_all()
        if failure is not None:
            status, code = failure
            if status == HANG:
                await asyncio.sleep(HANG_S)
                status = 504
            body = {"code": code, "message": f"Twilio error {code}", "status": status, "more_info": ""}
            return JSONResponse(body, status_code=status)
        sid = next(self._sids)
        resource = {
            "sid": sid,
            "account_sid": ACCOUNT,
            "status": "queued",
            "to": params.get("To"),
            "from": params.get("From"),
            "body": params.get("Body"),
            "direction": "outbound-api",
        }
        return JSONResponse(resource, status_code=201)

    async def _media(self, request: Request) -> Response:
        if not _authorized(request):
            return Response(status_code=401)
        self.downloads.append(request.path_params["name"])
        data, content_type = self.media.get(request.path_params["name"], (None, ""))
        return Response(data, media_type=content_type) if data is not None else Response(status_code=404)


def _authorized(request: Request) -> bool:
    expected = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    return request.headers.get("authorization") == expected


def signed(url: str, params: dict[str, str], token: str = TOKEN) -> tuple[str, dict[str, str]]:
    """The form body and headers of a webhook Twilio would send to `url`, signed with twilio's validator."""
    signature = RequestValidator(token).compute_signature(url, params)
    headers = {"X-Twilio-Signature": signature, "content-type": "application/x-www-form-urlencoded"}
    return urlencode(params), headers
