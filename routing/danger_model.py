"""How likely a message is an emergency, and of which kind: the danger model.

The third layer of emergency detection, independent of the phrase lexicons: a linear model
(`linear.py`) that reads the words of a message and the families of its situation
(`situations.py`), weighed as learnt from labelled messages. Its file also carries the two
thresholds: above the first it raises the alarm, between the two it asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from routing.linear import LinearModel, text_features
from routing.situations import Situation

NONE = "none"  # the class of a message that is no emergency


def features(plain: str, situation: Situation) -> set[str]:
    """What the model reads of normalised text `plain` and its situation."""
    found = text_features(plain.split())
    found.update(f"f:{name}" for name in situation.families)
    found.update(f"d:{name}" for name in situation.defusers)
    return found


@dataclass(frozen=True, slots=True)
class Prediction:
    """The probability of each class; `danger` is that of any emergency."""

    probabilities: dict[str, float]

    @property
    def danger(self) -> float:
        return 1.0 - self.probabilities[NONE]

    @property
    def kind(self) -> str:
        """The most likely kind of emergency (whatever the chance of one at all)."""
        return max((k for k in self.probabilities if k != NONE), key=self.probabilities.__getitem__)


class DangerModel:
    """The linear model and its thresholds, from `danger_model.json`."""

    def __init__(self, model: LinearModel, emergency_threshold: float, ask_threshold: float) -> None:
        if NONE not in model.classes:
            raise ValueError(f"danger model: no '{NONE}' class")
        self.model = model
        self.emergency_threshold = emergency_threshold
        self.ask_threshold = ask_threshold

    @classmethod
    def from_file(cls, path: Path) -> DangerModel:
        model = LinearModel.from_file(path)
        thresholds = model.extra["thresholds"]
        return cls(model, thresholds["emergency"], thresholds["ask"])

    def predict(self, found: set[str]) -> Prediction:
        return Prediction(self.model.probabilities(found))
