"""`vecinos serve` as a process: it starts with no accounts, and a kill -9 loses nothing."""

from __future__ import annotations

import asyncio
import re
import secrets
import sqlite3
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.doubles.server import Served
from tests.doubles.tcp_proxy import TcpProxy
from tests.waiting import until


def test_serve_starts_with_no_accounts_and_says_where_to_chat(tmp_path: Path) -> None:
    with Served(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}") as server:
        output = "".join(server.output)
        assert f"http://localhost:{server.port}/chat" in output
        assert "Telegram" in output and "WhatsApp" in output  # the channels that are off
        assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{server.url}/readyz").json()["database"] == "ok"
        assert httpx.get(f"{server.url}/chat").status_code == 200
    assert (tmp_path / "fresh.db").exists()


@pytest.mark.parametrize(
    ("allowed", "counted"),
    [("", "127.0.0.1"), ("127.0.0.1", "203.0.113.7")],
    ids=["no-proxy-by-default", "a-named-proxy"],
)
def test_x_forwarded_for_is_believed_only_from_forwarded_allow_ips(
    tmp_path: Path, allowed: str, counted: str
) -> None:
    """By default a client cannot name its own address to escape the sign-in throttle."""
    database = tmp_path / "proxy.db"
    served = Served(tmp_path, f"sqlite+aiosqlite:///{database}", FORWARDED_ALLOW_IPS=allowed)
    with served as server, httpx.Client(base_url=server.url) as browser:
        login = browser.get("/console/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
        form = {"csrf": csrf, "email": "nadie@carabineros.cl", "password": "adivinando"}
        failed = browser.post("/console/login", data=form, headers={"X-Forwarded-For": "203.0.113.7"})
        assert failed.status_code == 401
    assert db_rows(database, "SELECT key FROM sign_in_failures WHERE key LIKE 'address:%'") == [
        (f"address:{counted}",)
    ]


async def test_a_kill_9_mid_conversation_loses_nothing_acknowledged_and_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    database = tmp_path / "crash.db"
    server = Served(tmp_path, f"sqlite+aiosqlite:///{database}").start()
    tokens = [secrets.token_hex(16) for _ in range(4)]
    messages = [
        (token, f"{token[:8]}-{n:04d}", text)
        for token in tokens
        for n, text in enumerate(
            ["hola", "vivo en rengo", "1", "hay ruidos en la noche", "MENU", "2", "1", "3"]
        )
    ]
    acknowledged: set[str] = set()

    async def post(client: httpx.AsyncClient, token: str, client_id: str, text: str) -> bool:
        body = {"token": token, "client_id": client_id, "text": text}
        response = await client.post(f"{server.url}/chat/api/messages", json=body)
        return response.status_code == 202

    async def conversation(client: httpx.AsyncClient, token: str) -> None:
        for owner, client_id, text in messages:
            if owner == token and await post(client, token, client_id, text):
                acknowledged.add(client_id)
                if len(acknowledged) == len(messages) // 2:
                    server.kill()  # mid-conversation, with other requests in flight

    async with httpx.AsyncClient(timeout=10) as client:
        await asyncio.gather(*(conversation(client, t) for t in tokens), return_exceptions=True)
    assert server.process.returncode == -9
    assert len(acknowledged) >= len(messages) // 2

    restarted = Served(tmp_path, f"sqlite+aiosqlite:///{database}", port=server.port).start()
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            # The pages resend everything not acknowledged, and some of what was (a lost answer).
            for token, client_id, text in messages:
                body = {"token": token, "client_id": client_id, "text": text}
                response = await client.post(f"{restarted.url}/chat/api/messages", json=body)
                assert response.status_code == 202
                if client_id in acknowledged:
                    assert response.json()["duplicate"] is True
            # Replies claimed when the server died are sent again once their lease runs out.
            while db_count(database, "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"):
                await asyncio.gather(*(long_poll(client, restarted.url, t) for t in tokens))
            transcripts = {t: (await long_poll(client, restarted.url, t, wait=0)) for t in tokens}
    finally:
        restarted.stop()

    db = sqlite3.connect(database)
    for token, client_id, _ in messages:
        platform_id = f"{token}:{client_id}"
        assert db.execute(
            "SELECT count(*) FROM inbound_events WHERE platform_id = ?", (platform_id,)
        ).fetchone() == (1,)
        assert db.execute(
            "SELECT count(*) FROM messages WHERE platform_id = ?", (platform_id,)
        ).fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM inbound_events WHERE error IS NOT NULL").fetchone() == (0,)
    assert db.execute("SELECT DISTINCT status FROM outbox").fetchall() == [("sent",)]
    for token, transcript in transcripts.items():
        ids = [m["id"] for m in transcript]
        assert len(ids) == len(set(ids))
        incoming = [m for m in transcript if m["direction"] == "in"]
        assert len(incoming) == 8
        sent = db.execute("SELECT count(*) FROM outbox WHERE address = ?", (token,)).fetchone()[0]
        assert sum(m["direction"] == "out" for m in transcript) == sent  # each reply shown once
    db.close()


async def long_poll(client: httpx.AsyncClient, url: str, token: str, wait: float = 5) -> list[dict]:
    """A token's whole transcript, waiting up to `wait` seconds (server side) for something new."""
    headers = {"Authorization": f"Bearer {token}"}
    transcript = (await client.get(f"{url}/chat/api/messages", headers=headers)).json()["messages"]
    after = transcript[-1]["id"] if transcript else 0
    params = {"after": after, "wait": wait}
    more = await client.get(f"{url}/chat/api/messages", params=params, headers=headers)
    return transcript + more.json()["messages"]


def db_rows(database: Path, query: str) -> list[tuple]:
    with sqlite3.connect(database) as db:
        return db.execute(query).fetchall()


def db_count(database: Path, query: str) -> int:
    with sqlite3.connect(database) as db:
        return db.execute(query).fetchone()[0]


async def test_serve_waits_for_a_database_that_is_not_up_yet(tmp_path: Path, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the database that is not up yet is a TCP proxy in front of PostgreSQL")
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)  # refuses until restored
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    server = Served(tmp_path, proxied)
    starting = asyncio.create_task(asyncio.to_thread(server.start, 60))
    try:

        async def said_so() -> bool:
            return any("the database does not answer" in line for line in server.output)

        await until(said_so)
        assert server.process.poll() is None  # still there, waiting
        await proxy.restore()
        await starting
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{server.url}/readyz")).json()["database"] == "ok"
    finally:
        await asyncio.to_thread(server.stop)
        await proxy.cut()
