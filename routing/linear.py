"""Small linear text models shipped as JSON: features of a message, weights, probabilities.

Multinomial logistic regression, trained by `tests/routing/train.py` on the labelled first
messages and their paraphrases; nothing is downloaded at run time. Features are words,
pairs of words, word stems and groups of four letters (so a typo still shares most of its
features with the word meant), plus whatever a caller adds. Scoring is a few hundred
dictionary lookups: tens of microseconds.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any


def text_features(words: list[str]) -> set[str]:
    """What a model reads of normalised words (each feature counts once)."""
    found = {f"w:{w}" for w in words}
    found.update(f"b:{a} {b}" for a, b in itertools.pairwise(words))
    found.update(f"s:{w[:5]}" for w in words if len(w) > 5)
    for word in words:
        padded = f"<{word}>"
        found.update(f"c:{padded[i : i + 4]}" for i in range(len(padded) - 3))
    return found


class LinearModel:
    """Weights per feature and class; `extra` holds what else the file says (thresholds…)."""

    def __init__(
        self,
        classes: tuple[str, ...],
        bias: list[float],
        weights: dict[str, list[float]],
        extra: dict[str, Any] | None = None,
    ) -> None:
        if len(bias) != len(classes) or any(len(row) != len(classes) for row in weights.values()):
            raise ValueError("model: every row needs one weight per class")
        self.classes = classes
        self.bias = bias
        self.weights = weights
        self.extra = extra or {}

    @classmethod
    def from_file(cls, path: Path) -> LinearModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        extra = {k: v for k, v in data.items() if k not in ("classes", "bias", "weights")}
        return cls(tuple(data["classes"]), data["bias"], data["weights"], extra)

    def probabilities(self, found: set[str]) -> dict[str, float]:
        weights = self.weights
        rows = [weights[f] for f in found if f in weights]  # then each class's sum, in C
        totals = map(sum, zip(*rows, strict=True)) if rows else [0.0] * len(self.bias)
        logits = [b + total for b, total in zip(self.bias, totals, strict=True)]
        top = max(logits)
        exps = [math.exp(x - top) for x in logits]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}
