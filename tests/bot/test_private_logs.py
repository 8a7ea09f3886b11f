"""The log of a whole worked conversation keeps no number, no token and no words of a neighbor.

A real `vecinos serve` (its logging as in production, access log included) serves a
WhatsApp neighbor and a web-chat neighbor, and an officer answers both from the console.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import httpx

from tests.bot.console.people import (
    api_call,
    first_conversation,
    neighbor_says,
    office_replies,
    ready_officer,
)
from tests.doubles.server import Served, free_port
from tests.doubles.twilio_api import ACCOUNT, SENDER, TOKEN, TwilioApiDouble, signed

NUMBER = "+56987651234"
WHATSAPP_WORDS = ["hola", "vivo en rengo", "1", "la vecina Ignacia toca bombo toda la noche"]
WEBCHAT_WORDS = ["buenas tardes", "rengo", "1", "el taller de Eusebio suelda hasta tarde"]
PRIVATE = ("Ignacia", "bombo", "Eusebio", "suelda", "Rosa")


async def test_a_worked_conversation_leaves_nothing_personal_in_the_log(
    tmp_path: Path, database_url: str
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    with TwilioApiDouble() as twilio:
        env = {
            "PUBLIC_URL": public,
            "SECRET_KEY": "k" * 40,
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_WHATSAPP_NUMBER": SENDER,
            "TWILIO_API_BASE_URL": twilio.url,
        }
        with Served(tmp_path, database_url, port=port, **env) as server:
            token = secrets.token_hex(16)
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                for n, text in enumerate(WHATSAPP_WORDS):
                    params = {
                        "MessageSid": f"SM{n:032d}",
                        "AccountSid": ACCOUNT,
                        "From": f"whatsapp:{NUMBER}",
                        "To": SENDER,
                        "Body": text,
                        "NumMedia": "0",
                        "ProfileName": "Rosa",
                    }
                    body, headers = signed(f"{public}/twilio/whatsapp", params)
                    assert (
                        await client.post("/twilio/whatsapp", content=body, headers=headers)
                    ).status_code == 200
                for text in WEBCHAT_WORDS:
                    await neighbor_says(client, token, text)
                await ready_officer(client, database_url, "sargento.soto@carabineros.cl")
                for _ in range(2):  # both conversations: taken, answered, closed
                    item = f"/api/conversations/{await first_conversation(client)}"
                    assert (await api_call(client, "POST", f"{item}/take")).status_code == 200
                    reply = {"text": "Buenas tardes, vamos a pasar por su sector."}
                    assert (await api_call(client, "POST", f"{item}/reply", reply)).status_code == 200
                await office_replies(client, token, 5)
                await asyncio.to_thread(twilio.wait_for, 5, f"whatsapp:{NUMBER}")
        log = "".join(server.output)
    assert "GET /chat/api/messages" in log and "POST /twilio/whatsapp" in log  # the access log was on
    assert NUMBER[-8:] not in log
    assert token not in log
    assert not [word for word in PRIVATE if word in log]
