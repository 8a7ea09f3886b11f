"""The officer's side in a real browser: a neighbor writes in the web chat, an office admin
signs in, keeps a quick reply, sees the conversation arrive without reloading, takes it,
sees the neighbor's next message arrive, answers with the quick reply, and closes it."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from routing.directory import load_directory
from routing.understand import DEFAULT_DATA_DIR
from tests.browser.test_webchat_browser import (
    browser,  # noqa: F401 (the shared fixture)
    csp_violations,
    watch_csp,
)
from tests.doubles.server import Served

OFFICES = sorted(load_directory(DEFAULT_DATA_DIR).offices)

GREETING = "Buenas tardes, le saluda la Oficina de Integración Comunitaria. ¿En qué le podemos ayudar?"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    with Served(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'console.db'}") as served:
        yield served


def one_time_password(server: Served, office: str = "rengo", role: str = "admin") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "officers", "add", "--office", office, "--name", "Sargento Pérez",
         "--email", "perez@carabineros.cl", "--role", role],
        cwd=server.workdir, env=server.env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return re.search(r"un solo uso.*: (\S+)", done.stdout).group(1)


def signed_in_officer(browser: Browser, server: Served, password: str) -> Page:  # noqa: F811
    """An officer's desktop page, signed in past the first-time password, on the empty queue."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="es-CL")
    watch_csp(context)
    officer = context.new_page()
    officer.goto(f"{server.url}/console")
    officer.fill("input[name=email]", "perez@carabineros.cl")
    officer.fill("input[name=password]", password)
    officer.click("button[type=submit]")
    officer.fill("input[name=password]", "mi-clave-nueva-1")
    officer.fill("input[name=repeat]", "mi-clave-nueva-1")
    officer.click("main button[type=submit]")
    expect(officer.locator("#empty")).to_be_visible()
    return officer


def neighbor_writes(browser: Browser, server: Served, text: str) -> Page:  # noqa: F811
    """A neighbor's phone: the web chat opened (it greets and asks the commune), then `text` sent."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-CL")
    watch_csp(context)
    neighbor = context.new_page()
    neighbor.goto(f"{server.url}/chat")
    expect(neighbor.locator(".bubble.out .text").filter(has_text="¿En qué comuna vive?")).to_be_visible(
        timeout=15_000
    )
    neighbor.locator("#text").fill(text)
    neighbor.locator("#text").press("Enter")
    return neighbor


def fits_the_screen(page: Page) -> bool:
    """No sideways scrolling: the page is usable on a phone."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_neighbor_writes_an_officer_answers(browser: Browser, server: Served) -> None:  # noqa: F811
    officer = signed_in_officer(browser, server, one_time_password(server))

    officer.click("text=Administración")
    officer.fill("input[name=title]", "Saludo")
    officer.fill("textarea[name=text]", GREETING)
    officer.click("text=Agregar respuesta rápida")
    expect(officer.locator(".quick-list")).to_contain_text("Saludo")
    officer.click("nav.menu >> text=Fila")
    expect(officer.locator("#empty")).to_be_visible()

    neighbor = neighbor_writes(browser, server, "vivo en rengo, quiero hablar con alguien")
    expect(neighbor.locator(".bubble.out .text").filter(has_text="quedó en la fila")).to_be_visible(
        timeout=15_000
    )

    # The officer's page was not reloaded: it shows the new conversation by itself.
    arrived = officer.locator("#queue .conversation")
    expect(arrived).to_have_count(1, timeout=15_000)
    expect(arrived.first).to_contain_text("Rengo")
    expect(officer.locator("nav.views")).to_contain_text("En espera (1)")
    arrived.first.locator("a").click()
    expect(officer.locator("main")).to_contain_text("vivo en rengo, quiero hablar con alguien")
    officer.click("form[action$='/take'] button")
    expect(officer.locator("main")).to_contain_text("Estado: abierta")

    # What the neighbor writes next appears in the open conversation, without reloading.
    neighbor.locator("#text").fill("¿Me escucha alguien? 🙏")
    neighbor.locator("#text").press("Enter")
    expect(officer.locator("#transcript")).to_contain_text("¿Me escucha alguien? 🙏", timeout=15_000)

    officer.click("button.quick:has-text('Saludo')")
    expect(officer.locator("form[action$='/reply'] textarea")).to_have_value(GREETING)
    officer.click("form[action$='/reply'] button[type=submit]")
    expect(neighbor.locator(".bubble.out .text").filter(has_text="le saluda la Oficina")).to_be_visible(
        timeout=15_000
    )
    expect(officer.locator("#transcript .delivery").last).to_contain_text("enviado", timeout=15_000)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-CL")
    phone.add_cookies(officer.context.cookies())
    on_phone = phone.new_page()
    for path in (
        officer.url,
        f"{server.url}/console",
        f"{server.url}/console/admin",
        f"{server.url}/console/figures",
    ):
        on_phone.goto(path)
        expect(on_phone.locator("main")).to_be_visible()
        assert fits_the_screen(on_phone), path

    officer.select_option("select[name=outcome]", "informed")
    officer.click("form[action$='/close'] button")
    expect(officer.locator("main")).to_contain_text("Estado: cerrada")
    expect(
        neighbor.locator(".bubble.out .text").filter(has_text="¿Se resolvió lo que necesitaba?")
    ).to_be_visible(timeout=15_000)
    expect(neighbor.locator(".options button")).to_have_count(2)
    assert csp_violations(officer) == csp_violations(neighbor) == []  # the policy refused nothing


def test_an_emergency_before_any_commune_reaches_an_officer_of_any_office(
    browser: Browser,  # noqa: F811
    server: Served,
) -> None:
    office = random.choice(OFFICES)
    officer = signed_in_officer(browser, server, one_time_password(server, office=office, role="officer"))

    neighbor = neighbor_writes(browser, server, "me vienen siguiendo dos tipos en moto, tengo mucho miedo")
    expect(neighbor.locator(".bubble.out .text").filter(has_text="📞 133")).to_be_visible(timeout=15_000)
    expect(neighbor.locator(".bubble.out .text").filter(has_text="todas las oficinas")).to_be_visible()
    # The neighbor says nothing more. The officer's queue shows it by itself, urgent, first.
    arrived = officer.locator("#queue .conversation")
    expect(arrived).to_have_count(1, timeout=15_000)
    expect(arrived.first).to_contain_text("URGENTE")
    expect(arrived.first).to_contain_text("SIN COMUNA")
    arrived.first.locator("a").click()
    expect(officer.locator("main")).to_contain_text("me vienen siguiendo dos tipos en moto")
