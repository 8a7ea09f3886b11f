"""The labelled first messages: the figures the routing must hold.

`first_messages.jsonl` is the development set; the holdout, blind and fresh sets were written
independently of the lexicons and measured before any tuning on them (the README gives those
first figures). Every one of them has been learnt from since, so here they guard against
regressions: no emergency they hold may be missed again.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing.emergencies import KINDS
from routing.understand import DEFAULT_DATA_DIR, Understander
from tests.routing.evaluate import LABELLED, Figures, evaluate, load_labelled
from tests.routing.train import TRAINING_SETS, fingerprint, load_training

SETS = [LABELLED.with_name(f"{name}.jsonl") for name in TRAINING_SETS]


@pytest.fixture(scope="module", params=SETS, ids=lambda path: path.stem)
def labelled(request: pytest.FixtureRequest) -> Path:
    return request.param


@pytest.fixture(scope="module")
def figures(understander: Understander, labelled: Path) -> Figures:
    return evaluate(understander, load_labelled(labelled))


def test_the_set_covers_every_commune_and_emergency_kind(understander: Understander, labelled: Path) -> None:
    rows = load_labelled(labelled)
    assert len(rows) >= 250
    assert {r["commune"] for r in rows if r["commune"]} == set(understander.directory.communes)
    assert {r["emergency"] for r in rows if r["emergency"]} == set(KINDS)


def test_every_emergency_is_found_or_asked_about(figures: Figures) -> None:
    assert figures.emergency_recall == 1.0, "\n".join(m for m in figures.misses if "emergency None" in m)


def test_emergency_kinds_are_right(figures: Figures) -> None:
    assert figures.emergency_kind_accuracy >= 0.95


def test_emergency_precision(figures: Figures) -> None:
    assert figures.emergency_precision >= 0.90


def test_few_calm_messages_are_asked_if_in_danger(figures: Figures) -> None:
    assert figures.ask_rate <= 0.10


def test_intent_accuracy(figures: Figures) -> None:
    assert figures.intent_accuracy >= 0.90


def test_commune_accuracy(figures: Figures) -> None:
    assert figures.commune_accuracy >= 0.95


def test_the_shipped_danger_model_learnt_from_these_sets() -> None:
    """Change a labelled set or a paraphrase and not the model: run `python -m tests.routing.train`."""
    model = json.loads((DEFAULT_DATA_DIR / "danger_model.json").read_text(encoding="utf-8"))
    assert model["trained_on"] == fingerprint(load_training())
