"""The console's password policy: long, not common, not trivial, not one's own name or email."""

from __future__ import annotations

import httpx
import pytest

from bot.passwords import MIN_PASSWORD, PasswordPolicy
from routing.understand import DEFAULT_DATA_DIR
from tests.bot.console.people import add_officer, set_password, sign_in

EMAIL, NAME = "maria.gonzalez@carabineros.cl", "Cabo María José González"


@pytest.fixture(scope="module")
def policy() -> PasswordPolicy:
    return PasswordPolicy.from_dir(DEFAULT_DATA_DIR)


@pytest.mark.parametrize(
    ("password", "refusal"),
    [
        ("1234567890", "password_too_short"),  # the old minimum let this in
        ("x" * (MIN_PASSWORD - 1), "password_too_short"),
        ("aaaaaaaaaaaaaaaa", "password_trivial"),
        ("abcabcabcabc", "password_trivial"),
        ("!!11!!11!!11aa", "password_trivial"),
        ("123456789012", "password_trivial"),
        ("9876543210987", "password_trivial"),
        ("abcdefghijklmn", "password_trivial"),
        ("QWERTYUIOPASDF", "password_trivial"),
        ("carabineros123", "password_common"),
        ("Carabineros2024!", "password_common"),
        ("c4rab1neros1927", "password_common"),
        ("Contraseña123456", "password_common"),
        ("contrasena123456", "password_common"),
        ("chile1234567", "password_common"),
        ("Orden y Patria 2025", "password_common"),
        ("password12345678", "password_common"),
        ("1qaz2wsx3edc4rfv", "password_common"),
        ("maria.gonzalez99", "password_personal"),
        ("mariagonzalez-2025", "password_personal"),
        ("Gonzalez de Rengo", "password_personal"),
        ("la-casa-de-maría", "password_personal"),
        ("puerta verde del patio", None),
        ("mi-clave-nueva-1", None),
        ("Tres perros en Machalí", None),
    ],
)
def test_refusals(policy: PasswordPolicy, password: str, refusal: str | None) -> None:
    assert policy.refusal(password, email=EMAIL, name=NAME) == refusal


def test_the_list_holds_a_few_hundred_with_the_chilean_usual_suspects(policy: PasswordPolicy) -> None:
    lines = (DEFAULT_DATA_DIR / "common_passwords.txt").read_text(encoding="utf-8").splitlines()
    words = [line for line in lines if line and not line.startswith("#")]
    assert 300 <= len(words) == len(set(words))
    for word in ("carabineros", "chile123", "contraseña", "colocolo", "ordenypatria", "123456", "qwerty"):
        assert word in words


async def test_the_console_refuses_a_weak_password_with_the_reason(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await add_officer(database_url, "perez@carabineros.cl", name="Sargento Pérez")
    await sign_in(client, "perez@carabineros.cl")
    for password, reason in [
        ("1234567890", "muy corta"),
        ("111111111111", "muy simple"),
        ("carabineros2024", "de las más usadas"),
        ("sargento-perez-1", "su nombre ni su correo"),
    ]:
        refused = await set_password(client, password)
        assert refused.status_code == 400 and reason in refused.text, password
        assert (await client.get("/console")).headers["location"] == "/console/password"  # still to choose
    page = await client.get("/console/password")
    assert "al menos 12 caracteres" in page.text and 'minlength="12"' in page.text
    assert (await set_password(client, "tres perros en la plaza")).headers["location"] == "/console"
