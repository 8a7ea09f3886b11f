"""The Telegram channel end to end: the real app, python-telegram-bot, HTTP to a Bot API double."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.settings import Settings
from db.engine import create_engine, create_sessionmaker
from db.models import InboundEvent, Neighbor, OutboxMessage
from tests.doubles.telegram_api import TelegramApiDouble

SECRET = "s3cr3t-token_for-tests"
CHAT = 5550001
_update_ids = itertools.count(1000)


def private_message(text: str = "", chat_id: int = CHAT, **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": next(_update_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Rosa"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Rosa"},
        **extra,
    }
    if text:
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": next(_update_ids), "message": message}


def button_press(data: str, label: str, chat_id: int = CHAT) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cq{next(_update_ids)}",
            "chat_instance": "ci",
            "data": data,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Rosa"},
            "message": {
                "message_id": next(_update_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": "¿En qué le podemos ayudar?",
                "reply_markup": {"inline_keyboard": [[{"text": label, "callback_data": data}]]},
            },
        },
    }


@pytest.fixture
def api() -> TelegramApiDouble:
    with TelegramApiDouble() as double:
        yield double


def settings_for(api: TelegramApiDouble, database_url: str, tmp_path: Path, *, webhook: bool) -> Settings:
    extra = {
        "public_url": "https://vecinos.example.cl",
        "secret_key": "k" * 40,
        "telegram_webhook_secret": SECRET,
    }
    return Settings(
        _env_file=None,
        database_url=database_url,
        media_dir=tmp_path / "media",
        telegram_bot_token=api.token,
        telegram_api_base_url=api.base_url,
        **(extra if webhook else {}),
    )


@pytest.fixture
async def webhook(
    api: TelegramApiDouble, database_url: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_for(api, database_url, tmp_path, webhook=True))
    async with app.router.lifespan_context(app):
        await asyncio.to_thread(api.wait_for, 1, method="setWebhook")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://vecinos.example.cl") as client:
            yield client


async def post_update(
    client: httpx.AsyncClient, update: dict[str, Any], secret: str | None = SECRET
) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return await client.post("/telegram/webhook", json=update, headers=headers)


async def replies(api: TelegramApiDouble, count: int, chat_id: int = CHAT) -> list[dict[str, Any]]:
    return await asyncio.to_thread(api.wait_for, count, chat_id)


async def count_rows(database_url: str, model: type) -> int:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        count = await session.scalar(select(func.count()).select_from(model))
    await engine.dispose()
    return count


async def test_start_sets_commands_and_the_secret_webhook(
    webhook: httpx.AsyncClient, api: TelegramApiDouble
) -> None:
    (hook,) = api.sent(method="setWebhook")
    assert hook["url"] == "https://vecinos.example.cl/telegram/webhook"
    assert hook["secret_token"] == SECRET
    (commands,) = api.sent(method="setMyCommands")
    assert [c["command"] for c in commands["commands"]] == [
        "start",
        "menu",
        "comuna",
        "baja",
        "alta",
        "borrar",
        "ayuda",
    ]


async def test_a_whole_conversation_with_buttons(webhook: httpx.AsyncClient, api: TelegramApiDouble) -> None:
    assert (await post_update(webhook, private_message("/start"))).status_code == 200
    welcome, question = await replies(api, 2)
    assert "Vecinos" in welcome["text"] and "133" in welcome["text"]
    keyboard = question["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_location"] is True  # Telegram's location button

    await post_update(webhook, private_message(location={"latitude": -34.1939, "longitude": -70.6565}))
    card = (await replies(api, 3))[2]
    assert "Oficina de Integración Comunitaria Machalí" in card["text"]
    buttons = [row[0] for row in card["reply_markup"]["inline_keyboard"]]
    assert [b["callback_data"] for b in buttons] == ["1", "2", "3", "4", "5"]
    assert buttons[0]["text"] == "Conversar con la oficina"

    await post_update(webhook, button_press("1", "Conversar con la oficina"))
    queued = (await replies(api, 4))[3]
    assert "quedó en la fila" in queued["text"]
    await asyncio.to_thread(api.wait_for, 1, method="answerCallbackQuery")

    await post_update(webhook, private_message("/menu@VecinosTestBot"))
    menu = (await replies(api, 5))[4]
    assert len(menu["reply_markup"]["inline_keyboard"]) == 5


async def test_telegram_retries_never_produce_a_second_reply(
    webhook: httpx.AsyncClient, api: TelegramApiDouble, database_url: str
) -> None:
    update = private_message("hola")
    for _ in range(3):
        assert (await post_update(webhook, update)).status_code == 200
    await replies(api, 2)
    await post_update(webhook, private_message("rengo"))
    await replies(api, 3)  # the next message's reply comes; nothing more of the first
    assert len(api.sent(CHAT)) == 3
    assert await count_rows(database_url, InboundEvent) == 2


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
async def test_a_forged_or_missing_secret_gets_403_and_changes_nothing(
    webhook: httpx.AsyncClient, api: TelegramApiDouble, database_url: str, secret: str | None
) -> None:
    response = await post_update(webhook, private_message("hola"), secret=secret)
    assert response.status_code == 403
    assert await count_rows(database_url, InboundEvent) == 0
    assert api.sent() == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"{}",
        b'{"update_id": "x", "message": 5}',
        b'{"update_id": -1, "message": {"chat": {"id": 1, "type": "private"}}}',
    ],
)
async def test_malformed_updates_get_400(webhook: httpx.AsyncClient, database_url: str, body: bytes) -> None:
    response = await webhook.post(
        "/telegram/webhook", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 400
    assert await count_rows(database_url, InboundEvent) == 0


async def test_an_update_with_nobody_to_answer_is_acknowledged_and_keeps_nothing(
    webhook: httpx.AsyncClient, database_url: str
) -> None:
    # Authentic (the secret), an update (its id), but no chat and no sender: Telegram must
    # not retry it, and there is nobody to keep a message of.
    body = b'{"update_id": 1, "message": {"chat": 3, "text": "hola"}}'
    response = await webhook.post(
        "/telegram/webhook", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 200
    assert await count_rows(database_url, InboundEvent) == 0


async def test_edited_messages_and_other_updates_are_ignored(
    webhook: httpx.AsyncClient, api: TelegramApiDouble
) -> None:
    edited = private_message("hola")
    edited["edited_message"] = edited.pop("message")
    assert (await post_update(webhook, edited)).status_code == 200
    await post_update(webhook, private_message("hola"))
    assert len(await replies(api, 2)) == 2 and len(api.sent(CHAT)) == 2


async def test_a_429_waits_retry_after_then_sends_in_order(
    webhook: httpx.AsyncClient, api: TelegramApiDouble
) -> None:
    api.failures[CHAT].append((429, "Too Many Requests: retry after 1", 1))
    started = time.monotonic()
    await post_update(webhook, private_message("hola"))
    refused, welcome, question = await replies(api, 3)
    assert refused["text"] == welcome["text"] and "Vecinos" in welcome["text"]
    assert "¿En qué comuna vive?" in question["text"]  # the question waited for the welcome
    assert time.monotonic() - started >= 1  # retry_after was honoured


async def test_a_blocked_bot_marks_the_neighbor_unreachable(
    webhook: httpx.AsyncClient, api: TelegramApiDouble, database_url: str
) -> None:
    api.failures[CHAT] += [(403, "Forbidden: bot was blocked by the user", None)] * 2
    await post_update(webhook, private_message("hola"))
    await replies(api, 1)
    # The dispatcher marks a batch before it claims the next: another neighbor's reply
    # arriving means the blocked neighbor's batch is marked.
    await post_update(webhook, private_message("hola", chat_id=CHAT + 1))
    await replies(api, 2, chat_id=CHAT + 1)
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        neighbor = (await session.execute(select(Neighbor).where(Neighbor.address == str(CHAT)))).scalar_one()
        statuses = (
            (await session.execute(select(OutboxMessage.status).where(OutboxMessage.address == str(CHAT))))
            .scalars()
            .all()
        )
    await engine.dispose()
    assert neighbor.unreachable
    assert statuses == ["failed", "failed"]
    assert len(api.sent(CHAT)) == 1  # the second reply was never tried


async def test_photos_and_voice_notes_are_stored(
    webhook: httpx.AsyncClient, api: TelegramApiDouble, tmp_path: Path
) -> None:
    api.files["PHOTO-1"] = b"\xff\xd8\xff\xe0photo"
    api.files["VOICE-1"] = b"OggS voice"
    photo = [{"file_id": "PHOTO-0", "file_unique_id": "p0", "width": 90, "height": 90},
             {"file_id": "PHOTO-1", "file_unique_id": "p1", "width": 800, "height": 600}]  # fmt: skip
    await post_update(webhook, private_message(photo=photo, caption="mire"))
    await post_update(
        webhook, private_message(voice={"file_id": "VOICE-1", "file_unique_id": "v1", "duration": 3})
    )
    await replies(api, 3)
    stored = sorted(p.read_bytes() for p in (tmp_path / "media").iterdir())
    assert stored == [b"OggS voice", b"\xff\xd8\xff\xe0photo"]
    assert [c["file_id"] for c in api.sent(method="getFile")] == ["PHOTO-1", "VOICE-1"]


async def test_groups_are_told_once_that_the_line_is_private(
    webhook: httpx.AsyncClient, api: TelegramApiDouble
) -> None:
    group = -100123
    for text in ("hola a todos", "alguien sabe?"):
        update = private_message(text)
        update["message"]["chat"] = {"id": group, "type": "group", "title": "Junta de vecinos"}
        assert (await post_update(webhook, update)).status_code == 200
    (notice,) = await replies(api, 1, chat_id=group)
    assert "solo conversaciones privadas" in notice["text"]
    await post_update(webhook, private_message("hola"))
    await replies(api, 2)
    assert len(api.sent(group)) == 1


async def test_polling_mode_confirms_updates_only_once_stored(
    api: TelegramApiDouble, database_url: str, tmp_path: Path
) -> None:
    app = create_app(settings_for(api, database_url, tmp_path, webhook=False))
    first = private_message("hola")
    api.push_update(first)
    async with app.router.lifespan_context(app):
        await asyncio.to_thread(api.wait_for, 1, method="deleteWebhook")
        await replies(api, 2)
        api.push_update(first)  # Telegram sends it again: nothing happens
        api.push_update(private_message("vivo en rengo"))
        await replies(api, 3)
        offsets = [c.params.get("offset") for c in api.calls if c.method == "getUpdates"]
    assert api.sent(method="setWebhook") == []
    assert any(offset and offset > first["update_id"] for offset in offsets)
    assert len(api.sent(CHAT)) == 3


async def test_a_network_error_is_retried_with_backoff(
    webhook: httpx.AsyncClient, api: TelegramApiDouble
) -> None:
    api.failures[CHAT].append((502, "Bad Gateway", None))
    await post_update(webhook, private_message("hola"))
    refused, welcome, question = await replies(api, 3)
    assert refused["text"] == welcome["text"] and "¿En qué comuna vive?" in question["text"]
