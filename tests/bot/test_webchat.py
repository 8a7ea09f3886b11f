"""The web chat's HTTP API, as the page uses it: post, long-poll, photos; bad input is 4xx."""

from __future__ import annotations

import json
import secrets
import uuid

import httpx
import pytest

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200


class Page:
    """What the browser page does: a token, messages with client ids, long polling."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.token = secrets.token_hex(16)
        self.after = 0

    async def send(self, text: str, **extra: object) -> httpx.Response:
        body = {"token": self.token, "client_id": str(uuid.uuid4()), "text": text, **extra}
        return await self.client.post("/chat/api/messages", json=body)

    async def read(self, until: int = 1) -> list[dict]:
        """Poll until at least `until` new office messages arrived (the server waits for them)."""
        office: list[dict] = []
        while len(office) < until:
            response = await self.client.get(
                "/chat/api/messages",
                params={"after": self.after, "wait": 10},
                headers={"Authorization": f"Bearer {self.token}"},
            )
            assert response.status_code == 200
            batch = response.json()
            assert batch["messages"], "no reply within the long-poll"
            self.after = batch["last_id"]
            office += [m for m in batch["messages"] if m["direction"] == "out"]
        return office

    async def talk(self, text: str, replies: int = 1, **extra: object) -> list[dict]:
        response = await self.send(text, **extra)
        assert response.status_code == 202, response.text
        return await self.read(replies)


async def test_from_hola_to_a_queued_conversation(client: httpx.AsyncClient) -> None:
    page = Page(client)
    welcome, question = await page.talk("hola", replies=2)
    assert "Vecinos" in welcome["text"] and "comuna" in question["text"]
    (card,) = await page.talk("vivo en machali")
    assert "Machalí" in card["text"]
    assert [o["key"] for o in card["options"]] == ["1", "2", "3", "4", "5"]
    (queued,) = await page.talk("Conversar con la oficina", option="1")
    assert "quedó en la fila" in queued["text"]

    history = (
        await client.get(
            "/chat/api/messages", params={"after": 0}, headers={"Authorization": f"Bearer {page.token}"}
        )
    ).json()["messages"]
    assert [m["direction"] for m in history] == ["in", "out", "out", "in", "out", "in", "out"]
    assert len({m["id"] for m in history}) == len(history)


async def test_a_resent_message_is_taken_once(client: httpx.AsyncClient) -> None:
    page = Page(client)
    body = {"token": page.token, "client_id": "retry-0001", "text": "hola"}
    first = await client.post("/chat/api/messages", json=body)
    again = await client.post("/chat/api/messages", json=body)
    assert first.json() == {"accepted": True, "duplicate": False}
    assert again.status_code == 202 and again.json() == {"accepted": True, "duplicate": True}
    await page.read(2)
    history = (
        await client.get("/chat/api/messages", headers={"Authorization": f"Bearer {page.token}"})
    ).json()["messages"]
    assert [m["direction"] for m in history] == ["in", "out", "out"]


async def test_location_and_photo(client: httpx.AsyncClient) -> None:
    page = Page(client)
    await page.talk("hola", replies=2)
    (card,) = await page.talk("", location={"latitude": -34.5853, "longitude": -70.9890})
    assert "San Fernando" in card["text"]
    response = await client.post(
        "/chat/api/photos",
        data={"token": page.token, "client_id": str(uuid.uuid4()), "caption": "mire esto"},
        files={"file": ("foto.jpg", JPEG, "image/jpeg")},
    )
    assert response.status_code == 202
    (reply,) = await page.read()
    history = (
        await client.get("/chat/api/messages", headers={"Authorization": f"Bearer {page.token}"})
    ).json()["messages"]
    photo = next(m for m in history if m["media"])
    assert photo == {**photo, "direction": "in", "text": "mire esto", "media": {"kind": "photo"}}
    assert reply["options"]  # the menu: the neighbor is never stuck


ID = {"token": "a" * 20, "client_id": "abcdefgh"}


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        json.dumps({**ID, "token": "short", "text": "hola"}).encode(),
        json.dumps({"token": "a" * 20, "text": "hola"}).encode(),
        json.dumps({**ID, "text": 42}).encode(),
        json.dumps({**ID, "text": "   "}).encode(),
        json.dumps({**ID, "location": {"latitude": "x"}}).encode(),
        json.dumps({**ID, "location": {"latitude": 999, "longitude": 0}}).encode(),
        json.dumps({**ID, "client_id": "../../etc", "text": "hola"}).encode(),
    ],
)
async def test_malformed_messages_get_400_and_change_nothing(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post(
        "/chat/api/messages", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]
    history = await client.get("/chat/api/messages", headers={"Authorization": f"Bearer {ID['token']}"})
    assert history.json() == {"messages": [], "last_id": 0}


async def test_a_huge_message_gets_413(client: httpx.AsyncClient) -> None:
    response = await Page(client).send("x" * 4001)
    assert response.status_code == 413 and "4000" in response.json()["error"]


async def test_emoji_and_long_messages_are_fine(client: httpx.AsyncClient) -> None:
    page = Page(client)
    await page.talk("🙏🏽👋", replies=2)
    (reply,) = await page.talk("ñandú " * 600)
    assert reply["text"]


@pytest.mark.parametrize(
    ("files", "data", "status"),
    [
        ({"file": ("x.txt", b"hello", "text/plain")}, {}, 400),
        ({"file": ("big.jpg", JPEG + b"\x00" * (10 * 1024 * 1024), "image/jpeg")}, {}, 413),
        (None, {}, 400),
        ({"file": ("x.jpg", JPEG, "image/jpeg")}, {"token": "bad"}, 400),
    ],
)
async def test_bad_photos_are_refused(client: httpx.AsyncClient, files, data, status: int) -> None:
    form = {"token": "a" * 32, "client_id": str(uuid.uuid4()), **data}
    response = await client.post("/chat/api/photos", data=form, files=files)
    assert response.status_code == status


@pytest.mark.parametrize(
    ("params", "authorization"),
    [
        ({}, None),
        ({}, "Bearer bad"),
        ({}, f"Basic {'a' * 32}"),
        ({"token": "a" * 32}, None),  # never in the URL, where logs keep it
        ({"after": "x"}, f"Bearer {'a' * 32}"),
        ({"wait": "forever"}, f"Bearer {'a' * 32}"),
    ],
)
async def test_bad_polls_get_400(client: httpx.AsyncClient, params: dict, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.get("/chat/api/messages", params=params, headers=headers)
    assert response.status_code == 400


async def test_the_page_is_served_with_every_text_from_the_catalog(client: httpx.AsyncClient) -> None:
    response = await client.get("/chat")
    assert response.status_code == 200
    assert 'lang="es-CL"' in response.text and "Converse con su oficina comunitaria" in response.text
    assert (await client.get("/static/chat.js")).status_code == 200


async def test_health_ready_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {
        "status": "ok",
        "database": "ok",
        "background": {"outbox-dispatcher": "running", "directory-refresh": "running"},
    }
    await Page(client).talk("hola", replies=2)
    metrics = (await client.get("/metrics")).text
    assert 'vecinos_inbound_messages_total{channel="webchat"} 1.0' in metrics
    assert 'vecinos_background_up{task="outbox-dispatcher"} 1.0' in metrics


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/nope", 404), ("DELETE", "/chat", 405), ("PUT", "/healthz", 405)]
)
async def test_unknown_requests_get_a_clear_4xx(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status
    assert response.json()["error"]
