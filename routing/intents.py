"""What a neighbor wants: talk, advice (with topic), report (with category), and the rest.

Scores come from weighted lexicons in `intents.toml`, so an office can teach the line how
its neighbors write without touching code. Ties go to the intent that costs a neighbor
least to get wrong: an unsubscribe is never mistaken for a report.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from routing.lexicon import Lexicon

INTENTS = (
    "talk", "advice", "report", "office_info", "subscribe", "unsubscribe", "activity", "greeting", "unknown",
)  # fmt: skip
ACTIVITIES = ("charla", "visita", "reunion")  # what an "activity" asks for
# Earlier wins a tie.
_PRIORITY = ("unsubscribe", "subscribe", "office_info", "activity", "advice", "talk", "report", "unknown")
# In an emergency a neighbor talks, reports or asks what to do: never "unsubscribe" because
# they wrote "ya no quiero seguir viviendo".
_IN_AN_EMERGENCY = ("advice", "talk", "report")
_MIN_SCORE = 2.0
_MIN_TOPIC_SCORE = 2.0
_SHORT_MESSAGE_WORDS = 8
_EMERGENCY_REPORT_WEIGHT = 3.0


@dataclass(frozen=True, slots=True)
class IntentGuess:
    """The intent and its topic.

    The topic is the advice topic, the report category ("other" if none fits), or the
    activity (charla, visita or reunion); None for the other intents.
    """

    intent: str
    topic: str | None = None


class IntentClassifier:
    """Lexicon-based intent, topic and category recognition."""

    def __init__(
        self,
        intents: Lexicon,
        topics: Lexicon,
        categories: Lexicon,
        activities: Lexicon,
        category_weight: float,
    ) -> None:
        self._intents = intents
        self._topics = topics
        self._categories = categories
        self._activities = activities
        self._category_weight = category_weight

    @classmethod
    def from_file(cls, path: Path, normalize: Callable[[str], str]) -> IntentClassifier:
        with path.open("rb") as f:
            data = tomllib.load(f)
        for table, allowed in (("intents", INTENTS), ("activities", ACTIVITIES)):
            unknown = set(data[table]) - set(allowed)
            if unknown:
                raise ValueError(f"{path.name}: unknown {table} {sorted(unknown)}")
        categories = dict(data["categories"])
        category_weight = float(categories.pop("category_weight", 1))
        return cls(
            Lexicon(data["intents"], normalize),
            Lexicon(data["topics"], normalize),
            Lexicon(categories, normalize),
            Lexicon(data["activities"], normalize),
            category_weight,
        )

    def classify(
        self,
        words: list[str],
        *,
        emergency: str | None = None,
        possible_emergency: str | None = None,
        names_place: bool = False,
    ) -> IntentGuess:
        """Classify normalised `words`, knowing the emergency they reveal, or may reveal.

        Suicide risk is always "talk": whoever is at risk, someone should talk with them. A
        possible emergency only decides what the words leave open (a greeting, nothing clear).
        """
        if emergency == "suicide":
            return IntentGuess("talk")
        if possible_emergency and emergency is None:
            guess = self.classify(words, names_place=names_place)
            if guess.intent not in ("greeting", "unknown"):
                return guess
            return self.classify(words, emergency=possible_emergency, names_place=names_place)
        scores = self._intents.score(words)
        category = _best(self._categories.score(words))
        if category:
            scores["report"] += self._category_weight
        if emergency:  # someone in danger reports it, unless they plainly ask for something else
            scores["report"] += _EMERGENCY_REPORT_WEIGHT
        candidates = _IN_AN_EMERGENCY if emergency else _PRIORITY
        ranked = sorted(candidates, key=lambda i: (-scores.get(i, 0.0), _PRIORITY.index(i)))
        intent = ranked[0] if scores.get(ranked[0], 0.0) >= _MIN_SCORE else None
        if intent is None:
            intent = self._fallback(words, emergency, names_place, bool(scores.get("greeting")))
        if intent == "advice":
            return IntentGuess(intent, _best(self._topics.score(words)))
        if intent == "activity":
            activities = self._activities.score(words)
            return IntentGuess(intent, max(ACTIVITIES, key=lambda a: activities.get(a, 0.0)))
        if intent == "report":
            return IntentGuess(intent, category or "other")
        return IntentGuess(intent)

    def advice_topic(self, words: list[str]) -> str | None:
        """The advice topic `words` are about, whatever the intent."""
        return _best(self._topics.score(words))

    def report_category(self, words: list[str]) -> str | None:
        """The report category `words` are about, whatever the intent."""
        return _best(self._categories.score(words))

    def _fallback(self, words: list[str], emergency: str | None, names_place: bool, greets: bool) -> str:
        """The intent of a message that asks for nothing in particular.

        An emergency is a report; a message that greets, or only names a place, is a greeting
        ("hola, soy de Rengo"); a longer one that names a place without greeting tells of
        something there: a report.
        """
        if emergency:
            return "report"
        if names_place and not greets and len(words) > _SHORT_MESSAGE_WORDS:
            return "report"
        if greets or names_place:
            return "greeting"
        return "unknown"


def _best(scores: dict[str, float]) -> str | None:
    if not scores:
        return None
    label = max(scores, key=scores.__getitem__)
    return label if scores[label] >= _MIN_TOPIC_SCORE else None
