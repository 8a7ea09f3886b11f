"""The web chat in a real browser: Playwright driving Debian's Chromium against `vecinos serve`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.doubles.server import Served

CHROMIUM = Path("/usr/bin/chromium")
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
    page = context.new_page()
    page.goto(f"{server.url}/chat")
    yield page
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
