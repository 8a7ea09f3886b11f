"""Logging set-up, with phone numbers masked (Ley 21.719: logs are no place for them)."""

from __future__ import annotations

import logging
import re

# +56 9 1234 5678, 56912345678, whatsapp:+56912345678, and any run of 8+ digits.
_PHONE = re.compile(r"\+?\d[\d ]{6,}\d")


def mask_phones(text: str) -> str:
    """Mask phone numbers: «+56 9 1234 5678» becomes «+56 9 *** ***78», enough to tell apart."""

    def mask(match: re.Match[str]) -> str:
        number = match.group(0)
        digits = sum(ch.isdigit() for ch in number)
        if digits < 8:
            return number
        keep_head, keep_tail, seen, out = 3, 2, 0, []
        for ch in number:
            if ch.isdigit():
                seen += 1
                out.append(ch if seen <= keep_head or seen > digits - keep_tail else "*")
            else:
                out.append(ch)
        return "".join(out)

    return _PHONE.sub(mask, text)


class PhoneMaskingFilter(logging.Filter):
    """Masks phone numbers in every record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_phones(record.getMessage())
        record.args = ()
        return True


# The least level each library logger may speak at:
# - httpx says something at INFO for every request, and a Telegram URL carries the bot's
#   token (https://core.telegram.org/bots/api#making-requests);
# - twilio's HTTP client writes about eleven INFO lines per message, numbers and headers included;
# - PTB's rate limiter logs an ERROR with traceback at every 429 it hands back (max_retries=0):
#   the outbox waits the retry_after, it is no error.
QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "twilio": logging.WARNING,
    "telegram.ext.AIORateLimiter": logging.CRITICAL,
}


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PhoneMaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, least in QUIET.items():
        logging.getLogger(name).setLevel(max(level, least))
