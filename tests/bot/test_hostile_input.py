"""Hostile input found at each public route, one example each: 4xx or kept, never 500/503.

Each was answered 503 "database down" on PostgreSQL (a NUL, a lone surrogate, a string
longer than its column, an id past `integer`) or 500 (`wait=nan`, a null `chat`, a media
download failing on the disk); SQLite took some of them, so the two databases disagreed.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.channels.webchat_input import CLIENT_ID, TOKEN
from db.engine import create_engine, create_sessionmaker
from db.limits import ADDRESS, PLATFORM_ID
from db.models import InboundEvent, Message, Neighbor, Officer, OutboxMessage
from tests.bot.all_channels import api_json, chat_message, serving, telegram_update, twilio_post
from tests.bot.console.people import api_call, first_conversation, neighbor_waits, post_form, ready_officer
from tests.doubles.telegram_api import TelegramApiDouble
from tests.doubles.twilio_api import ACCOUNT, SENDER, TwilioApiDouble

NUL, HALF_EMOJI = "\x00", "\ud83d"  # the first half of 😀, alone
CHAT = 6660001


@pytest.fixture
def telegram() -> TelegramApiDouble:
    with TelegramApiDouble() as double:
        yield double


@pytest.fixture
def twilio() -> TwilioApiDouble:
    with TwilioApiDouble() as double:
        yield double


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def full_disk(media_dir: Path) -> None:
    """A file where the media folder should be: every save fails with an OSError."""
    media_dir.parent.mkdir(parents=True, exist_ok=True)
    media_dir.write_text("not a folder")


@pytest.fixture
async def line(
    database_url: str, media_dir: Path, telegram: TelegramApiDouble, twilio: TwilioApiDouble
) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(database_url, media_dir, telegram, twilio) as client:
        yield client


async def rows(database_url: str, model: type, *where: Any) -> list[Any]:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        found = (await session.execute(select(model).where(*where).order_by(model.id))).scalars().all()
    await engine.dispose()
    return list(found)


def update(message: dict[str, Any], update_id: int = 1) -> dict[str, Any]:
    base = {"message_id": 10, "date": 1_780_000_000, "chat": {"id": CHAT, "type": "private"}}
    return {"update_id": update_id, "message": {**base, **message}}


def whatsapp(sid: str = "SM" + "1" * 32, **fields: str) -> dict[str, str]:
    return {"MessageSid": sid, "AccountSid": ACCOUNT, "From": "whatsapp:+56912345678", "To": SENDER, **fields}


# --- the web chat ------------------------------------------------------------------------


async def test_a_nul_and_half_an_emoji_in_a_chat_message_are_cleaned_and_kept(
    line: httpx.AsyncClient, database_url: str
) -> None:
    token = secrets.token_hex(16)
    response = await chat_message(line, token, text=f"hola{NUL} vecinos {HALF_EMOJI}")
    assert response.status_code == 202
    (message,) = await rows(database_url, Message, Message.direction == "in")
    assert message.text == "hola vecinos \ufffd"


@pytest.mark.parametrize("latitude", [[1, 2], {"deg": 1}, True, 10**400, "-34.5", None])
async def test_a_latitude_that_is_no_number_gets_400(line: httpx.AsyncClient, latitude: Any) -> None:
    response = await chat_message(
        line, secrets.token_hex(16), location={"latitude": latitude, "longitude": -70.9}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "No pudimos leer esa ubicación."


@pytest.mark.parametrize(
    "params",
    [{"after": "99999999999"}, {"after": "-1"}, {"wait": "nan"}, {"wait": "inf"}, {"wait": "-inf"}],
)
async def test_a_poll_out_of_range_gets_400(line: httpx.AsyncClient, params: dict[str, str]) -> None:
    bearer = {"Authorization": f"Bearer {'a' * 32}"}
    response = await line.get("/chat/api/messages", params=params, headers=bearer)
    assert response.status_code == 400
    assert response.json()["error"] == "No pudimos leer esa consulta. Recargue la página."


async def test_a_photo_caption_with_a_nul_is_kept(line: httpx.AsyncClient, database_url: str) -> None:
    form = {"token": "b" * 32, "client_id": "photo-0001", "caption": f"mi{NUL} calle"}
    files = {"file": ("x.jpg", b"\xff\xd8\xff\xe0" + b"1" * 100, "image/jpeg")}
    assert (await line.post("/chat/api/photos", data=form, files=files)).status_code == 202
    (message,) = await rows(database_url, Message, Message.direction == "in")
    assert message.text == "mi calle" and message.media_kind == "photo"


# --- Telegram ------------------------------------------------------------------------------


async def test_telegram_text_with_a_nul_and_half_an_emoji_is_kept_cleaned(
    line: httpx.AsyncClient, database_url: str
) -> None:
    response = await telegram_update(line, update({"text": f"ho{NUL}la {HALF_EMOJI}"}))
    assert response.status_code == 200
    (message,) = await rows(database_url, Message, Message.direction == "in")
    assert message.text == "hola \ufffd"


async def test_telegram_names_longer_than_their_column_are_clipped(
    line: httpx.AsyncClient, database_url: str
) -> None:
    sender = {"id": CHAT, "is_bot": False, "first_name": "R" * 300, "username": "u" * 300}
    response = await telegram_update(line, update({"from": sender, "text": "hola"}))
    assert response.status_code == 200
    (neighbor,) = await rows(database_url, Neighbor)
    assert neighbor.display_name == "R" * 200


@pytest.mark.parametrize(
    ("message", "kept_text"),
    [
        ({"chat": None, "from": {"id": CHAT, "is_bot": False, "first_name": "Rosa"}, "text": "hola"}, "hola"),
        ({"from": None, "text": "hola"}, "hola"),
        ({"text": 133}, "133"),
        ({"text": {"a": 1}}, ""),
        ({"text": ["hola"]}, ""),
        ({"text": "hola", "date": "ayer", "location": {"latitude": [1], "longitude": None}}, "hola"),
    ],
)
async def test_an_odd_but_authentic_telegram_update_is_acknowledged_and_kept(
    line: httpx.AsyncClient, database_url: str, message: dict[str, Any], kept_text: str
) -> None:
    response = await telegram_update(line, update(message))
    assert response.status_code == 200
    (event,) = await rows(database_url, InboundEvent)
    assert event.address == str(CHAT) and event.payload["text"] == kept_text


async def test_a_telegram_photo_the_disk_cannot_take_is_kept_by_its_file_id(
    line: httpx.AsyncClient, database_url: str, full_disk: None, telegram: TelegramApiDouble
) -> None:
    telegram.files["PHOTO-1"] = b"\xff\xd8\xff\xe0photo"
    photo = [{"file_id": "PHOTO-1", "file_unique_id": "p1", "width": 800, "height": 600}]
    response = await telegram_update(line, update({"photo": photo, "caption": "mire"}))
    assert response.status_code == 200
    (message,) = await rows(database_url, Message, Message.direction == "in")
    assert message.text == "mire" and message.media_ref == "telegram:PHOTO-1"


# --- WhatsApp ------------------------------------------------------------------------------


async def test_a_whatsapp_body_with_a_nul_and_a_long_profile_name_are_kept(
    line: httpx.AsyncClient, database_url: str
) -> None:
    response = await twilio_post(line, "/twilio/whatsapp", whatsapp(Body=f"ho{NUL}la", ProfileName="R" * 300))
    assert response.status_code == 200
    (neighbor,) = await rows(database_url, Neighbor)
    (message,) = await rows(database_url, Message, Message.direction == "in")
    assert message.text == "hola" and neighbor.display_name == "R" * 200


@pytest.mark.parametrize(
    ("latitude", "longitude"), [("north", "x"), ("nan", "0"), ("1e999", "0"), ("-95", "0")]
)
async def test_a_whatsapp_location_that_is_none_is_dropped_and_the_message_kept(
    line: httpx.AsyncClient, database_url: str, latitude: str, longitude: str
) -> None:
    params = whatsapp(Body="estoy aquí", Latitude=latitude, Longitude=longitude)
    assert (await twilio_post(line, "/twilio/whatsapp", params)).status_code == 200
    (message,) = await rows(database_url, Message, Message.direction == "in")
    assert message.text == "estoy aquí" and message.latitude is None


async def test_whatsapp_media_that_cannot_be_fetched_or_kept_leave_the_message_kept(
    line: httpx.AsyncClient, database_url: str, full_disk: None, twilio: TwilioApiDouble
) -> None:
    twilio.media["photo1"] = (b"\xff\xd8\xff\xe0whatsapp photo", "image/jpeg")
    media = {"NumMedia": "2", "MediaUrl0": "http://[", "MediaContentType0": "image/jpeg"}
    media |= {"MediaUrl1": f"{twilio.url}/media/photo1", "MediaContentType1": "image/jpeg"}
    assert (await twilio_post(line, "/twilio/whatsapp", whatsapp(Body="mire", **media))).status_code == 200
    (event,) = await rows(database_url, InboundEvent)
    assert event.error is None
    (message,) = await rows(database_url, Message, Message.direction == "in")
    assert message.text == "mire" and message.media_ref == "twilio:http://["


@pytest.mark.parametrize(
    "params",
    [
        whatsapp(sid=f"SM{NUL}1", Body="hola"),
        whatsapp(sid="SM" + "9" * 200, Body="hola"),
        {**whatsapp(Body="hola"), "From": "whatsapp:+" + "5" * 200},
    ],
)
async def test_a_whatsapp_id_or_number_that_cannot_be_stored_whole_gets_400(
    line: httpx.AsyncClient, database_url: str, params: dict[str, str]
) -> None:
    assert (await twilio_post(line, "/twilio/whatsapp", params)).status_code == 400
    assert await rows(database_url, InboundEvent) == []


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"MessageSid": f"SM{NUL}", "MessageStatus": "delivered"}, 400),
        ({"MessageSid": "SM1", "MessageStatus": f"deli{NUL}vered", "ErrorCode": "1" * 5000}, 204),
        ({"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "٣", "ErrorMessage": NUL}, 204),
    ],
)
async def test_odd_status_callbacks_get_no_500(
    line: httpx.AsyncClient, params: dict[str, str], status: int
) -> None:
    assert (await twilio_post(line, "/twilio/status", params)).status_code == status


# --- the console ---------------------------------------------------------------------------


async def test_ids_past_the_integer_column_are_not_found(line: httpx.AsyncClient, database_url: str) -> None:
    await ready_officer(line, database_url, "jefa@carabineros.cl", role="admin")
    huge = 99_999_999_999
    for method, path in [
        ("GET", f"/api/conversations/{huge}"),
        ("POST", f"/api/conversations/{huge}/take"),
        ("POST", f"/api/officers/{huge}/reset-password"),
        ("PUT", f"/api/officers/{huge}/active"),
        ("DELETE", f"/api/quick-replies/{huge}"),
    ]:
        response = await api_call(line, method, path, {"active": True} if method == "PUT" else None)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), path
    assert (await line.get(f"/console/conversations/{huge}")).status_code == 404
    response = await post_form(line, f"/console/admin/officers/{huge}/reset", "/console/admin")
    assert response.status_code == 404


async def test_console_text_with_a_nul_and_half_an_emoji_is_kept_cleaned(
    line: httpx.AsyncClient, database_url: str
) -> None:
    await neighbor_waits(line, "rengo")
    await ready_officer(line, database_url, "cabo@carabineros.cl")
    conversation = await first_conversation(line)
    reply = f"Vamos{NUL} para allá {HALF_EMOJI}"
    response = await api_json(line, "POST", f"/api/conversations/{conversation}/reply", {"text": reply})
    assert response.status_code == 200
    sent = await rows(database_url, Message, Message.author == "officer")
    assert [m.text for m in sent] == ["Vamos para allá \ufffd"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "N" * 201, "email": "nuevo@carabineros.cl"}, "too_long"),
        ({"name": "Nuevo", "email": "n" * 250 + "@c.cl"}, "too_long"),
        ({"name": f"Nue{NUL}vo", "email": f"nuevo{HALF_EMOJI}@carabineros.cl"}, None),
    ],
)
async def test_new_accounts_fit_their_columns(
    line: httpx.AsyncClient, database_url: str, body: dict[str, str], code: str | None
) -> None:
    await ready_officer(line, database_url, "jefa@carabineros.cl", role="admin")
    response = await api_json(line, "POST", "/api/officers", body)
    if code is None:
        assert response.status_code == 200
        names = [o.name for o in await rows(database_url, Officer)]
        assert names[-1] == "Nuevo"
    else:
        assert (response.status_code, response.json()["code"]) == (400, code)


async def test_a_sign_in_with_a_nul_in_the_email_is_just_wrong(line: httpx.AsyncClient) -> None:
    fields = {"email": f"jefa{NUL}@carabineros.cl", "password": f"clave{NUL}"}
    response = await post_form(line, "/console/login", "/console/login", **fields)
    assert response.status_code == 401


async def test_a_quick_reply_title_past_its_column_is_refused_with_its_reason(
    line: httpx.AsyncClient, database_url: str
) -> None:
    await ready_officer(line, database_url, "jefa@carabineros.cl", role="admin")
    response = await post_form(
        line, "/console/admin/quick-replies", "/console/admin", title="T" * 81, text="x"
    )
    assert response.status_code == 303 and response.headers["location"].endswith("error=too_long")
    assert await rows(database_url, OutboxMessage) == []


def test_the_longest_web_chat_token_and_message_id_fit_their_columns() -> None:
    assert TOKEN.fullmatch("t" * 64) and CLIENT_ID.fullmatch("c" * 63)
    assert len("t" * 64) <= ADDRESS and len("t" * 64 + ":" + "c" * 63) <= PLATFORM_ID
