import json

import pytest

from routing.understand import Understander, UnknownCommune

SPEC_KEYS = {"intent", "emergency", "commune", "office_id", "topic", "ask_danger", "confidence"}


def test_json_has_exactly_the_spec_keys(understander: Understander) -> None:
    result = understander.understand("hay gente vendiendo droga en la plaza de rengo").as_json()
    assert set(result) == SPEC_KEYS
    assert result == {
        "intent": "report",
        "emergency": None,
        "commune": "Rengo",
        "office_id": "rengo",
        "topic": "drugs",
        "ask_danger": False,
        "confidence": result["confidence"],
    }
    assert 0 <= result["confidence"] < 0.5
    json.dumps(result)


def test_emergency_json(understander: Understander, tuesday_morning) -> None:
    result = understander.understand("no aguanto mas, quiero desaparecer", at=tuesday_morning).as_json()
    assert result["emergency"] == {"kind": "suicide", "helpline": "*4141"}


def test_rancagua_without_a_sector_has_no_office(understander: Understander) -> None:
    result = understander.understand("vivo en rancagua")
    assert (result.commune, result.office_id) == ("Rancagua", None)
    assert understander.understand("vivo en rancagua oriente").office_id == "rancagua-oriente"


def test_known_commune_is_used_when_the_text_names_none(understander: Understander) -> None:
    assert understander.understand("hola", commune="sn fdo").office_id == "san-fernando"
    # a neighbor of Malloa reporting a problem in Rengo
    assert understander.understand("venden droga en la plaza de rengo", commune="Malloa").commune == "Rengo"


def test_unknown_commune_is_refused(understander: Understander) -> None:
    with pytest.raises(UnknownCommune):
        understander.official_commune("Talca")


def test_ambiguous_place_gives_candidates(understander: Understander) -> None:
    result = understander.understand("vivo en rosario")
    assert result.commune is None
    assert result.commune_candidates == ("Peumo", "Rengo")


@pytest.mark.parametrize("text", ["", " ", "🙏🙏🙏", "x" * 100_000, "ñ" * 5000, "\x00\n\t"])
def test_odd_input_is_understood_without_error(understander: Understander, text: str) -> None:
    assert understander.understand(text).intent in {"unknown", "greeting"}
