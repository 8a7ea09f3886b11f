"""What the web chat's page may send, checked before anything reaches the database.

A refused body is a 400 (413 for too long a text) with the catalog's message for the
first field at fault; strings are cleaned first (`bot.clean`), so that both databases
store them alike and half an emoji cut by the page does not lose the message.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException

from bot.clean import clean_json, text_or_none
from db.limits import INT32_MAX
from handlers.texts import Texts

MAX_TEXT = 4000
MAX_OPTION = 64
MAX_WAIT_S = 25
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")  # whole strings only: `fullmatch`, or anchored
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,63}")
# The token is the neighbor's address (a column of ADDRESS characters), "token:client_id"
# the message's platform id (PLATFORM_ID): tests check that the longest ones fit.


class ChatLocation(BaseModel):
    """A point the browser gave: numbers (not strings, not booleans), on the Earth."""

    model_config = ConfigDict(strict=True)
    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)


class ChatMessage(BaseModel):
    """`POST /chat/api/messages`: who (token), which message (client id), and what."""

    model_config = ConfigDict(strict=True)
    token: str = Field(pattern=f"^{TOKEN.pattern}$")
    client_id: str = Field(pattern=f"^{CLIENT_ID.pattern}$")
    text: Annotated[str, Field(max_length=MAX_TEXT)] = ""
    # A pressed button's key; anything else than a string is as if none was pressed.
    option: Annotated[str | None, BeforeValidator(lambda v: text_or_none(v, MAX_OPTION))] = None
    location: ChatLocation | None = None


# field -> (status, text key) when it is refused; the first refused field in this order wins
_REFUSALS = {
    "token": (400, "webchat.bad_token"),
    "client_id": (400, "webchat.bad_message"),
    "text": (400, "webchat.bad_message"),
    "location": (400, "webchat.bad_location"),
}


def read_message(body: Any, texts: Texts) -> ChatMessage:
    """The checked message of a JSON body, its text cleaned; HTTPException otherwise."""
    if not isinstance(body, dict):
        raise HTTPException(400, texts("webchat.bad_message"))
    try:
        message = ChatMessage.model_validate(clean_json(body))  # pydantic refuses lone surrogates
    except ValidationError as exc:
        errors = {str(e["loc"][0]): e["type"] for e in exc.errors() if e["loc"]}
        field = next((f for f in _REFUSALS if f in errors), "client_id")
        if field == "text" and errors[field] == "string_too_long":
            raise HTTPException(413, texts("webchat.too_long", limit=MAX_TEXT)) from None
        status, key = _REFUSALS[field]
        raise HTTPException(status, texts(key)) from None
    if message.location is None and not message.text.strip():
        raise HTTPException(400, texts("webchat.empty"))
    return message


def read_identity(token: Any, client_id: Any, texts: Texts) -> tuple[str, str]:
    """The token and client id of a form (the photo upload); HTTPException otherwise."""
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        raise HTTPException(400, texts("webchat.bad_token"))
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        raise HTTPException(400, texts("webchat.bad_message"))
    return token, client_id


def read_poll(params: Any, headers: Any, texts: Texts) -> tuple[str, int, float]:
    """`GET /chat/api/messages`: the token, `after` (a message id) and `wait` (finite seconds).

    The token, the one key to a neighbor's transcript, comes in `Authorization: Bearer …`:
    a URL lands in access logs and proxies' logs, a header does not.
    """
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not TOKEN.fullmatch(token):
        raise HTTPException(400, texts("webchat.bad_token"))
    try:
        after = int(params.get("after", "0"))
        wait = float(params.get("wait", "0"))
    except ValueError as exc:
        raise HTTPException(400, texts("webchat.bad_poll")) from exc
    if not (0 <= after <= INT32_MAX and math.isfinite(wait)):
        raise HTTPException(400, texts("webchat.bad_poll"))
    return token, after, min(max(wait, 0.0), MAX_WAIT_S)
