"""How much the anonymous web chat takes from one browser, one address, and in all.

Anyone can open the chat, so messages and photos are limited per token (one browser) and
per client address (so that new tokens do not buy new limits), in the database that every
worker shares; photos also stop when the media folder reaches MEDIA_QUOTA_MB.

An emergency must never be lost to a limit. A person typing is far below the message
limits (20 a minute, a burst the sliding window allows at once); over one, the answer is
429 with Retry-After and a text that gives the emergency number, and the page keeps the
message queued, shows that text, and sends it after Retry-After: a message is delayed,
never dropped. Per-address limits are generous because neighbors behind one carrier NAT
or one office Wi-Fi share an address. Photos over a limit are refused (the page drops
them and says so) so that they never hold back the text queued behind them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request

from bot.rate_limit import DAY, HOUR, MINUTE, Charge, Limit, RateLimited, RateLimiter
from handlers.texts import Texts

MB = 1024 * 1024

MESSAGES_PER_MINUTE = Limit("webchat.token.minute", 20, MINUTE)
MESSAGES_PER_HOUR = Limit("webchat.token.hour", 120, HOUR)
MESSAGES_PER_DAY = Limit("webchat.token.day", 300, DAY)
PHOTOS_PER_HOUR = Limit("webchat.token.photos.hour", 5, HOUR)
PHOTO_BYTES_PER_DAY = Limit("webchat.token.photo-bytes.day", 30 * MB, DAY)
ADDRESS_POSTS_PER_MINUTE = Limit("webchat.address.minute", 120, MINUTE)
ADDRESS_POSTS_PER_DAY = Limit("webchat.address.day", 3000, DAY)
ADDRESS_NEW_TOKENS_PER_HOUR = Limit("webchat.address.tokens.hour", 30, HOUR)
ADDRESS_PHOTO_BYTES_PER_DAY = Limit("webchat.address.photo-bytes.day", 300 * MB, DAY)
MEDIA_MEASURE_S = 10.0  # how often a worker sums the media folder; between, it adds what it saved


class WebChatQuotas:
    """One call per web chat route: `admit_message` or `admit_photo`; 429 / 507 when over."""

    def __init__(self, limiter: RateLimiter, texts: Texts, media_dir: Path, media_quota_mb: int) -> None:
        self._limiter = limiter
        self._texts = texts
        self._media_dir = media_dir
        self._media_quota = media_quota_mb * MB
        self._media_used = 0
        self._measured_at: float | None = None

    async def admit_message(self, request: Request, token: str) -> None:
        """Count a text or location message, or refuse it with 429."""
        address = _address(request)
        await self._charge(
            [*_token_charges(token, address), *_address_charges(address)], "webchat.too_many_messages"
        )

    async def admit_photo(self, request: Request, token: str, size: int) -> None:
        """Count a photo of `size` bytes, or refuse it: 507 when the media folder is full, else 429."""
        if self._media_usage() + size > self._media_quota:
            raise HTTPException(507, self._texts("webchat.storage_full"))
        address = _address(request)
        charges = [
            *_token_charges(token, address),
            *_address_charges(address),
            Charge(PHOTOS_PER_HOUR, token),
            Charge(PHOTO_BYTES_PER_DAY, token, size),
            Charge(ADDRESS_PHOTO_BYTES_PER_DAY, address, size),
        ]
        await self._charge(charges, "webchat.too_many_photos")
        self._media_used += size

    async def _charge(self, charges: list[Charge], text_key: str) -> None:
        try:
            await self._limiter.charge(charges)
        except RateLimited as refusal:
            headers = {"Retry-After": str(refusal.retry_after)}
            raise HTTPException(429, self._texts(text_key), headers=headers) from refusal

    def _media_usage(self) -> int:
        now = time.monotonic()
        if self._measured_at is None or now - self._measured_at >= MEDIA_MEASURE_S:
            self._media_used = folder_size(self._media_dir)
            self._measured_at = now
        return self._media_used


def _token_charges(token: str, address: str) -> list[Charge]:
    # A token's first message of an hour counts as a new token for its address.
    new_token = Charge(ADDRESS_NEW_TOKENS_PER_HOUR, address)
    return [
        Charge(MESSAGES_PER_MINUTE, token),
        Charge(MESSAGES_PER_HOUR, token, then=new_token),
        Charge(MESSAGES_PER_DAY, token),
    ]


def _address_charges(address: str) -> list[Charge]:
    return [Charge(ADDRESS_POSTS_PER_MINUTE, address), Charge(ADDRESS_POSTS_PER_DAY, address)]


def _address(request: Request) -> str:
    # Behind the reverse proxy this is X-Forwarded-For's client (uvicorn's proxy_headers).
    return request.client.host if request.client is not None else "unknown"


def folder_size(directory: Path) -> int:
    """The bytes of the files directly in `directory` (media files are kept flat)."""
    try:
        with os.scandir(directory) as entries:
            return sum(entry.stat().st_size for entry in entries if entry.is_file(follow_symlinks=False))
    except FileNotFoundError:
        return 0
