"""Security headers on every response: what a browser may load, frame, sniff and send along.

The pages load only their own scripts, styles and images (no inline code: the web chat's
texts travel in a JSON `<script type="application/json">`, which is data, not code), so
the policy allows 'self' and nothing inline. The web chat previews a photo from a `blob:`
URL before it is sent, draws its icons from `data:` SVGs and asks for the location, so
those are allowed too.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # blob: the web chat's preview of a photo about to be sent; data: its icons (SVG in
        # chat.css). Images run no code, so neither opens a way to inject any.
        "img-src 'self' blob: data:",
        "media-src 'self'",  # voice notes in the console
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",  # no clickjacking: the console is never framed
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # a conversation's URL never leaves for another site
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=(), payment=(), usb=()",
}
# Served over https only (PUBLIC_URL is https): browsers come back over https for a year.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


class SecurityHeadersMiddleware:
    """Adds `HEADERS` to every HTTP response that does not set its own value."""

    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.headers = dict(HEADERS)
        if https:
            self.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
