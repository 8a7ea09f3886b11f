"""The one settings object, read from the environment and `.env` (SPEC §8).

Built once by the command line and passed in; tests build `Settings(...)` directly.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from routing.understand import DEFAULT_DATA_DIR

_QUIET_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_MIN_SECRET_KEY = 32


class Settings(BaseSettings):
    """Every setting of `.env.example`; empty strings mean "not configured"."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///vecinos.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = ""
    secret_key: str = ""
    # Proxies whose X-Forwarded-For/-Proto are believed (IPs or CIDRs, comma-separated, or "*").
    # Empty: none, so a client cannot pick the address the sign-in throttle counts.
    forwarded_allow_ips: str = ""
    timezone: str = "America/Santiago"
    data_dir: Path = DEFAULT_DATA_DIR
    media_dir: Path = Path("media")
    media_quota_mb: int = Field(default=2048, ge=1)

    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"

    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_whatsapp_number: str = ""
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_content_sids: dict[str, str] = Field(default_factory=dict)

    quiet_hours: str = ""
    telegram_rate_limit: float = Field(default=30, gt=0)
    whatsapp_rate_limit: float = Field(default=80, gt=0)

    @field_validator("data_dir", mode="before")
    @classmethod
    def _default_data_dir(cls, value: object) -> object:
        return value or DEFAULT_DATA_DIR

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}'") from None
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours_range(cls, value: str) -> str:
        value = value.strip()
        if value and not _QUIET_HOURS.match(value):
            raise ValueError("expected 'HH:MM-HH:MM', e.g. '21:00-09:00', or empty for none")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            if entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"'{entry}' is no IP address or CIDR (or '*')") from None
        return ",".join(entries)

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_secret_charset(cls, value: str) -> str:
        # https://core.telegram.org/bots/api#setwebhook: 1-256 characters A-Z a-z 0-9 _ -
        if value and not _TELEGRAM_SECRET.match(value):
            raise ValueError("Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("public_url", "telegram_api_base_url", "twilio_api_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _refuse_unsafe_public_setup(self) -> Settings:
        """A public deployment must sign sessions and webhooks with real secrets."""
        if self.public_url:
            if len(self.secret_key) < _MIN_SECRET_KEY:
                raise ValueError(
                    f"SECRET_KEY must have at least {_MIN_SECRET_KEY} characters when PUBLIC_URL is set"
                )
            if self.telegram_bot_token and not self.telegram_webhook_secret:
                raise ValueError("TELEGRAM_WEBHOOK_SECRET is required for webhook mode (PUBLIC_URL is set)")
        return self
