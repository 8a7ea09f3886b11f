"""The web chat in a real browser: Playwright driving Debian's Chromium against `vecinos serve`."""

from __future__ import annotations

import json
import os
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect, sync_playwright

from handlers.texts import Texts
from routing.understand import DEFAULT_DATA_DIR
from tests.doubles.server import Served

CHROMIUM = Path("/usr/bin/chromium")
TEXTS = Texts.from_dir(DEFAULT_DATA_DIR)
# Chromium's own network chatter is refused by this machine's closed network: turn it off.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Kept by the page itself: what the Content-Security-Policy refused to load or run.
WATCH_CSP = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def watch_csp(context: BrowserContext) -> None:
    """Every page of `context` records what the policy refused (the list must stay empty)."""
    context.add_init_script(WATCH_CSP)


def csp_violations(page: Page) -> list[str]:
    return page.evaluate("window.cspViolations")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium (see .ci/run)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    with Served(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'browser.db'}") as served:
        yield served


@pytest.fixture
def page(browser: Browser, server: Served) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-CL")
    watch_csp(context)
    page = context.new_page()
    page.goto(f"{server.url}/chat")
    yield page
    assert csp_violations(page) == []
    context.close()


def office_says(page: Page, text: str) -> None:
    expect(page.locator(".bubble.out .text").filter(has_text=text).last).to_be_visible(timeout=15_000)


def test_from_hola_to_a_queued_conversation(page: Page, tmp_path: Path) -> None:
    # The page greets by itself on a first visit; the line answers who it is.
    expect(page.locator(".bubble.in .text").first).to_have_text("Hola", timeout=15_000)
    office_says(page, "Le escribe Vecinos")
    office_says(page, "¿En qué comuna vive?")
    expect(page.locator("#location")).to_be_visible()

    page.locator("#text").fill("vivo en coya")
    page.locator("#text").press("Enter")
    office_says(page, "Su oficina es la Oficina de Integración Comunitaria Machalí")
    options = page.locator(".options button")
    expect(options).to_have_count(5)
    expect(options.first).to_contain_text("Conversar con la oficina")

    options.first.click()
    office_says(page, "Su conversación quedó en la fila de la Oficina de Integración Comunitaria Machalí")
    office_says(page, "Usted es el siguiente en la fila.")
    expect(page.locator(".options button")).to_have_count(0)  # nothing to choose now: the office answers

    page.screenshot(path=tmp_path / "queued.png", full_page=True)
    assert re.search(r"\bUsted\b", page.locator("#messages").inner_text())  # the neighbor's side is labelled


def test_the_conversation_survives_a_reload(page: Page) -> None:
    office_says(page, "¿En qué comuna vive?")
    page.locator("#text").fill("rengo")
    page.locator("#send").click()
    office_says(page, "Oficina de Integración Comunitaria Rengo")
    page.reload()
    office_says(page, "Oficina de Integración Comunitaria Rengo")
    expect(page.locator(".bubble.in .text").filter(has_text="Hola")).to_have_count(1)  # no second greeting


def png(width: int = 4, height: int = 4) -> bytes:
    """A small real PNG (green), made here so that no file is needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x0b\x5a\x3a" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def test_location_and_photo_work_under_the_security_policy(browser: Browser, server: Served) -> None:
    """The policy allows what the chat needs: the location (Permissions-Policy) and a photo's preview."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="es-CL",
        permissions=["geolocation"],
        geolocation={"latitude": -34.4087, "longitude": -70.8582},  # Rengo's square
    )
    watch_csp(context)
    page = context.new_page()
    page.goto(f"{server.url}/chat")
    office_says(page, "¿En qué comuna vive?")
    page.locator("#location").click()
    office_says(page, "Oficina de Integración Comunitaria Rengo")

    page.locator("#photo").set_input_files({"name": "foto.png", "mimeType": "image/png", "buffer": png()})
    thumb = page.locator("img.thumb").last
    expect(thumb).to_be_visible(timeout=15_000)
    assert thumb.get_attribute("src").startswith("blob:")
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 4", arg=thumb.element_handle())
    assert csp_violations(page) == []
    context.close()


def test_a_rate_limited_message_is_explained_kept_and_sent_after_retry_after(page: Page) -> None:
    office_says(page, "¿En qué comuna vive?")
    limited = TEXTS("webchat.too_many_messages")
    posts: list[str] = []

    def once_over_the_limit(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        posts.append(route.request.post_data_json["client_id"])
        if len(posts) == 1:  # the server's answer over a limit, as WebChatQuotas gives it
            body = json.dumps({"error": limited})
            route.fulfill(
                status=429, headers={"Retry-After": "2"}, content_type="application/json", body=body
            )
        else:
            route.continue_()

    page.route("**/chat/api/messages*", once_over_the_limit)
    page.locator("#text").fill("rengo")
    page.locator("#text").press("Enter")
    expect(page.locator("#error")).to_have_text(limited)
    expect(page.locator(".bubble.in.pending .text").filter(has_text="rengo")).to_be_visible()  # kept
    office_says(page, "Oficina de Integración Comunitaria Rengo")  # sent once Retry-After passed
    expect(page.locator("#error")).to_be_hidden()
    assert len(posts) == 2 and posts[0] == posts[1]  # the same message, not a copy


def test_a_message_too_big_to_read_is_explained_and_not_retried(page: Page) -> None:
    office_says(page, "¿En qué comuna vive?")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    huge = "🚨" * 10_000  # 40 KB of JSON: over the web chat's body limit
    page.locator("#text").fill(huge)
    page.locator("#text").press("Enter")
    expect(page.locator("#error")).to_have_text(TEXTS("http.too_large"))
    expect(page.locator(".bubble.in.pending")).to_have_count(0)
    expect(page.locator("#text")).to_have_value(huge)  # given back to edit
    page.locator("#text").fill("rengo")  # and the chat goes on
    page.locator("#text").press("Enter")
    office_says(page, "Oficina de Integración Comunitaria Rengo")
    assert len([url for url in posts if url.endswith("/chat/api/messages")]) == 2  # no retry of the big one
