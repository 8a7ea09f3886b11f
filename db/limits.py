"""The sizes the schema allows, read from the columns: what the edge checks input against.

Input is checked before it reaches the database, against the same numbers the database
enforces (PostgreSQL refuses a longer `varchar` or an id past `integer`, SQLite takes
anything): both databases then answer alike.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String

from db.models import InboundEvent, Message, Neighbor, Officer, QuickReply

INT32_MAX = 2**31 - 1  # an `Integer` primary key, on PostgreSQL


def length_of(column: Any) -> int:
    """The declared length of a `String(n)` column (a mapped attribute)."""
    kind = column.property.columns[0].type
    if not isinstance(kind, String) or kind.length is None:
        raise TypeError(f"{column} has no declared length")
    return kind.length


def fits_id(value: int) -> bool:
    """Whether `value` can be an id of an `Integer` column (1 … 2³¹−1)."""
    return 0 < value <= INT32_MAX


ADDRESS = length_of(Neighbor.address)  # a chat id, a phone number, a web token
PLATFORM_ID = length_of(InboundEvent.platform_id)
DISPLAY_NAME = length_of(Neighbor.display_name)
MEDIA_REF = length_of(Message.media_ref)
OFFICER_NAME = length_of(Officer.name)
OFFICER_EMAIL = length_of(Officer.email)
QUICK_REPLY_TITLE = length_of(QuickReply.title)
