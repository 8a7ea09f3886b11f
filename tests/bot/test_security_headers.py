"""Every response carries the security headers, and the pages need nothing the policy forbids."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from bot.app import ROOT, create_app
from bot.settings import Settings
from tests.bot.console.people import ready_officer

EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def policy_of(response: httpx.Response) -> dict[str, str]:
    directives = (d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";"))
    return {name: value for name, value in directives}


@pytest.mark.parametrize(
    "path",
    ["/chat", "/console/login", "/console", "/api/me", "/static/chat.js", "/healthz", "/no-such-page"],
)
async def test_every_response_carries_the_headers(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    for name, value in EXPECTED.items():
        assert response.headers[name] == value
    policy = policy_of(response)
    assert policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert "geolocation=(self)" in response.headers["permissions-policy"]
    assert "strict-transport-security" not in response.headers  # plain http: no HSTS


async def test_signed_in_pages_and_media_carry_them_too(client: httpx.AsyncClient, database_url: str) -> None:
    await ready_officer(client, database_url, "perez@carabineros.cl")
    for path in ("/console", "/console/account", "/api/me", "/api/docs"):
        response = await client.get(path)
        assert response.status_code == 200 and response.headers["x-frame-options"] == "DENY", path


async def test_https_deployments_add_hsts(database_url: str, tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        media_dir=tmp_path,
        public_url="https://vecinos.example.cl",
        secret_key="k" * 32,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://vecinos.example.cl") as client:
            response = await client.get("/console/login")
    assert response.headers["strict-transport-security"] == "max-age=31536000"


INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),  # inline code
    re.compile(r"<style\b", re.I),
    re.compile(r"\sstyle=", re.I),
    re.compile(r"\son[a-z]+=", re.I),  # onclick=…
    re.compile(r"javascript:", re.I),
    re.compile(r"https?://(?!{{)", re.I),  # nothing from another origin
]


@pytest.mark.parametrize("template", sorted((ROOT / "templates").rglob("*.html")), ids=lambda p: p.name)
def test_templates_hold_no_inline_code_or_styles(template: Path) -> None:
    """The policy forbids inline scripts and styles: a template with one would break in the browser."""
    text = template.read_text(encoding="utf-8")
    for pattern in INLINE:
        assert not pattern.search(text), f"{template.name}: {pattern.pattern}"
