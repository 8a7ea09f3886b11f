"""A webhook update reshaped to what Vecinos reads, each part of the type the Bot API promises.

The update arrived with Telegram's secret, so it is Telegram's: an oddly shaped one (a null
`chat`, a `text` that is a number or an object, a name longer than a column) is answered
200 and its message kept with what can be salvaged, rather than refused (Telegram would
retry it, holding up the updates behind it) or let through to fail in the database.
Payload reference: https://core.telegram.org/bots/api#update
"""

from __future__ import annotations

import math
import time
from typing import Any

from bot.clean import clip, text_or_none
from db.limits import DISPLAY_NAME, MEDIA_REF

MAX_TEXT = 4096  # https://core.telegram.org/bots/api#sendmessage: no real message is longer
MAX_CALLBACK_DATA = 64
MAX_ID = 2**63  # Telegram's ids fit in 64 bits; "update:<id>" then fits the platform id column
MAX_FILE_ID = MEDIA_REF - len("telegram:")  # a file kept by its id: "telegram:<file_id>"
CHAT_TYPES = ("private", "group", "supergroup", "channel")


def update_id_of(data: Any) -> int | None:
    """The update's id, or None when the body is no update at all (400)."""
    if not isinstance(data, dict):
        return None
    update_id = _int(data.get("update_id"))
    return update_id if update_id is not None and update_id >= 0 else None


def tidy_update(data: dict[str, Any]) -> dict[str, Any]:
    """The update with its message or button press reshaped; without it if nothing can be saved."""
    update: dict[str, Any] = {"update_id": data["update_id"]}
    if data.get("callback_query") is not None:
        query = _query(data["callback_query"])
        if query is not None:
            update["callback_query"] = query
    elif data.get("message") is not None:
        message = _message(data["message"])
        if message is not None:
            update["message"] = message
    return update


def _message(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    sender = _user(raw.get("from"))
    chat = _chat(raw.get("chat"))
    if chat is None and sender is not None:  # a private chat's id is its neighbor's
        chat = {"id": sender["id"], "type": "private"}
    if chat is None:
        return None  # nobody to answer: nothing to keep
    message: dict[str, Any] = {"message_id": _int(raw.get("message_id")) or 0, "date": _date(raw.get("date"))}
    message["chat"] = chat
    if sender is not None:
        message["from"] = sender
    for key in ("text", "caption"):
        text = _text(raw.get(key))
        if text is not None:
            message[key] = text
    location = _location(raw.get("location"))
    if location is not None:
        message["location"] = location
    photo = [size for size in map(_photo_size, raw.get("photo") or ()) if size is not None]
    if photo and isinstance(raw.get("photo"), list):
        message["photo"] = photo
    voice = _file(raw.get("voice"))
    if voice is not None:
        message["voice"] = {**voice, "duration": _int(raw["voice"].get("duration")) or 0}
    markup = _inline_keyboard(raw.get("reply_markup"))
    if markup:
        message["reply_markup"] = {"inline_keyboard": markup}
    return message


def _query(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    message = _message(raw.get("message"))
    sender = _user(raw.get("from"))
    if sender is None and message is not None:
        sender = {"id": message["chat"]["id"], "is_bot": False, "first_name": ""}
    if sender is None:
        return None
    query: dict[str, Any] = {
        "id": text_or_none(raw.get("id"), 128) or "",
        "from": sender,
        "chat_instance": text_or_none(raw.get("chat_instance"), 128) or "",
    }
    data = text_or_none(raw.get("data"), MAX_CALLBACK_DATA)
    if data is not None:
        query["data"] = data
    if message is not None:
        query["message"] = message
    return query


def _chat(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    chat_id = _int(raw.get("id"))
    if chat_id is None:
        return None
    kind = raw.get("type")
    if kind not in CHAT_TYPES:
        kind = "private" if chat_id > 0 else "group"  # group chats' ids are negative
    return {"id": chat_id, "type": kind}


def _user(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or _int(raw.get("id")) is None:
        return None
    return {
        "id": _int(raw.get("id")),
        "is_bot": raw.get("is_bot") is True,
        "first_name": text_or_none(raw.get("first_name"), DISPLAY_NAME) or "",
    }


def _text(value: Any) -> str | None:
    """A text, cleaned and clipped; a number sent as one is still the neighbor's words."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return text_or_none(value, MAX_TEXT)


def _location(raw: Any) -> dict[str, float] | None:
    if not isinstance(raw, dict):
        return None
    latitude, longitude = _float(raw.get("latitude")), _float(raw.get("longitude"))
    if latitude is None or longitude is None or abs(latitude) > 90 or abs(longitude) > 180:
        return None
    return {"latitude": latitude, "longitude": longitude}


def _file(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    file_id = raw.get("file_id")
    if (
        not isinstance(file_id, str)
        or not 0 < len(file_id) <= MAX_FILE_ID
        or clip(file_id, MAX_FILE_ID) != file_id
    ):
        return None
    unique = raw.get("file_unique_id")
    return {"file_id": file_id, "file_unique_id": unique if isinstance(unique, str) else file_id}


def _photo_size(raw: Any) -> dict[str, Any] | None:
    size = _file(raw)
    if size is None:
        return None
    return {**size, "width": _int(raw.get("width")) or 0, "height": _int(raw.get("height")) or 0}


def _inline_keyboard(raw: Any) -> list[list[dict[str, str]]]:
    """The buttons of the message a press came from (their labels name the choice)."""
    rows = raw.get("inline_keyboard") if isinstance(raw, dict) else None
    if not isinstance(rows, list):
        return []
    buttons = [
        [
            {"text": clip(b["text"], MAX_TEXT), "callback_data": clip(b["callback_data"], MAX_CALLBACK_DATA)}
            for b in row
            if isinstance(b, dict)
            and isinstance(b.get("text"), str)
            and isinstance(b.get("callback_data"), str)
        ]
        for row in rows
        if isinstance(row, list)
    ]
    return [row for row in buttons if row]


def _int(value: Any) -> int | None:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and -MAX_ID < value < MAX_ID else None
    )


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value) if abs(value) < 1e300 else math.inf
    return number if math.isfinite(number) else None


def _date(value: Any) -> int:
    """A Unix time; a missing or impossible one is now (0 would mean "inaccessible" to PTB)."""
    date = _int(value)
    return date if date is not None and 0 < date < 2**32 else int(time.time())
