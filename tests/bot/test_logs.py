"""Logs keep no phone numbers and no bot token."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import QUIET, configure_logging, mask_phones


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """What `vecinos serve`'s logging writes, from the records logged in the test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging()
    stream = io.StringIO()
    root.handlers[0].setStream(stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_phone_numbers_are_masked() -> None:
    assert (
        mask_phones("de whatsapp:+56912345678 y +56 9 8765 4321")
        == "de whatsapp:+569******78 y +56 9 **** **21"
    )
    assert mask_phones("el aviso 2026-00042") == "el aviso 2026-00042"


def test_neither_the_bot_token_nor_a_number_reaches_the_log(logged: io.StringIO) -> None:
    logging.getLogger("httpx").info(
        "HTTP Request: POST https://api.telegram.org/bot123456:SECRET/sendMessage"
    )
    logging.getLogger("bot.outbox").warning("outbox: message 7 to %s failed", "+56912345678")
    logging.getLogger("httpx").warning("a connection problem worth knowing")
    text = logged.getvalue()
    assert "SECRET" not in text and "a connection problem worth knowing" in text
    assert "+569******78" in text and "12345678" not in text


def test_library_chatter_stays_out_of_the_log(logged: io.StringIO) -> None:
    """twilio's request lines carry numbers; PTB's rate limiter logs a traceback per 429 it hands back."""
    logging.getLogger("twilio.http_client").info("-- BEGIN Twilio API Request -- To=whatsapp:+56912345678")
    logging.getLogger("twilio.async_http_client").info("Headers: Authorization=Basic QUM6c2VjcmV0")
    logging.getLogger("telegram.ext.AIORateLimiter").error("Rate limit hit after maximum of 0 retries")
    logging.getLogger("bot.outbox").warning("outbox: message 9 failed for good")
    text = logged.getvalue()
    assert "Twilio API Request" not in text and "Authorization" not in text
    assert "Rate limit hit" not in text
    assert "message 9 failed for good" in text
