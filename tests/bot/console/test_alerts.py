"""Alerts of waiting conversations on the Telegram chat an officer linked from the console.

The real app in webhook mode, python-telegram-bot and HTTP to a Bot API double.
"""

from __future__ import annotations

import asyncio
import re

import httpx
from sqlalchemy import func, select

from db.engine import create_engine, create_sessionmaker
from db.models import OutboxMessage
from tests.bot.console.people import (
    ALWAYS_OPEN,
    READY_PASSWORD,
    api_call,
    first_conversation,
    neighbor_says,
    neighbor_waits,
    office_says,
    post_form,
    ready_officer,
    set_office_hours,
    sign_in,
    sign_out,
)
from tests.bot.test_telegram import api, post_update, private_message, webhook  # noqa: F401 (fixtures)
from tests.doubles.telegram_api import TelegramApiDouble

PEREZ, SOTO, ROJAS = 9001, 9002, 9003


async def said(api_double: TelegramApiDouble, chat_id: int, count: int) -> list[str]:
    """The first `count` texts the bot sent to `chat_id`, waiting for them."""
    calls = await asyncio.to_thread(api_double.wait_for, count, chat_id)
    return [c["text"] for c in calls]


async def link(client: httpx.AsyncClient, chat_id: int, *, deep: bool) -> str:
    """The signed-in officer links `chat_id`: by typing the command, or through the deep link."""
    code = (await api_call(client, "POST", "/api/account/link-code")).json()
    text = f"/start {code['link'].split('start=')[1]}" if deep else code["command"]
    assert (await post_update(client, private_message(text, chat_id=chat_id))).status_code == 200
    return code["code"]


async def outbox_rows_to(database_url: str, address: str) -> int:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        count = await session.scalar(select(func.count()).where(OutboxMessage.address == address))
    await engine.dispose()
    return count


async def test_linked_officers_are_told_of_waiting_conversations_without_personal_data(
    webhook: httpx.AsyncClient,  # noqa: F811
    api: TelegramApiDouble,  # noqa: F811
    database_url: str,
) -> None:
    client, telegram = webhook, api
    for office in ("rengo", "machali"):  # in office hours, whenever this runs
        await set_office_hours(client, database_url, office, ALWAYS_OPEN)
    await ready_officer(client, database_url, "perez@carabineros.cl")
    account = await client.get("/console/account")
    assert "no está vinculado" in account.text
    page = await post_form(client, "/console/account/link-code", "/console/account")
    code = re.search(r'id="link-command">/vincular ([A-Z0-9]{8})<', page.text).group(1)
    assert f"https://t.me/VecinosTestBot?start=vincular-{code}" in page.text

    update = private_message("/vincular ZZZZ9999", chat_id=PEREZ)  # a wrong code
    await post_update(client, update)
    assert "no es válido" in (await said(telegram, PEREZ, 1))[0]
    update = private_message(f"/vincular {code}", chat_id=PEREZ)
    await post_update(client, update)
    await post_update(client, update)  # Telegram's retry of the same update: one answer
    assert "Listo, Sargento Pérez" in (await said(telegram, PEREZ, 2))[1]
    assert (await client.get("/api/me")).json()["alerts_linked"] is True
    again = private_message(f"/vincular {code}", chat_id=SOTO)  # a used code links nothing more
    await post_update(client, again)
    assert "no es válido" in (await said(telegram, SOTO, 1))[0]

    token = await neighbor_waits(client, "rengo", first="quiero hablar con alguien, me llamo Rosa Tapia")
    alert = (await said(telegram, PEREZ, 3))[2]
    number = await first_conversation(client)
    assert alert.startswith("🔔 Nueva conversación en espera en la Oficina de Integración Comunitaria Rengo")
    assert f"Conversar (N° {number})" in alert
    assert f"https://vecinos.example.cl/console/conversations/{number}" in alert
    for personal in ("Rosa", "Tapia", token, "Rengo:"):  # nothing the neighbor wrote, nor who they are
        assert personal not in alert.replace("Comunitaria Rengo", "")

    # Urgent before the commune is known: every linked officer hears of it region-wide, then
    # the office once the neighbor names the commune.
    urgent_token = await neighbor_waits(client, "rengo", first="hay un tipo con una pistola en mi puerta")
    region, moved = (await said(telegram, PEREZ, 5))[3:5]
    assert region.startswith("🚨 URGENTE SIN COMUNA (peligro ahora)")
    assert moved.startswith("🚨 URGENTE en la Oficina de Integración Comunitaria Rengo")
    await neighbor_waits(client, "machali")  # another office's: not Pérez's to hear of
    await sign_out(client)

    # Rojas, of Machalí, links by the deep link; Rengo transfers to Machalí: Rojas hears of it.
    await ready_officer(client, database_url, "rojas@carabineros.cl", office="machali")
    await link(client, ROJAS, deep=True)
    assert "Machalí" in (await said(telegram, ROJAS, 1))[0]
    await sign_out(client)
    await ready_officer(client, database_url, "soto@carabineros.cl")
    here = f"/console/conversations/{number}"
    await post_form(client, f"{here}/transfer", here, office="machali", reason="es de su sector")
    assert (
        f"traspasó a la Oficina de Integración Comunitaria Machalí la conversación N° {number}"
        in (await said(telegram, ROJAS, 2))[1]
    )
    assert await outbox_rows_to(database_url, str(PEREZ)) == 5  # the Machalí conversation told him nothing

    # A neighbor says it was not solved: back in the queue, and the office hears of it.
    urgent = await first_conversation(client)
    await post_form(
        client,
        f"/console/conversations/{urgent}/close",
        f"/console/conversations/{urgent}",
        outcome="resolved",
    )
    await office_says(client, urgent_token, "¿Se resolvió")
    await neighbor_says(client, urgent_token, "No", option="2")
    assert f"N° {urgent}" in (alert := (await said(telegram, PEREZ, 6))[5]) and "no se resolvió" in alert

    # Pérez stops the alerts: nothing more is queued for his chat.
    await sign_out(client)
    await sign_in(client, "perez@carabineros.cl", READY_PASSWORD)
    assert (await api_call(client, "DELETE", "/api/account/link")).status_code == 200
    await office_says(client, await neighbor_waits(client, "rengo"), "quedó en la fila")
    assert await outbox_rows_to(database_url, str(PEREZ)) == 6
