"""Train the danger model (`data/danger_model.json`): `python -m tests.routing.train [--cv [SET…]]`.

A multinomial logistic regression (`routing/linear.py`) trained by full-batch gradient
descent (Adam) with numpy, deterministic: the same data gives the same weights. It learns
from the labelled first messages beside this file (`TRAINING_SETS`) and their paraphrases
(`training/`), never from a set kept for a first, blind measurement.

`--cv` measures the method honestly before anything is written: for each held-out set, a
model is trained without it (and without its paraphrases), and the whole detector, the
three layers together, is measured on it. The thresholds written with the model were
chosen on those held-out figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routing.danger import DangerDetector, load_rules, read_situation
from routing.danger_model import NONE, DangerModel, features
from routing.emergencies import KINDS, EmergencyDetector
from routing.linear import LinearModel
from routing.normalize import Normalizer
from routing.situations import SituationReader
from routing.understand import DEFAULT_DATA_DIR
from tests.routing.evaluate import AT, load_labelled

HERE = Path(__file__).parent
MODEL_FILE = DEFAULT_DATA_DIR / "danger_model.json"
CLASSES = (NONE, *KINDS)
# The labelled sets the model learns from. A fresh set is added here only after its first
# measurement is recorded (README, "How a message is understood").
TRAINING_SETS = (
    "first_messages", "first_messages_holdout", "first_messages_blind", "first_messages_fresh1",
    "first_messages_fresh2", "first_messages_fresh3", "first_messages_fresh4", "first_messages_final",
)  # fmt: skip
PARAPHRASES = ("paraphrased_emergencies", "paraphrased_calm")

MIN_COUNT = 2  # a feature seen in fewer messages is noise
L2 = 3e-3
STEPS = 400
LEARNING_RATE = 0.05
EMERGENCY_WEIGHT = 2.0  # a missed emergency costs more than a needless question
THRESHOLDS = {"emergency": 0.9, "ask": 0.4}
SMALLEST_WEIGHT = 2e-3  # lighter weights change nothing and only make the file bigger


@dataclass(frozen=True, slots=True)
class Layers:
    """What the model reads through: the normaliser, the lexicons and the situation rules."""

    normalize: Normalizer
    lexicon: EmergencyDetector
    situations: SituationReader

    @classmethod
    def load(cls, data_dir: Path = DEFAULT_DATA_DIR) -> Layers:
        return cls(Normalizer.from_file(data_dir / "spelling.toml"), *load_rules(data_dir))

    def features(self, text: str) -> set[str]:
        plain = self.normalize(text)
        return features(plain, read_situation(self.lexicon, self.situations, plain))

    def detector(self, model: LinearModel, emergency: float, ask: float) -> DangerDetector:
        return DangerDetector(self.lexicon, self.situations, DangerModel(model, emergency, ask))


def load_training(sets: Iterable[str] = TRAINING_SETS, *, without: str | None = None) -> list[dict]:
    """The training rows; `without` leaves out a set and its paraphrases."""
    rows = []
    for name in sets:
        if name != without:
            rows += [dict(r, source=name) for r in load_labelled(HERE / f"{name}.jsonl")]
    for name in PARAPHRASES:
        rows += [
            r
            for r in load_labelled(HERE / "training" / f"{name}.jsonl")
            if without is None or without not in r.get("source", "").split("+")
        ]
    return rows


def train(layers: Layers, rows: list[dict]) -> LinearModel:
    """Fit the model on `rows`; features seen in fewer than MIN_COUNT messages are left out."""
    found = [layers.features(row["text"]) for row in rows]
    counts = Counter(f for message in found for f in message)
    vocabulary = sorted(f for f, n in counts.items() if n >= MIN_COUNT)
    index = {f: i for i, f in enumerate(vocabulary)}
    pairs = [(row, index[f]) for row, message in enumerate(found) for f in sorted(message) if f in index]
    rows_at = np.array([r for r, _ in pairs])
    columns = np.array([c for _, c in pairs])
    classes = len(CLASSES)
    labels = np.array([CLASSES.index(row["emergency"] or NONE) for row in rows])
    sample_weight = np.where(labels == 0, 1.0, EMERGENCY_WEIGHT)
    sample_weight /= sample_weight.sum()
    onehot = np.eye(classes)[labels]
    weights = np.zeros((len(vocabulary), classes))
    bias = np.zeros(classes)
    moments = [np.zeros_like(weights), np.zeros_like(weights), np.zeros_like(bias), np.zeros_like(bias)]
    for step in range(1, STEPS + 1):
        gathered = weights[columns]  # the sparse product X @ W, a class at a time
        logits = np.stack(
            [np.bincount(rows_at, gathered[:, c], minlength=len(rows)) for c in range(classes)], 1
        )
        logits += bias
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        error = (probabilities - onehot) * sample_weight[:, None]
        spread = error[rows_at]  # and X.T @ error
        grad_w = np.stack(
            [np.bincount(columns, spread[:, c], minlength=len(vocabulary)) for c in range(classes)], 1
        )
        grad_w += L2 * weights
        grad_b = error.sum(axis=0)
        for value, grad, first, second in ((weights, grad_w, 0, 1), (bias, grad_b, 2, 3)):
            moments[first] = 0.9 * moments[first] + 0.1 * grad
            moments[second] = 0.999 * moments[second] + 0.001 * grad**2
            corrected = moments[first] / (1 - 0.9**step)
            scale = np.sqrt(moments[second] / (1 - 0.999**step)) + 1e-8
            value -= LEARNING_RATE * corrected / scale
    kept = {
        f: [round(float(w), 3) for w in weights[i]]
        for f, i in index.items()
        if np.abs(weights[i]).max() >= SMALLEST_WEIGHT
    }
    return LinearModel(CLASSES, [round(float(b), 3) for b in bias], kept)


# What the model reads through: changing them changes its features.
READ_THROUGH = ("spelling.toml", "emergencies.toml", "situations.toml")


def fingerprint(rows: list[dict], data_dir: Path = DEFAULT_DATA_DIR) -> str:
    """What the model was trained on: a test fails when that changed and the model did not."""
    digest = hashlib.sha256()
    for name in READ_THROUGH:
        digest.update((data_dir / name).read_bytes())
    for row in rows:
        digest.update(f"{row['text']}\t{row['emergency']}\n".encode())
    return digest.hexdigest()[:16]


def write(model: LinearModel, rows: list[dict]) -> None:
    data = {
        "classes": list(model.classes),
        "bias": model.bias,
        "thresholds": THRESHOLDS,
        "trained_on": fingerprint(rows),
        "weights": dict(sorted(model.weights.items())),
    }
    MODEL_FILE.write_text(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    print(
        f"{MODEL_FILE.name}: {len(model.weights)} features, trained on {len(rows)} messages", file=sys.stderr
    )


def figures(detector: DangerDetector, normalize: Normalizer, rows: list[dict]) -> str:
    caught = alarms = false_alarms = asked = 0
    for row in rows:
        got = detector.assess(normalize(row["text"]), AT)
        if row["emergency"]:
            caught += got.emergency is not None or got.ask is not None
        else:
            false_alarms += got.emergency is not None
            asked += got.ask is not None
        alarms += got.emergency is not None
    emergencies = sum(1 for r in rows if r["emergency"])
    precision = (alarms - false_alarms) / alarms if alarms else 1.0
    return (
        f"recall {caught / emergencies:6.1%}  precision {precision:6.1%}"
        f"  asked {asked / (len(rows) - emergencies):5.1%} of the rest"
    )


def cross_validate(layers: Layers, held_out: str) -> None:
    """Train without `held_out` and its paraphrases; measure the detector on it at a few thresholds."""
    model = train(layers, load_training(without=held_out))
    rows = load_labelled(HERE / f"{held_out}.jsonl")
    for emergency, ask in ((0.8, 0.35), (0.9, 0.4), (0.9, 0.5), (0.95, 0.5)):
        found = figures(layers.detector(model, emergency, ask), layers.normalize, rows)
        print(f"{held_out:28} emergency≥{emergency:.2f} ask≥{ask:.2f}  {found}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", nargs="*", metavar="SET", help="measure on held-out sets; write nothing")
    args = parser.parse_args()
    layers = Layers.load()
    if args.cv is not None:
        for held_out in args.cv or TRAINING_SETS:
            cross_validate(layers, held_out)
        return
    rows = load_training()
    write(train(layers, rows), rows)


if __name__ == "__main__":
    main()
