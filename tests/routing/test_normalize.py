from pathlib import Path

import pytest

from routing.normalize import Normalizer, sound_key, strip_accents
from routing.understand import DEFAULT_DATA_DIR


@pytest.fixture(scope="module")
def normalize() -> Normalizer:
    return Normalizer.from_file(DEFAULT_DATA_DIR / "spelling.toml")


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("Holaaa, vivo en MACHALIIII!!", "hola vivo en machali"),
        ("q hago xfa", "que hago por favor"),
        ("Doñihue", "donihue"),
        ("ayudaaa me estan rovando", "ayuda me estan robando"),
        ("no kiero seguir vivieendo", "no quiero seguir viviendo"),
        ("llamas, perro, acción", "llamas perro accion"),
        ("🙏🙏🙏", ""),
        ("", ""),
    ],
)
def test_normalize_reduces_chat_writing_to_one_form(
    normalize: Normalizer, typed: str, normalised: str
) -> None:
    assert normalize(typed) == normalised


def test_strip_accents_keeps_letters() -> None:
    assert strip_accents("Marchigüe Requínoa ÑUÑOA") == "marchigue requinoa nunoa"


@pytest.mark.parametrize(
    "spellings",
    [
        ("donihue", "donigue"),
        ("chimbarongo", "chimbarrongo"),
        ("llallauquen", "yayauquen"),
        ("zuniga", "suniga"),
        ("vicente", "bisente"),
        ("marchihue", "marchigue"),
    ],
)
def test_sound_key_makes_sound_alike_spellings_equal(spellings: tuple[str, ...]) -> None:
    assert len({sound_key(s) for s in spellings}) == 1


def test_sound_key_keeps_different_names_apart() -> None:
    assert sound_key("rengo") != sound_key("tengo")
    assert sound_key("peumo") != sound_key("pero")


def test_shorthand_file_is_read(tmp_path: Path) -> None:
    spelling = tmp_path / "spelling.toml"
    spelling.write_text('[words]\nwn = "hombre"\n', encoding="utf-8")
    assert Normalizer.from_file(spelling)("oye wn") == "oye hombre"


def test_emoji_that_stand_for_words_are_read_as_them(understander) -> None:
    assert understander.normalize("tengo 💊💊 aca 😂") == "tengo pastillas pastillas aca jaja"
