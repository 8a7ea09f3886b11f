"""The registry of channels: the only place that lists them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.templating import Jinja2Templates

from bot.channels.base import Channel
from bot.channels.webchat import WebChat
from bot.channels.webchat_quotas import WebChatQuotas
from bot.inbound import InboundPipeline
from bot.media import MediaStore
from bot.rate_limit import RateLimiter
from bot.settings import Settings
from handlers.texts import Texts

# Platform channels and the catalog key that says what they need to run.
PLATFORMS = {"telegram": "serve.telegram_off", "whatsapp": "serve.whatsapp_off"}


def build_channels(
    settings: Settings,
    *,
    pipeline: InboundPipeline,
    sessions: async_sessionmaker[AsyncSession],
    texts: Texts,
    templates: Jinja2Templates,
    media: MediaStore,
) -> dict[str, Channel]:
    """Every channel this process runs, by name: the web chat always, platforms configured."""
    limiter = RateLimiter(sessions, secret=settings.secret_key)
    quotas = WebChatQuotas(limiter, texts, settings.media_dir, settings.media_quota_mb)
    channels: list[Channel] = [WebChat(pipeline, sessions, texts, templates, media, quotas)]
    if settings.telegram_bot_token:
        from bot.channels.telegram import TelegramChannel  # python-telegram-bot loads only if used

        channels.append(TelegramChannel(settings, pipeline, media, texts))
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_whatsapp_number:
        from bot.channels.whatsapp import WhatsAppChannel

        channels.append(WhatsAppChannel(settings, pipeline, sessions, media))
    return {channel.name: channel for channel in channels}


def channels_off(channels: dict[str, Channel], texts: Texts) -> list[str]:
    """What each platform channel that is not running needs, for the start-up message."""
    return [texts(key) for name, key in PLATFORMS.items() if name not in channels]
