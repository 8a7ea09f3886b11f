"""The registry of channels: the only place that lists them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.templating import Jinja2Templates

from bot.channels.base import Channel
from bot.channels.webchat import WebChat
from bot.inbound import InboundPipeline
from bot.media import MediaStore
from handlers.texts import Texts

# Platform channels and the catalog key that says what they need to run.
PLATFORMS = {"telegram": "serve.telegram_off", "whatsapp": "serve.whatsapp_off"}


def build_channels(
    *,
    pipeline: InboundPipeline,
    sessions: async_sessionmaker[AsyncSession],
    texts: Texts,
    templates: Jinja2Templates,
    media: MediaStore,
) -> dict[str, Channel]:
    """Every channel this process runs, by name; the web chat always runs."""
    webchat = WebChat(pipeline, sessions, texts, templates, media)
    return {webchat.name: webchat}


def channels_off(channels: dict[str, Channel], texts: Texts) -> list[str]:
    """What each platform channel that is not running needs, for the start-up message."""
    return [texts(key) for name, key in PLATFORMS.items() if name not in channels]
