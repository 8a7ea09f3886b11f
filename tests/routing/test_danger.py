"""The three layers of emergency detection, and how their verdicts make an alarm or a question.

The composition is tested with stand-in models whose verdict is known; the real data with
phrasings written for this test, found in none of the labelled sets.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from routing.danger import LEXICON, MODEL, SITUATION, DangerDetector
from routing.danger_model import NONE, DangerModel
from routing.emergencies import KINDS
from routing.linear import LinearModel
from routing.situations import SituationReader
from routing.understand import DEFAULT_DATA_DIR, Understander

CLASSES = (NONE, *KINDS)


def model_saying(word: str, kind: str, logit: float) -> DangerModel:
    """A model that sees danger of `kind` only in `word`, as strongly as `logit` makes it."""
    weights = {f"w:{word}": [logit if c == kind else 0.0 for c in CLASSES]}
    return DangerModel(LinearModel(CLASSES, [0.0, *(-5.0 for _ in KINDS)], weights), 0.9, 0.4)


@pytest.fixture(scope="module")
def parts(understander: Understander) -> tuple:
    return understander.danger.lexicon, understander.danger.situations, understander.normalize


def assess(parts: tuple, model: DangerModel, text: str, at: datetime):
    lexicon, situations, normalize = parts
    return DangerDetector(lexicon, situations, model).assess(normalize(text), at)


def test_the_lexicon_alone_raises_the_alarm(parts, tuesday_morning) -> None:
    got = assess(parts, model_saying("zzz", "danger", 0), "auxilio", tuesday_morning)
    assert got.emergency.kind == "danger" and got.alarms == (LEXICON,) and got.confidence == 1.0


def test_the_situation_alone_raises_the_alarm(parts, tuesday_morning) -> None:
    text = "unos tipos estan desvalijando la bodega del almacen"
    lexicon, _situations, normalize = parts
    assert lexicon.detect(normalize(text), tuesday_morning) is None
    got = assess(parts, model_saying("zzz", "danger", 0), text, tuesday_morning)
    assert got.emergency.kind == "danger" and got.alarms == (SITUATION,)


def test_the_model_alone_raises_the_alarm_or_asks(parts, tuesday_morning) -> None:
    sure = assess(parts, model_saying("parpadea", "medical", 9), "la luz parpadea", tuesday_morning)
    assert sure.emergency.kind == "medical" and sure.alarms == (MODEL,) and sure.confidence > 0.9
    unsure = assess(parts, model_saying("parpadea", "medical", 5.0), "la luz parpadea", tuesday_morning)
    assert unsure.emergency is None and unsure.ask.kind == "medical" and unsure.doubts == (MODEL,)
    calm = assess(parts, model_saying("parpadea", "medical", 1), "la luz parpadea", tuesday_morning)
    assert (calm.emergency, calm.ask) == (None, None)


def test_an_ask_level_rule_asks(parts, tuesday_morning) -> None:
    got = assess(parts, model_saying("zzz", "danger", 0), "shh escribo escondida", tuesday_morning)
    assert got.emergency is None and got.ask.kind == "danger" and got.doubts == (SITUATION,)


def test_two_layers_in_doubt_make_an_alarm(parts, tuesday_morning) -> None:
    text = "shh escribo escondida"
    got = assess(parts, model_saying("escondida", "danger", 5.0), text, tuesday_morning)
    assert got.emergency.kind == "danger" and set(got.alarms) == {SITUATION, MODEL}


def test_a_suicide_phrase_told_as_past_is_asked_not_asserted(parts, tuesday_morning) -> None:
    text = "mi tio se suicido hace dos anos, quisiera una charla en el liceo"
    got = assess(parts, model_saying("zzz", "suicide", 0), text, tuesday_morning)
    assert got.emergency is None and got.ask.kind == "suicide" and got.doubts == (LEXICON,)
    assert got.ask.lines[0] == "*4141"  # the helpline is given all the same


def test_happening_now_puts_133_first(understander: Understander, tuesday_morning) -> None:
    got = understander.assess_danger("mi marido me esta pegando ahora, estoy en la pieza", at=tuesday_morning)
    assert got.emergency.kind == "violence_women" and got.emergency.lines[:2] == ("133", "1455")


def test_when_layers_name_different_kinds_the_model_picks(parts, tuesday_morning) -> None:
    text = "mi papa se atoro, esta con la cara morada y no puede respirar"
    lexicon, situations, normalize = parts
    assert lexicon.detect(normalize(text), tuesday_morning).kind != situations.read(normalize(text)).emergency
    for kind in ("medical", "violence_women"):
        got = assess(parts, model_saying("atoro", kind, 3), text, tuesday_morning)
        assert got.emergency.kind == kind


def test_a_rule_naming_an_unknown_family_is_refused(tmp_path: Path, understander: Understander) -> None:
    broken = tmp_path / "situations.toml"
    broken.write_text('[families]\nnow = ["ahora"]\n\n[[rules]]\nkind = "danger"\nall = ["nothing"]\n')
    with pytest.raises(ValueError, match="rule 1: unknown families"):
        SituationReader.from_file(broken, understander.danger.lexicon.defusers)


def test_the_model_file_is_whole() -> None:
    model = DangerModel.from_file(DEFAULT_DATA_DIR / "danger_model.json")
    assert model.model.classes == CLASSES
    assert 0 < model.ask_threshold < model.emergency_threshold < 1


# Written for this test: none of these is in a labelled set or a lexicon as it stands.
NEW_PHRASINGS = [
    ("oiga estan tratando de abrir el porton de la bodega con un napoleon", "danger"),
    ("dos locos con cuchilla le quitaron la mochila a un cabro en el paradero recien", "danger"),
    ("ya tengo la soga amarrada en el arbol del patio", "suicide"),
    ("me tome como veinte clonazepam hace un rato", "suicide"),
    (
        "mi conviviente me dejo encerrada y se llevo las llaves, dice que cuando vuelva me mata",
        "violence_women",
    ),
    ("el tio de mi sobrina le manda fotos desnudo por whatsapp, ella tiene 11", "child"),
    ("sale humo negro del techo del colegio", "fire"),
    ("mi mama se desvanecio en la cocina y no la puedo despertar", "medical"),
]


@pytest.mark.parametrize(("text", "kind"), NEW_PHRASINGS)
def test_new_phrasings_are_caught(understander: Understander, tuesday_morning, text: str, kind: str) -> None:
    got = understander.understand(text, at=tuesday_morning)
    caught = got.emergency or got.possible_emergency
    assert caught is not None, text
