"""Text from outside, made storable the same way on both databases.

PostgreSQL refuses a NUL character and a lone surrogate (half of an emoji, as a page that
cut a text in the middle of one sends it) where SQLite stores them; both are dropped or
replaced at the edge, so that the two databases agree and no message is lost to them.
"""

from __future__ import annotations

import re
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a str holds a surrogate only when it is lone
REPLACEMENT = "\ufffd"


def clean_text(value: str) -> str:
    """`value` without NUL characters, its lone surrogates replaced by U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return _LONE_SURROGATE.sub(REPLACEMENT, value)


def clip(value: str, limit: int) -> str:
    """`clean_text(value)`, cut to `limit` characters (a column's length)."""
    return clean_text(value)[:limit]


def text_or_none(value: Any, limit: int) -> str | None:
    """A platform's optional string field, cleaned and clipped; None when it is not a string."""
    return clip(value, limit) if isinstance(value, str) else None


def clean_json(value: Any) -> Any:
    """A JSON value with every string in it (keys too) cleaned."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_json(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value
