"""A local double of the Telegram Bot API, served over real HTTP for python-telegram-bot.

It records every call, answers the methods Vecinos uses with Bot-API-shaped JSON, serves
queued updates to getUpdates (long polling) and files to their download route, and fails
on demand the way Telegram does (429 with retry_after, 403 "bot was blocked by the user").
PTB sends form fields whose values are JSON strings; the double decodes them.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.doubles.server import InThread

HANG, HANG_S = 0, 1.5
BOT = {"id": 7000001, "is_bot": True, "first_name": "Vecinos", "username": "VecinosTestBot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.time)
    failed: bool = False  # answered with an error, or left hanging: nothing was delivered


@dataclass
class TelegramApiDouble:
    """Run with `with TelegramApiDouble() as api:`; point TELEGRAM_API_BASE_URL at `api.base_url`."""

    token: str = "123456:TEST-token"
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    # chat_id -> failures to answer sendMessage with, in order: (status, description, retry_after);
    # status 0 hangs: the answer comes `HANG_S` later, to a caller that gave up, and delivers nothing.
    failures: dict[int, list[tuple[int, str, int | None]]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self._message_ids = iter(range(1, 10**9))
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._method, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
                Route("/_calls", self._calls, methods=["GET"]),
            ]
        )
        self._served = InThread(self.app)
        self.base_url = f"{self._served.url}/bot"

    # --- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> TelegramApiDouble:
        self._served.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._served.stop()

    # --- what tests use ----------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (polling mode)."""
        with self._changed:
            self.updates.append(update)
            self._changed.notify_all()

    def sent(self, chat_id: int | None = None, method: str = "sendMessage") -> list[dict[str, Any]]:
        with self._changed:
            return [
                c.params
                for c in self.calls
                if c.method == method and chat_id in (None, c.params.get("chat_id"))
            ]

    def delivered(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """The messages that reached the chat: sendMessage calls answered with success."""
        with self._changed:
            return [
                c.params
                for c in self.calls
                if c.method == "sendMessage" and not c.failed and chat_id in (None, c.params.get("chat_id"))
            ]

    def wait_for_delivered(self, count: int, timeout: float = 30) -> None:
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.delivered()) >= count, timeout=timeout)
        assert arrived, f"expected {count} messages delivered, got {len(self.delivered())}"

    def wait_for(
        self, count: int, chat_id: int | None = None, method: str = "sendMessage", timeout: float = 15
    ) -> list[dict[str, Any]]:
        """The first `count` calls of `method` (to `chat_id`), waiting for them to arrive."""
        with self._changed:
            arrived = self._changed.wait_for(
                lambda: len(self._matching(chat_id, method)) >= count, timeout=timeout
            )
            calls = self._matching(chat_id, method)
        assert arrived, (
            f"expected {count} {method} to {chat_id}, got {len(calls)}: {[c.get('text') for c in calls]}"
        )
        return calls

    def _matching(self, chat_id: int | None, method: str) -> list[dict[str, Any]]:
        return [
            c.params for c in self.calls if c.method == method and chat_id in (None, c.params.get("chat_id"))
        ]

    # --- the API -----------------------------------------------------------------------

    async def _method(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        method = request.path_params["method"]
        params = {k: _decode(v) for k, v in (await request.form()).items()}
        if method == "getUpdates":
            return await self._get_updates(params)
        with self._changed:
            failure = (
                self.failures[params.get("chat_id")].pop(0)
                if method == "sendMessage" and self.failures.get(params.get("chat_id"))
                else None
            )
            self.calls.append(Call(method, params, failed=failure is not None))
            self._changed.notify_all()
        if failure:
            status, description, retry_after = failure
            if status == HANG:
                await asyncio.sleep(HANG_S)  # a platform that does not answer in time
            body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
            if retry_after is not None:
                body["parameters"] = {"retry_after": retry_after}
            return JSONResponse(body, status_code=status)
        return JSONResponse({"ok": True, "result": self._result(method, params)})

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT
        if method == "sendMessage":
            chat = {"id": params["chat_id"], "type": "private"}
            return {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": chat,
                "text": params["text"],
            }
        if method == "getFile":
            return {
                "file_id": params["file_id"],
                "file_unique_id": params["file_id"],
                "file_path": f"files/{params['file_id']}",
            }
        return True  # setWebhook, deleteWebhook, setMyCommands, answerCallbackQuery…

    async def _get_updates(self, params: dict[str, Any]) -> Response:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        with self._changed:
            self.calls.append(Call("getUpdates", params))
            # Confirmed updates (below offset) are forgotten, as Telegram does.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + min(timeout, 1.0)
        while True:
            with self._changed:
                pending = list(self.updates)
            if pending or time.monotonic() >= deadline:
                return JSONResponse({"ok": True, "result": pending})
            await _pause()

    async def _calls(self, request: Request) -> Response:
        """What the benchmarks read: every sendMessage's chat and arrival time."""
        with self._changed:
            sends = [(c.params.get("chat_id"), c.at) for c in self.calls if c.method == "sendMessage"]
        return JSONResponse({"sendMessage": sends})

    async def _file(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        file_id = request.path_params["path"].removeprefix("files/")
        data = self.files.get(file_id)
        return (
            Response(data, media_type="application/octet-stream")
            if data is not None
            else Response(status_code=404)
        )


async def _pause() -> None:
    await asyncio.sleep(0.02)  # the double's long poll: a stand-in for Telegram's


def _decode(value: Any) -> Any:
    """PTB sends nested objects (reply_markup, commands) as JSON strings."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


if __name__ == "__main__":  # python -m tests.doubles.telegram_api PORT (for the benchmarks)
    import sys

    double = TelegramApiDouble()
    uvicorn.run(double.app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
