"""The vocabulary every channel speaks with the core: plain frozen dataclasses.

A channel adapter turns platform traffic into an `InboundMessage` and renders each `Reply`
(text plus numbered options) in its platform's idiom; nothing here knows a platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Location:
    """A point a neighbor shared (WGS84 degrees)."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Media:
    """A photo, voice note or document, stored by the adapter; `ref` names the stored file."""

    kind: str  # "photo", "voice" or "document"
    ref: str
    content_type: str = ""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a neighbor, whatever the channel."""

    channel: str
    address: str  # the neighbor's address on the channel (chat id, WhatsApp number, web token)
    platform_id: str  # the platform's id of this event: the deduplication key
    received_at: datetime
    text: str = ""
    option: str | None = None  # the key of a pressed button, where the channel has buttons
    location: Location | None = None
    media: tuple[Media, ...] = ()
    display_name: str | None = None
    contact_shareable: bool = False  # whether the channel can show the office a phone number


@dataclass(frozen=True, slots=True)
class Option:
    """One numbered choice of a reply."""

    key: str  # what the neighbor types or the button sends: "1", "2"…
    label: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to a neighbor: text and, optionally, numbered options.

    `kind` says what the message is for, so a channel with rules about unsolicited
    messages (WhatsApp's 24-hour window) can pick the right template.
    """

    text: str
    options: tuple[Option, ...] = ()
    kind: str = "dialog"  # "erased": the last message to a neighbor who erased their data
    asks_location: bool = False
    # When the neighbor's message this answers arrived: a platform's reply window counts from
    # it (WhatsApp's 24 hours), even when the neighbor's row is gone (BORRAR).
    answers_at: datetime | None = None

    def to_payload(self) -> dict[str, Any]:
        payload = {
            "text": self.text,
            "options": [{"key": o.key, "label": o.label} for o in self.options],
            "kind": self.kind,
            "asks_location": self.asks_location,
        }
        if self.answers_at is not None:
            payload["answers_at"] = self.answers_at.isoformat()
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Reply:
        answers_at = payload.get("answers_at")
        return cls(
            text=payload["text"],
            options=tuple(Option(o["key"], o["label"]) for o in payload.get("options", [])),
            kind=payload.get("kind", "dialog"),
            asks_location=payload.get("asks_location", False),
            answers_at=datetime.fromisoformat(answers_at) if answers_at else None,
        )


def numbered_text(reply: Reply) -> str:
    """The text fallback for options: numbered lines, so that typing "2" works."""
    if not reply.options:
        return reply.text
    lines = [f"{o.key}. {o.label}" for o in reply.options]
    return "\n".join([reply.text, "", *lines])
