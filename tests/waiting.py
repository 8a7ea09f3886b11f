"""Waiting for what has no event to wait on: a row in a database, a file on disk."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def until(condition: Callable[[], Awaitable[bool]], within: float = 15) -> None:
    """Return as soon as `condition()` holds; fail after `within` seconds."""
    async with asyncio.timeout(within):
        # Another process's database rings no bell: look every 20 ms.
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
