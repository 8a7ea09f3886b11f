"""A per-route limit on request bodies, enforced before and while they are read.

uvicorn has no body limit and Starlette reads a body whole, so without this a client can
make a worker hold any amount of memory. This pure ASGI middleware answers 413 at once to
a declared Content-Length over the route's limit (the app never runs), and counts the
bytes of a body without one (chunked) as the app reads them: past the limit it answers
413 itself and the app's read fails. Nothing is buffered here; uvicorn stops reading the
socket while the app does not read (its flow control), so memory stays small either way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

KB = 1024
MB = 1024 * KB


class BodyTooLarge(Exception):
    """Raised into the app's read of a body that went over its route's limit."""


class BodyLimit:
    """Refuses request bodies over the limit of the longest matching path prefix.

    Args:
        app: the wrapped app.
        limits: (path prefix, bytes) pairs; the longest prefix that matches a path wins.
        default: the limit of every other path.
        error: the refusal's text, asked at refusal time (the catalog's JSON error).
    """

    def __init__(
        self, app: ASGIApp, *, limits: Sequence[tuple[str, int]], default: int, error: Callable[[], str]
    ) -> None:
        self.app = app
        self.limits = sorted(limits, key=lambda limit: len(limit[0]), reverse=True)
        self.default = default
        self.error = error

    def limit_for(self, path: str) -> int:
        return next((size for prefix, size in self.limits if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(send)
            return
        state = {"received": 0, "started": False, "refused": False}

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    if not state["started"]:
                        state["refused"] = True
                        await self._refuse(send)
                    raise BodyTooLarge(f"request body over {limit} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            if state["refused"]:
                return  # our 413 is the answer; whatever the app makes of the failed read is dropped
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLarge:
            if not state["refused"]:
                raise

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": self.error()}, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before the app runs
    return None
