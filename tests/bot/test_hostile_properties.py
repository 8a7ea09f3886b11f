"""Every public route under generated hostile bodies: never a 500 or a 503, and the same
answer from SQLite and PostgreSQL.

Both apps (every channel on) run side by side for the whole module; each generated
request goes to both, and their statuses are compared. Bodies: arbitrary JSON shapes,
NUL, lone surrogates, emoji, strings longer than their column, numbers out of range,
nulls where objects go; Telegram's with its secret, Twilio's signed by twilio's own
RequestValidator, the console's signed in with the session's CSRF token.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bot.all_channels import PUBLIC, TELEGRAM_SECRET, serving
from tests.bot.console.people import add_officer, csrf_of, neighbor_waits, ready_officer
from tests.conftest import empty_postgresql
from tests.doubles.telegram_api import TelegramApiDouble
from tests.doubles.twilio_api import ACCOUNT, SENDER, TwilioApiDouble, signed

pytestmark = pytest.mark.asyncio(loop_scope="module")
ANSWERS = Counter[tuple[str, int]]()  # (route, status) -> requests made, over both databases


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# --- the apps ----------------------------------------------------------------------------


@dataclass
class Twin:
    """One app on one database, its client signed in as an office admin, and one anonymous."""

    backend: str
    client: httpx.AsyncClient
    anonymous: httpx.AsyncClient
    csrf: str = ""
    anonymous_csrf: str = ""


@dataclass
class Twins:
    apps: list[Twin]
    twilio_url: str

    async def each(self, route: str, send: Callable[[Twin], Awaitable[httpx.Response]]) -> int:
        """Send the same request to every app; the one status they must all answer."""
        statuses = {}
        for twin in self.apps:
            response = await send(twin)
            statuses[twin.backend] = response.status_code
            assert response.status_code not in (500, 503), (twin.backend, response.text[:300])
        ANSWERS[route, response.status_code] += len(statuses)
        assert len(set(statuses.values())) == 1, statuses
        return next(iter(statuses.values()))


@pytest.fixture(scope="module")
def telegram() -> TelegramApiDouble:
    with TelegramApiDouble() as double:
        yield double


@pytest.fixture(scope="module")
def twilio() -> TwilioApiDouble:
    with TwilioApiDouble() as double:
        double.media["photo1"] = (b"\xff\xd8\xff\xe0whatsapp photo", "image/jpeg")
        yield double


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def twins(
    tmp_path_factory: pytest.TempPathFactory,
    telegram: TelegramApiDouble,
    twilio: TwilioApiDouble,
    postgresql_url: str | None,
) -> AsyncIterator[Twins]:
    root = tmp_path_factory.mktemp("twins")
    urls = {"sqlite": f"sqlite+aiosqlite:///{root / 'vecinos.db'}"}
    if postgresql_url:
        urls["postgresql"] = await empty_postgresql(postgresql_url)
    async with contextlib.AsyncExitStack() as stack:
        apps = []
        for backend, url in urls.items():
            client = await stack.enter_async_context(serving(url, root / backend, telegram, twilio))
            transport = client._transport  # the same app, another cookie jar
            anonymous = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url=PUBLIC)
            )
            twin = Twin(backend, client, anonymous)
            await neighbor_waits(client, "rengo")  # conversation 1
            await ready_officer(client, url, "jefa@carabineros.cl", role="admin")  # officer 1
            await add_officer(url, "cabo@carabineros.cl")  # officer 2
            twin.csrf = (await client.get("/api/me")).json()["csrf_token"]
            twin.anonymous_csrf = csrf_of(await anonymous.get("/console/login"))
            apps.append(twin)
        yield Twins(apps, twilio.url)
    print("\nrequests per route and status, both databases:", sorted(ANSWERS.items()))


# --- what hostile input is made of -------------------------------------------------------

ODD = ["\x00", "\ud800", "\udfff", "\ud83d", "😀", "ñ", "\u202e", "\u200d", "\r", "\n", "%", "\\", "'", "{"]
FORM_ODD = [c for c in ODD if not 0xD800 <= ord(c[0]) <= 0xDFFF]  # a form is UTF-8: no surrogates
LONG = [2, 64, 65, 129, 201, 255, 257, 1001, 4001, 5000]


def texts(odd: list[str], max_size: int = 30) -> st.SearchStrategy[str]:
    alphabet = st.characters(codec="utf-8") | st.sampled_from(odd)
    short = st.text(alphabet=alphabet, max_size=max_size)
    long = st.builds(
        lambda piece, times: piece * times, st.sampled_from(["x", "ñ", *odd]), st.sampled_from(LONG)
    )
    return short | long


TEXT, FORM_TEXT = texts(ODD), texts(FORM_ODD)
NUMBERS = (
    st.integers(-(2**70), 2**70)
    | st.floats()
    | st.sampled_from([0, -1, 2**31 - 1, 2**31, -(2**31) - 1, 2**63, 10**30, 10**400, 1e308])
)
JSON = st.recursive(
    st.none() | st.booleans() | NUMBERS | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts(ODD, 8), inner, max_size=4),
    max_leaves=8,
)
TOKENS = [secrets.token_hex(16) for _ in range(3)]


def body(value: Any) -> dict[str, Any]:
    """A JSON request body as bytes (escaped: lone surrogates go as `\\udxxx`, as JSON allows)."""
    return {"content": json.dumps(value), "headers": {"content-type": "application/json"}}


# --- the web chat ------------------------------------------------------------------------

LOCATIONS = st.fixed_dictionaries({"latitude": NUMBERS | JSON, "longitude": NUMBERS | JSON}) | JSON
# Most bodies well formed but for their values, so that they reach the database.
CHAT_MESSAGES = st.one_of(
    *[
        st.fixed_dictionaries(
            {"token": st.sampled_from(TOKENS), "client_id": st.uuids().map(str), "text": TEXT},
            optional={"location": LOCATIONS, "option": TEXT | JSON},
        )
    ]
    * 3,
    st.fixed_dictionaries(
        {"token": st.sampled_from(TOKENS) | TEXT, "client_id": st.uuids().map(str) | TEXT},
        optional={"text": TEXT | JSON, "location": LOCATIONS, "option": TEXT | JSON},
    ),
    JSON,
)


@fuzz(180)
@given(message=CHAT_MESSAGES)
async def test_chat_messages(twins: Twins, message: Any) -> None:
    status = await twins.each(
        "POST /chat/api/messages", lambda t: t.client.post("/chat/api/messages", **body(message))
    )
    assert status in (202, 400, 413)


POLLS = st.fixed_dictionaries(
    {},
    optional={
        "token": st.sampled_from(TOKENS) | FORM_TEXT,
        "after": st.integers(-(2**40), 2**40).map(str)
        | st.sampled_from(["99999999999", "-1", "1e3", "0x10"]),
        "wait": st.sampled_from(["nan", "inf", "-inf", "1e999", "-5", "0", "0.01", "abc", ""])
        | st.floats(max_value=0.02).map(repr),
    },
)


@fuzz(120)
@given(params=POLLS)
async def test_chat_polls(twins: Twins, params: dict[str, str]) -> None:
    token = params.pop("token", None)
    headers = {"Authorization": b"Bearer " + token.encode("utf-8", "surrogatepass")} if token else {}
    status = await twins.each(
        "GET /chat/api/messages",
        lambda t: t.client.get("/chat/api/messages", params=params, headers=headers),
    )
    assert status in (200, 400)


FILES = st.sampled_from([b"\xff\xd8\xff\xe0" + b"1" * 64, b"\x89PNG\r\n\x1a\n", b"", b"junk", b"GIF89a\x00"])


@fuzz(50)
@given(
    fields=st.fixed_dictionaries(
        {"token": st.sampled_from(TOKENS) | FORM_TEXT, "client_id": st.uuids().map(str) | FORM_TEXT},
        optional={"caption": FORM_TEXT},
    ),
    data=FILES | st.none(),
)
async def test_chat_photos(twins: Twins, fields: dict[str, str], data: bytes | None) -> None:
    files = {"file": ("photo.jpg", data, "image/jpeg")} if data is not None else None
    status = await twins.each(
        "POST /chat/api/photos", lambda t: t.client.post("/chat/api/photos", data=fields, files=files)
    )
    assert status in (202, 400, 413)


# --- Telegram ------------------------------------------------------------------------------

CHAT_IDS = st.sampled_from([5550101, 5550102, -1001234]) | NUMBERS | JSON
USERS = (
    st.fixed_dictionaries(
        {"id": CHAT_IDS}, optional={"is_bot": JSON, "first_name": TEXT | JSON, "username": TEXT | JSON}
    )
    | JSON
)
CHATS = st.fixed_dictionaries(
    {"id": CHAT_IDS}, optional={"type": st.sampled_from(["private", "group", "x"]) | JSON}
)
FILE = st.fixed_dictionaries({"file_id": TEXT | JSON}, optional={"file_unique_id": JSON, "width": NUMBERS})
MESSAGES = st.fixed_dictionaries(
    {},
    optional={
        "message_id": NUMBERS,
        "date": NUMBERS | JSON,
        "chat": CHATS | JSON,
        "from": USERS,
        "text": TEXT | JSON | st.sampled_from(["/start", "/vincular ABCD1234", "hola", "rengo", "1"]),
        "caption": TEXT | JSON,
        "location": LOCATIONS,
        "photo": st.lists(FILE | JSON, max_size=2) | JSON,
        "voice": FILE | JSON,
    },
)
BUTTONS = st.lists(
    st.lists(st.fixed_dictionaries({"text": TEXT | JSON, "callback_data": TEXT | JSON}) | JSON)
)
QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "id": TEXT | JSON,
        "from": USERS,
        "data": TEXT | JSON,
        "message": MESSAGES | JSON,
        "chat_instance": JSON,
    },
)
SENDER_IDS = st.sampled_from([5550101, 5550102])
WELL_FORMED = st.fixed_dictionaries(
    {
        "message_id": st.integers(1, 10**6),
        "date": st.integers(1_700_000_000, 1_800_000_000),
        "chat": st.fixed_dictionaries({"id": SENDER_IDS, "type": st.just("private")}),
        "from": st.fixed_dictionaries({"id": SENDER_IDS, "is_bot": st.just(False), "first_name": TEXT}),
        "text": TEXT,
    },
    optional={
        "caption": TEXT | JSON,
        "location": LOCATIONS,
        "photo": st.lists(FILE, max_size=2),
        "voice": FILE,
    },
)
UPDATES = st.one_of(
    *[st.fixed_dictionaries({"update_id": st.integers(0, 2**40), "message": WELL_FORMED})] * 2,
    st.fixed_dictionaries({"update_id": st.integers(0, 2**40), "callback_query": QUERIES}),
    st.fixed_dictionaries(
        {"update_id": st.integers(0, 2**40) | NUMBERS | JSON},
        optional={"message": MESSAGES | JSON, "callback_query": QUERIES | JSON, "edited_message": MESSAGES},
    ),
    JSON,
)


@fuzz(180)
@given(update=UPDATES, buttons=BUTTONS)
async def test_telegram_updates(twins: Twins, update: Any, buttons: Any) -> None:
    query = update.get("callback_query") if isinstance(update, dict) else None
    if isinstance(query, dict) and isinstance(query.get("message"), dict):
        query["message"]["reply_markup"] = {"inline_keyboard": buttons}
    request = body(update)
    request["headers"]["X-Telegram-Bot-Api-Secret-Token"] = TELEGRAM_SECRET
    status = await twins.each(
        "POST /telegram/webhook", lambda t: t.client.post("/telegram/webhook", **request)
    )
    assert status in (200, 400)


# --- WhatsApp ------------------------------------------------------------------------------

MEDIA_URLS = st.sampled_from(["DOUBLE/media/photo1", "DOUBLE/media/none", "http://[", "", "ftp://x", "nada"])
SIDS = st.integers(1, 10**6).map(lambda n: f"SM{n:032d}")
NUMBERS_FROM = st.sampled_from(["whatsapp:+56911110001", "whatsapp:+56911110002"])
WHATSAPP = st.fixed_dictionaries(
    {
        "MessageSid": st.one_of(SIDS, SIDS, FORM_TEXT),
        "From": st.one_of(NUMBERS_FROM, NUMBERS_FROM, FORM_TEXT.map(lambda t: f"whatsapp:{t}"), FORM_TEXT),
        "Body": FORM_TEXT,
    },
    optional={
        "ProfileName": FORM_TEXT,
        "ButtonPayload": FORM_TEXT,
        "ButtonText": FORM_TEXT,
        "OptOutType": FORM_TEXT | st.sampled_from(["STOP", "START"]),
        "Latitude": FORM_TEXT | NUMBERS.map(str),
        "Longitude": FORM_TEXT | NUMBERS.map(str),
        "NumMedia": FORM_TEXT | st.sampled_from(["0", "1", "2", "99", "1" * 5000]),
        "MediaUrl0": MEDIA_URLS,
        "MediaContentType0": FORM_TEXT | st.sampled_from(["image/jpeg", "audio/ogg"]),
        "MediaUrl1": MEDIA_URLS,
        "WaId": FORM_TEXT,
    },
)


async def twilio_post(twins: Twins, route: str, path: str, params: dict[str, str]) -> int:
    params = {key: value.replace("DOUBLE", twins.twilio_url) for key, value in params.items()}
    content, headers = signed(f"{PUBLIC}{path}", {"AccountSid": ACCOUNT, "To": SENDER, **params})
    return await twins.each(route, lambda t: t.client.post(path, content=content, headers=headers))


@fuzz(150)
@given(params=WHATSAPP, extra=st.dictionaries(FORM_TEXT, FORM_TEXT, max_size=3))
async def test_whatsapp_messages(twins: Twins, params: dict[str, str], extra: dict[str, str]) -> None:
    status = await twilio_post(twins, "POST /twilio/whatsapp", "/twilio/whatsapp", {**extra, **params})
    assert status in (200, 400, 413)


STATUSES = st.fixed_dictionaries(
    {},
    optional={
        "MessageSid": st.integers(1, 50).map(lambda n: f"SM{n:032d}") | FORM_TEXT,
        "MessageStatus": st.sampled_from(["sent", "delivered", "read", "failed", "undelivered"]) | FORM_TEXT,
        "ErrorCode": st.sampled_from(["63016", "63024", "21610", "1" * 5000, "٣"]) | FORM_TEXT,
        "ErrorMessage": FORM_TEXT,
    },
)


@fuzz(80)
@given(params=STATUSES)
async def test_whatsapp_status_callbacks(twins: Twins, params: dict[str, str]) -> None:
    assert await twilio_post(twins, "POST /twilio/status", "/twilio/status", params) in (204, 400, 413)


# --- the console -----------------------------------------------------------------------------

FIELDS = ["text", "office", "reason", "outcome", "derived_to", "status", "note", "current", "password"]
FIELDS += ["repeat", "name", "email", "role", "active", "on_call", "hours", "title"]
API = [
    ("GET", "/api/conversations/{id}"),
    ("GET", "/api/conversations"),
    *(("POST", f"/api/conversations/{{id}}/{a}") for a in ("take", "reply", "note", "transfer", "close")),
    ("POST", "/api/conversations/{id}/report-status"),
    ("POST", "/api/quick-replies"),
    ("DELETE", "/api/quick-replies/{id}"),
    ("POST", "/api/officers"),
    ("POST", "/api/officers/{other}/reset-password"),
    ("PUT", "/api/officers/{id}/active"),
    ("PUT", "/api/officers/{id}/on-call"),
    ("PUT", "/api/office/hours"),
    ("POST", "/api/account/link-code"),
    ("GET", "/api/figures"),
]
IDS = st.one_of(
    st.just(1),
    st.just(1),
    st.sampled_from([2, 2**31 - 1, 2**31, 99_999_999_999, 10**30]),
    st.integers(0, 2**40),
)
API_BODIES = st.one_of(
    st.fixed_dictionaries({}, optional={field: TEXT for field in FIELDS}),
    st.dictionaries(st.sampled_from(FIELDS), TEXT | JSON, max_size=4),
    JSON,
)


def path_of(template: str, id_: int) -> str:
    # Never another password for the signed-in admin (officer 1): the session would end.
    return template.format(id=id_, other=id_ if id_ != 1 else 2)


@fuzz(180)
@given(
    endpoint=st.sampled_from(API),
    id_=IDS,
    data=API_BODIES,
    query=st.dictionaries(st.sampled_from(["view", "office", "weeks"]), st.text(max_size=20), max_size=2),
)
async def test_console_api(twins: Twins, endpoint: tuple[str, str], id_: int, data: Any, query: dict) -> None:
    method, template = endpoint

    async def call(twin: Twin) -> httpx.Response:
        request = body(data)
        request["headers"]["X-CSRF-Token"] = twin.csrf
        return await twin.client.request(method, path_of(template, id_), params=query, **request)

    assert await twins.each("/api/*", call) in (200, 400, 403, 404, 413)


FORMS = [
    *(f"/console/conversations/{{id}}/{a}" for a in ("take", "reply", "note", "transfer", "close")),
    "/console/conversations/{id}/report-status",
    "/console/conversations/{id}/nada",
    "/console/admin/officers",
    "/console/admin/officers/{other}/reset",
    "/console/admin/officers/{id}/active",
    "/console/admin/officers/{id}/on-call",
    "/console/admin/hours",
    "/console/admin/quick-replies",
    "/console/admin/quick-replies/{id}/delete",
    "/console/account/link-code",
    "/console/account/unlink",
]
HOURS = [f"{edge}-{day}-{n}" for edge in ("opens", "closes") for day in range(7) for n in range(2)]
FORM_FIELDS = st.one_of(
    st.fixed_dictionaries({}, optional={field: FORM_TEXT for field in FIELDS + HOURS}),
    st.dictionaries(st.sampled_from(FIELDS + HOURS) | FORM_TEXT, FORM_TEXT, max_size=6),
)


@fuzz(120)
@given(path=st.sampled_from(FORMS), id_=IDS, fields=FORM_FIELDS, with_csrf=st.booleans() | st.just(True))
async def test_console_forms(twins: Twins, path: str, id_: int, fields: dict, with_csrf: bool) -> None:
    async def submit(twin: Twin) -> httpx.Response:
        form = {**fields, **({"csrf": twin.csrf} if with_csrf else {})}
        return await twin.client.post(path_of(path, id_), data=form)

    assert await twins.each("console forms", submit) in (200, 303, 400, 403, 404, 413)


@fuzz(15)
@given(fields=st.dictionaries(st.sampled_from(["email", "password"]) | FORM_TEXT, FORM_TEXT, max_size=3))
async def test_console_sign_in(twins: Twins, fields: dict[str, str]) -> None:
    async def submit(twin: Twin) -> httpx.Response:
        return await twin.anonymous.post("/console/login", data={**fields, "csrf": twin.anonymous_csrf})

    assert await twins.each("POST /console/login", submit) in (401, 413, 429)


@fuzz(15)
@given(
    fields=st.dictionaries(st.sampled_from(["current", "password", "repeat"]), FORM_TEXT, max_size=3),
    with_csrf=st.booleans(),
)
async def test_console_password(twins: Twins, fields: dict[str, str], with_csrf: bool) -> None:
    async def submit(twin: Twin) -> httpx.Response:
        form = {**fields, **({"csrf": twin.csrf} if with_csrf else {})}
        return await twin.client.post("/console/password", data=form)

    assert await twins.each("POST /console/password", submit) in (400, 403, 413)
