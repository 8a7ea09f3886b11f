"""WhatsApp end to end: the real app, requests signed by twilio's RequestValidator, HTTP to a
local double of Twilio's REST API."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from bot.app import create_app
from bot.settings import Settings
from db.engine import create_engine, create_sessionmaker
from db.models import Base, InboundEvent, Neighbor, OutboxMessage
from tests.doubles.twilio_api import ACCOUNT, SENDER, TOKEN, TwilioApiDouble, signed
from tests.waiting import until

PUBLIC = "https://vecinos.example.cl"
NUMBER = "+56912345678"
_sids = itertools.count(1)


@pytest.fixture
def api() -> TwilioApiDouble:
    with TwilioApiDouble() as double:
        yield double


def whatsapp_settings(api: TwilioApiDouble, database_url: str, tmp_path: Path, **extra: object) -> Settings:
    """WhatsApp on, through the Twilio double, behind the public address Twilio signs."""
    return Settings(
        _env_file=None,
        database_url=database_url,
        media_dir=tmp_path / "media",
        public_url=PUBLIC,
        secret_key="k" * 40,
        twilio_account_sid=ACCOUNT,
        twilio_auth_token=TOKEN,
        twilio_whatsapp_number=SENDER,
        twilio_api_base_url=api.url,
        **extra,
    )


@pytest.fixture
async def whatsapp(
    api: TwilioApiDouble, database_url: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        whatsapp_settings(api, database_url, tmp_path, twilio_content_sids={"officer_reply": "HXofficer"})
    )
    async with app.router.lifespan_context(app):
        # The app sits behind a proxy: it is reached at an internal address, Twilio signs the public one.
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8080") as client:
            yield client


def message(body: str = "", number: str = NUMBER, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": f"SM{next(_sids):032d}",
        "AccountSid": ACCOUNT,
        "From": f"whatsapp:{number}",
        "To": SENDER,
        "Body": body,
        "NumMedia": "0",
        "ProfileName": "Rosa",
        "WaId": number.lstrip("+"),
        **extra,
    }


async def post(
    client: httpx.AsyncClient, params: dict[str, str], path: str = "/twilio/whatsapp"
) -> httpx.Response:
    body, headers = signed(f"{PUBLIC}{path}", params)
    return await client.post(path, content=body, headers=headers)


async def replies(api: TwilioApiDouble, count: int, number: str = NUMBER) -> list[dict]:
    return await asyncio.to_thread(api.wait_for, count, f"whatsapp:{number}")


async def rows(database_url: str, model: type, *where: object) -> list:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        result = (await session.execute(select(model).where(*where))).scalars().all()
    await engine.dispose()
    return list(result)


async def test_a_whole_conversation_with_numbered_answers(
    whatsapp: httpx.AsyncClient, api: TwilioApiDouble
) -> None:
    response = await post(whatsapp, message("hola"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml") and "<Response>" in response.text
    welcome, question = await replies(api, 2)
    assert welcome["From"] == SENDER and "Vecinos" in welcome["Body"]
    assert "¿En qué comuna vive?" in question["Body"]
    assert welcome["StatusCallback"] == f"{PUBLIC}/twilio/status"

    await post(whatsapp, message("vivo en coya"))
    card = (await replies(api, 3))[2]
    assert "Oficina de Integración Comunitaria Machalí" in card["Body"]
    assert "1. Conversar con la oficina" in card["Body"]  # options as a numbered list

    await post(whatsapp, message("1"))
    assert "quedó en la fila" in (await replies(api, 4))[3]["Body"]


async def test_twilio_retries_never_produce_a_second_reply(whatsapp, api, database_url) -> None:
    params = message("hola")
    for _ in range(3):
        assert (await post(whatsapp, params)).status_code == 200
    await replies(api, 2)
    await post(whatsapp, message("rengo"))
    await replies(api, 3)
    assert len(api.sent) == 3
    assert len(await rows(database_url, InboundEvent)) == 2


@pytest.mark.parametrize(
    "forge",
    [
        lambda body, headers: (body, {**headers, "X-Twilio-Signature": "AAAA"}),
        lambda body, headers: (body, {k: v for k, v in headers.items() if k != "X-Twilio-Signature"}),
        lambda body, headers: (body.replace("hola", "chao"), headers),  # tampered body
        lambda body, headers: (body + "&Extra=1", headers),  # an extra parameter
    ],
    ids=["wrong", "missing", "tampered", "extra-param"],
)
async def test_forged_or_missing_signatures_get_403_and_change_nothing(
    whatsapp, api, database_url, forge
) -> None:
    body, headers = forge(*signed(f"{PUBLIC}/twilio/whatsapp", message("hola")))
    response = await whatsapp.post("/twilio/whatsapp", content=body, headers=headers)
    assert response.status_code == 403
    assert await rows(database_url, InboundEvent) == []


async def test_a_signature_for_another_url_or_token_is_refused(whatsapp, database_url) -> None:
    for url, token in (
        ("http://10.0.0.5:8080/twilio/whatsapp", TOKEN),
        (f"{PUBLIC}/twilio/whatsapp", "other"),
    ):
        body, headers = signed(url, message("hola"), token=token)
        assert (await whatsapp.post("/twilio/whatsapp", content=body, headers=headers)).status_code == 403
    assert await rows(database_url, InboundEvent) == []


@pytest.mark.parametrize(
    "params",
    [
        {"Body": "hola"},  # no MessageSid, no From
        {"MessageSid": "SM1", "From": "+56912345678", "Body": "hola"},  # not a WhatsApp address
        {"MessageSid": "SM2", "From": "whatsapp:", "Body": "hola"},  # nobody to answer
    ],
)
async def test_malformed_forms_get_400(whatsapp, database_url, params) -> None:
    assert (await post(whatsapp, params)).status_code == 400
    assert await rows(database_url, InboundEvent) == []


async def test_media_and_location(whatsapp, api, tmp_path) -> None:
    api.media["photo1"] = (b"\xff\xd8\xff\xe0whatsapp photo", "image/jpeg")
    api.media["voice1"] = (b"OggS voice note", "audio/ogg")
    await post(whatsapp, message("hola"))
    await replies(api, 2)
    await post(whatsapp, message(Latitude="-34.5853", Longitude="-70.9890"))
    assert "San Fernando" in (await replies(api, 3))[2]["Body"]
    media = {
        "NumMedia": "2",
        "MediaUrl0": f"{api.url}/media/photo1",
        "MediaContentType0": "image/jpeg",
        "MediaUrl1": f"{api.url}/media/voice1",
        "MediaContentType1": "audio/ogg",
    }
    await post(whatsapp, message("mire", **media))
    await replies(api, 4)
    stored = sorted(p.read_bytes() for p in (tmp_path / "media").iterdir())
    assert stored == [b"OggS voice note", b"\xff\xd8\xff\xe0whatsapp photo"]


async def test_stop_and_start_as_whatsapp_users_expect(whatsapp, api, database_url) -> None:
    await post(whatsapp, message("hola"))
    await post(whatsapp, message("rengo"))
    await post(whatsapp, message("ALTA"))
    assert "le enviaremos consejos" in (await replies(api, 4))[3]["Body"]
    await post(whatsapp, message("STOP", OptOutType="STOP"))
    assert "no le enviaremos más consejos" in (await replies(api, 5))[4]["Body"]
    await post(whatsapp, message("START"))
    assert "le enviaremos consejos" in (await replies(api, 6))[5]["Body"]
    (neighbor,) = await rows(database_url, Neighbor)
    assert neighbor.subscribed and neighbor.address == NUMBER


async def test_status_callbacks_move_forward_only(whatsapp, api, database_url) -> None:
    await post(whatsapp, message("hola"))
    welcome, _ = await replies(api, 2)
    await until(lambda: everything_sent(database_url))  # the mark follows the send
    (row,) = await rows(database_url, OutboxMessage, OutboxMessage.dedupe_key.like("%:0"))
    sid = row.platform_message_id
    assert sid.startswith("SM")
    for status in ("sent", "read", "delivered"):  # out of order: "read" stays
        callback = {"MessageSid": sid, "MessageStatus": status, "AccountSid": ACCOUNT, "To": welcome["To"]}
        assert (await post(whatsapp, callback, "/twilio/status")).status_code == 204
    (row,) = await rows(database_url, OutboxMessage, OutboxMessage.platform_message_id == sid)
    assert row.status == "read"
    failed = {
        "MessageSid": sid,
        "MessageStatus": "undelivered",
        "ErrorCode": "63024",
        "ErrorMessage": "Invalid",
    }
    await post(whatsapp, failed, "/twilio/status")
    (row,) = await rows(database_url, OutboxMessage, OutboxMessage.platform_message_id == sid)
    assert (row.status, row.last_error) == ("failed", "63024: Invalid")
    (neighbor,) = await rows(database_url, Neighbor)
    assert neighbor.unreachable  # an invalid recipient is sent nothing more
    forged_body, _ = signed(f"{PUBLIC}/twilio/status", failed)
    assert (await whatsapp.post("/twilio/status", content=forged_body)).status_code == 403


async def test_a_429_is_retried_and_an_invalid_number_stops_sending(whatsapp, api, database_url) -> None:
    api.failures[f"whatsapp:{NUMBER}"].append((429, 20429))
    await post(whatsapp, message("hola"))
    refused, welcome, question = await replies(api, 3)
    assert refused["failed"] and refused["Body"] == welcome["Body"]
    assert "¿En qué comuna vive?" in question["Body"]
    other = "+56987654321"
    api.failures[f"whatsapp:{other}"] += [(400, 63024)] * 2
    await post(whatsapp, message("hola", number=other))
    await replies(api, 1, number=other)
    await post(whatsapp, message("hola", number="+56911110000"))  # a later batch: the first is marked
    await replies(api, 2, number="+56911110000")
    (neighbor,) = await rows(database_url, Neighbor, Neighbor.address == other)
    assert neighbor.unreachable
    assert len([m for m in api.sent if m["To"] == f"whatsapp:{other}"]) == 1


async def test_the_24_hour_window_with_and_without_a_template(whatsapp, api, database_url) -> None:
    await post(whatsapp, message("hola"))
    await replies(api, 2)
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions.begin() as session:  # the neighbor last wrote two days ago
            await session.execute(
                update(Neighbor).values(last_inbound_at=datetime.now(UTC) - timedelta(days=2))
            )
            (neighbor,) = (await session.execute(select(Neighbor))).scalars().all()
            for kind in ("officer_reply", "tip"):
                session.add(
                    OutboxMessage(
                        dedupe_key=f"later:{kind}",
                        channel="whatsapp",
                        address=NUMBER,
                        neighbor_id=neighbor.id,
                        payload={"text": f"un mensaje ({kind})", "options": [], "kind": kind},
                        status="pending",
                        attempts=0,
                        next_attempt_at=datetime.now(UTC),
                        created_at=datetime.now(UTC),
                    )
                )
        # Another neighbor's message wakes the dispatcher (its batch takes these rows too);
        # the reply to their next message comes from a later batch, after this one is marked.
        await post(whatsapp, message("hola", number="+56922220000"))
        await replies(api, 2, number="+56922220000")
        await post(whatsapp, message("rengo", number="+56922220000"))
        await replies(api, 3, number="+56922220000")
        template = (await replies(api, 3))[2]
        assert template["ContentSid"] == "HXofficer" and "Body" not in template
        assert '"un mensaje (officer_reply)"' in template["ContentVariables"]
        async with sessions() as session:
            query = select(OutboxMessage).where(OutboxMessage.dedupe_key == "later:tip")
            tip = (await session.execute(query)).scalar_one()
        assert tip.status == "waiting" and "24-hour window" in tip.last_error

        await post(whatsapp, message("hola de nuevo"))  # the window opens again: the tip goes
        sent = await replies(api, 5)
        assert any(m.get("Body") == "un mensaje (tip)" for m in sent)
    finally:
        await engine.dispose()


async def test_long_texts_are_split(whatsapp, api) -> None:
    await post(whatsapp, message("hola"))
    await post(whatsapp, message("rengo"))
    await post(whatsapp, message("2"))
    await replies(api, 4)
    assert all(len(m.get("Body", "")) <= 1600 for m in api.sent)


async def test_a_63016_report_makes_the_message_wait_for_the_neighbor(whatsapp, api, database_url) -> None:
    await post(whatsapp, message("hola"))
    await replies(api, 2)
    await until(lambda: everything_sent(database_url))
    (row,) = await rows(database_url, OutboxMessage, OutboxMessage.dedupe_key.like("%:0"))
    outside = {"MessageSid": row.platform_message_id, "MessageStatus": "failed", "ErrorCode": "63016"}
    assert (await post(whatsapp, outside, "/twilio/status")).status_code == 204
    (row,) = await rows(database_url, OutboxMessage, OutboxMessage.id == row.id)
    assert (row.status, row.last_error) == ("waiting", "63016")
    await post(whatsapp, message("vivo en coya"))  # the neighbor writes: what waited goes first
    *_, released, answer = await replies(api, 4)
    assert released["Body"] == api.sent[0]["Body"]
    assert "Machalí" in answer["Body"]


async def everything_sent(database_url: str) -> bool:
    waiting = OutboxMessage.status.in_(("pending", "sending"))
    return not await rows(database_url, OutboxMessage, waiting)


async def test_borrar_leaves_no_number_no_words_and_no_file_and_its_confirmation_arrives(
    whatsapp, api, database_url, tmp_path
) -> None:
    api.media["photo1"] = (b"\xff\xd8\xff\xe0a photo of the street", "image/jpeg")
    photo = message(
        "el vecino Ramírez tira escombros",
        NumMedia="1",
        MediaUrl0=f"{api.url}/media/photo1",
        MediaContentType0="image/jpeg",
    )
    for params in (message("hola"), message("vivo en coya"), message("1"), photo, photo):  # Twilio retries
        assert (await post(whatsapp, params)).status_code == 200
        await until(lambda: everything_sent(database_url))
    assert api.downloads == ["photo1"]  # the retry downloaded nothing
    assert len(list((tmp_path / "media").iterdir())) == 1
    await post(whatsapp, message("BORRAR"))
    await post(whatsapp, message("1"))
    await until(lambda: everything_sent(database_url))
    assert "Sus datos fueron borrados" in api.sent[-1]["Body"]

    number, words = NUMBER.removeprefix("+"), ("Ramírez", "escombros", "Rosa", "coya")
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in (await connection.execute(table.select())).all():
                stored = repr(tuple(row))
                assert number[-8:] not in stored, (table.name, stored)
                assert not any(word in stored for word in words), (table.name, stored)
    await engine.dispose()
    assert list((tmp_path / "media").iterdir()) == []
