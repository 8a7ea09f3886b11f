"""Huge bodies against `vecinos serve` as a process: 413 at once, and the server's memory stays put.

Each public route gets 50 MB twice at the same time, once with a declared Content-Length
and once chunked with none, from raw sockets that keep sending until the answer comes
(as an attacker would). The server process's resident memory is read from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.doubles.server import Served
from tests.doubles.telegram_api import TelegramApiDouble
from tests.doubles.twilio_api import ACCOUNT, SENDER, TOKEN, TwilioApiDouble

MB = 1024 * 1024
HUGE = 50 * MB
CHUNK = 256 * 1024
# A photo part that goes on and on: the form parser reads it as a photo, not as garbage.
PHOTO_PART = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n\xff\xd8\xff'
MAX_GROWTH = 100 * MB
TELEGRAM_SECRET = "webhook-secret-for-tests"
ROUTES = [
    ("/chat/api/messages", "application/json", {}),
    ("/chat/api/photos", "multipart/form-data; boundary=b", {}),
    ("/telegram/webhook", "application/json", {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}),
    ("/twilio/whatsapp", "application/x-www-form-urlencoded", {"X-Twilio-Signature": "x"}),
    ("/twilio/status", "application/x-www-form-urlencoded", {"X-Twilio-Signature": "x"}),
    ("/console/login", "application/x-www-form-urlencoded", {}),
    ("/api/conversations/1/reply", "application/json", {}),  # signed in: see `signed_in`
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    with TelegramApiDouble() as telegram, TwilioApiDouble() as twilio:
        env = {
            "PUBLIC_URL": "https://vecinos.example.cl",
            "SECRET_KEY": "k" * 40,
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_WHATSAPP_NUMBER": SENDER,
            "TWILIO_API_BASE_URL": twilio.url,
        }
        with Served(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'limits.db'}", **env) as served:
            yield served


def signed_in(server: Served) -> dict[str, str]:
    """The headers of a signed-in officer's API call, so that the API reads the body it is sent.

    The session cookie is Secure (PUBLIC_URL is https), so it is carried by hand over http.
    """
    done = subprocess.run(
        [sys.executable, "-m", "bot", "officers", "add", "--office", "rengo", "--name", "Sargento Pérez",
         "--email", "perez@carabineros.cl"],
        cwd=server.workdir, env=server.env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    password = re.search(r"un solo uso.*: (\S+)", done.stdout).group(1)
    cookie = ""

    def call(method: str, path: str, **form: str) -> httpx.Response:
        nonlocal cookie
        response = httpx.request(method, f"{server.url}{path}", data=form or None, headers={"Cookie": cookie})
        if match := re.search(r"vecinos_console=[^;]+", response.headers.get("set-cookie", "")):
            cookie = match.group(0)
        return response

    def csrf(path: str) -> str:
        return re.search(r'name="csrf" value="([^"]+)"', call("GET", path).text).group(1)

    call(
        "POST", "/console/login", csrf=csrf("/console/login"), email="perez@carabineros.cl", password=password
    )
    new = "mi-clave-nueva-1"
    call("POST", "/console/password", csrf=csrf("/console/password"), password=new, repeat=new)
    me = call("GET", "/api/me")
    assert me.status_code == 200, me.text
    return {"Cookie": cookie, "X-CSRF-Token": me.json()["csrf_token"]}


def reset_peak(pid: int) -> None:
    """Restart a process's VmHWM from its current RSS (Linux's clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def memory(pid: int, field: str) -> int:
    """VmRSS (now) or VmHWM (the peak since clear_refs) of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for process {pid}")


async def post_huge(
    port: int, path: str, content_type: str, headers: dict[str, str], *, chunked: bool
) -> str:
    """POST 50 MB until the server answers; what it answered (status line, headers, body).

    Plain sockets: a failed send (the server closed after answering) must not hide the
    answer, as it would in asyncio's streams.
    """
    loop = asyncio.get_running_loop()
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {HUGE}"
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n{extra}{framing}\r\n\r\n"
    )
    chunk = (f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n") if chunked else b"x" * CHUNK
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setblocking(False)

        async def send_body() -> None:
            await loop.sock_sendall(sock, head.encode())
            if path == "/chat/api/photos":
                part = f"{len(PHOTO_PART):x}\r\n".encode() + PHOTO_PART + b"\r\n" if chunked else PHOTO_PART
                await loop.sock_sendall(sock, part)
            for _ in range(HUGE // CHUNK):
                await loop.sock_sendall(sock, chunk)
            if chunked:
                await loop.sock_sendall(sock, b"0\r\n\r\n")

        async def read_answer() -> bytes:
            answer = b""
            while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
                data = await loop.sock_recv(sock, 65536)
                if not data:
                    break
                answer += data
            return answer

        sending = asyncio.create_task(send_body())
        try:
            answer = await asyncio.wait_for(read_answer(), timeout=30)
        finally:
            sending.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await sending
    return answer.decode(errors="replace")


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


async def test_huge_bodies_get_413_at_once_and_the_server_memory_stays_put(server: Served) -> None:
    pid = server.process.pid
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        assert (await client.get("/chat")).status_code == 200  # warm: templates, routes, database
        routes = [
            (p, c, h or signed_in(server)) if p.startswith("/api/") else (p, c, h) for p, c, h in ROUTES
        ]
        idle = memory(pid, "VmRSS")
        reset_peak(pid)  # signing in hashed a password: the peak counts from here

        answers = await asyncio.gather(
            *(
                post_huge(server.port, path, content_type, headers, chunked=chunked)
                for path, content_type, headers in routes
                for chunked in (False, True)
            )
        )
        peak = memory(pid, "VmHWM")
        print(f"server RSS idle {idle / MB:.1f} MB, peak {peak / MB:.1f} MB")  # the figures

        for (path, _, _), chunked, answer in zip(
            [route for route in ROUTES for _ in (0, 1)], [False, True] * len(ROUTES), answers, strict=True
        ):
            assert answer.startswith("HTTP/1.1 413 "), (path, chunked, answer[:200])
            body = json.loads(answer.split("\r\n\r\n", 1)[1])
            assert body == {"error": "Lo que envió es demasiado grande y no pudimos recibirlo."}
        assert peak - idle < MAX_GROWTH, f"idle {idle / MB:.1f} MB, peak {peak / MB:.1f} MB"

        # The server is still fine for everyone else.
        message = {"token": secrets.token_hex(16), "client_id": str(uuid.uuid4()), "text": "hola"}
        assert (await client.post("/chat/api/messages", json=message)).status_code == 202
