"""What every channel adapter is: parse platform traffic, send replies, say what it can do.

Channel differences are capabilities the core asks about, never `if channel == …`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from starlette.routing import BaseRoute

from bot.supervisor import Loop
from handlers.events import Reply


class SendError(Exception):
    """A send failed; `permanent` ones are not retried (blocked bot, invalid number)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        unreachable: bool = False,
        waiting: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent or unreachable
        self.retry_after = retry_after
        self.unreachable = unreachable  # the neighbor blocked the bot: send them nothing more
        self.waiting = waiting  # cannot go now (WhatsApp's 24-hour window): waits for the neighbor


class Channel(ABC):
    """Base of the adapters; a subclass writes `send` and, where it has any, `routes`."""

    name: str = ""
    links_officers: bool = False  # officers may link a chat here, for alerts of new conversations

    async def start(self) -> None:  # noqa: B027 (an optional hook)
        """Connect to the platform (called by the app's lifespan)."""

    async def stop(self) -> None:  # noqa: B027 (an optional hook)
        """Disconnect, in reverse."""

    def routes(self) -> list[BaseRoute]:
        """The HTTP routes the channel answers (webhooks, pages)."""
        return []

    def loops(self) -> dict[str, Loop]:
        """Loops to run, once started, for as long as the server (restarted if they stop)."""
        return {}

    @abstractmethod
    async def send(self, address: str, reply: Reply, *, outbox_id: int) -> str | None:
        """Deliver `reply`; the platform's message id, if it gives one. Raises `SendError`."""

    def sent(self, address: str) -> None:  # noqa: B027 (an optional hook)
        """Told after a message to `address` is marked sent (a web chat wakes its pollers)."""

    def chat_link(self, payload: str) -> str | None:
        """A link that opens a chat with the line carrying `payload`, where the platform has one."""
        return None


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text]
