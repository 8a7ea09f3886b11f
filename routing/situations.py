"""Reading a message as a situation: which families of words it holds, and which rules fire.

The second, independent layer of emergency detection (the phrase lexicons of
`emergencies.py` are the first). A family is a set of words of one meaning (a weapon, a
child, a means of self-harm, "happening now"); a rule is a kind of emergency and the
families that must meet in one message. So "están forzando el portón del vecino" is danger
because a crime and the present progressive meet, whatever the exact words. Families and
rules live in `situations.toml`; the families are also features of the danger model.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from routing.emergencies import KINDS
from routing.patterns import compile_patterns

Level = Literal["emergency", "ask"]


@dataclass(frozen=True, slots=True)
class Rule:
    """A kind of emergency, read when all of `all` and one of `any` (if any) are present."""

    kind: str
    all: frozenset[str]
    any: frozenset[str]
    defused_by: frozenset[str]
    level: Level


@dataclass(frozen=True, slots=True)
class Situation:
    """What a message holds: its families, its defusers, and the rules that fired."""

    families: frozenset[str]
    defusers: frozenset[str]
    emergency: str | None  # the kind of the first emergency-level rule that fired
    ask: str | None  # the kind of the first ask-level rule that fired, if none asserted

    @property
    def happening_now(self) -> bool:
        return bool(self.families & {"now", "progressive", "plea", "whisper"})


class SituationReader:
    """Finds the families and defusers in normalised text and applies the rules."""

    def __init__(
        self,
        families: Mapping[str, re.Pattern[str]],
        defusers: Mapping[str, re.Pattern[str]],
        rules: list[Rule],
    ) -> None:
        self._families = dict(families)
        self._defusers = dict(defusers)
        self._rules = rules

    @classmethod
    def from_file(cls, path: Path, defusers: Mapping[str, re.Pattern[str]]) -> SituationReader:
        """Load `situations.toml`; `defusers` are emergencies.toml's, joined by its own."""
        with path.open("rb") as f:
            data = tomllib.load(f)
        families = {
            name: compile_patterns(patterns, f"{path.name} [families] {name}")
            for name, patterns in data["families"].items()
        }
        # A family may also defuse (hypothetical questions, talk of a charla).
        known_defusers = {**defusers, **{name: families[name] for name in families}}
        rules = []
        for number, spec in enumerate(data["rules"], start=1):
            where = f"{path.name} rule {number}"
            rule = Rule(
                kind=spec["kind"],
                all=frozenset(spec["all"]),
                any=frozenset(spec.get("any", ())),
                defused_by=frozenset(spec.get("defused_by", ())),
                level=spec.get("level", "emergency"),
            )
            if rule.kind not in KINDS:
                raise ValueError(f"{where}: unknown kind '{rule.kind}'")
            if rule.level not in ("emergency", "ask"):
                raise ValueError(f"{where}: level must be 'emergency' or 'ask'")
            unknown = (rule.all | rule.any) - families.keys() or rule.defused_by - known_defusers.keys()
            if unknown:
                raise ValueError(f"{where}: unknown families or defusers {sorted(unknown)}")
            rules.append(rule)
        used = {name for rule in rules for name in rule.defused_by}
        return cls(families, {name: known_defusers[name] for name in used}, rules)

    @property
    def family_names(self) -> tuple[str, ...]:
        return tuple(self._families)

    def read(self, text: str, *, right_now: bool = False) -> Situation:
        """The situation in normalised `text`; `right_now` (beyond doubt) overrides every defuser."""
        text = " " + text
        families = frozenset(name for name, pattern in self._families.items() if pattern.search(text))
        defusers = frozenset(
            name
            for name, pattern in self._defusers.items()
            if (name in families) or (name not in self._families and pattern.search(text))
        )
        emergency = ask = None
        for rule in self._rules:
            if not rule.all <= families or (rule.any and not rule.any & families):
                continue
            if not right_now and rule.defused_by & defusers:
                continue
            if rule.level == "emergency" and emergency is None:
                emergency = rule.kind
            elif rule.level == "ask" and ask is None:
                ask = rule.kind
        return Situation(families, defusers, emergency, None if emergency else ask)
