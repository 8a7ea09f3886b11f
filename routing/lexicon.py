"""Weighted phrase lexicons, matched word by word over normalised text.

A lexicon maps phrases to weights under labels ("talk", "drugs"…). Phrases are stored in a
word trie, so scoring a message walks it once from each word: a few dictionary lookups per
word whatever the size of the lexicon. A word ending in * in a phrase matches any ending.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial

_MIN_PREFIX = 3


@dataclass(slots=True)
class _Node:
    exact: dict[str, _Node] = field(default_factory=dict)
    prefix: dict[str, _Node] = field(default_factory=dict)
    weights: list[tuple[str, float]] = field(default_factory=list)


class Lexicon:
    """Scores text against labelled, weighted phrases."""

    def __init__(self, phrases: Mapping[str, Mapping[str, float]], normalize: Callable[[str], str]) -> None:
        self._root = _Node()
        self.labels = tuple(phrases)
        # Most words start no phrase; the same words come again and again.
        self._first_step = lru_cache(maxsize=65536)(partial(_step, self._root))
        for label, entries in phrases.items():
            for phrase, weight in entries.items():
                words = [normalize(w.rstrip("*")) + "*" * w.endswith("*") for w in phrase.split()]
                self._add(phrase, " ".join(words).split(), label, float(weight))

    def _add(self, phrase: str, words: list[str], label: str, weight: float) -> None:
        node = self._root
        for word in words:
            if word.endswith("*"):
                stem = word[:-1]
                if len(stem) < _MIN_PREFIX:
                    raise ValueError(f"'{phrase}': a stem before * needs {_MIN_PREFIX} letters")
                node = node.prefix.setdefault(stem, _Node())
            else:
                node = node.exact.setdefault(word, _Node())
        node.weights.append((label, weight))

    def score(self, words: list[str]) -> dict[str, float]:
        """Total weight per label of every phrase found in `words` (overlaps count)."""
        totals: dict[str, float] = defaultdict(float)
        first_step = self._first_step
        for start in range(len(words)):
            frontier = first_step(words[start])
            position = start + 1
            while frontier:
                for node in frontier:
                    for label, weight in node.weights:
                        totals[label] += weight
                if position == len(words):
                    break
                word = words[position]
                position += 1
                frontier = tuple(child for node in frontier for child in _step(node, word))
        return totals


def _step(node: _Node, word: str) -> tuple[_Node, ...]:
    found = []
    exact = node.exact.get(word)
    if exact is not None:
        found.append(exact)
    if node.prefix:
        for end in range(_MIN_PREFIX, len(word) + 1):
            stem = node.prefix.get(word[:end])
            if stem is not None:
                found.append(stem)
    return tuple(found)
