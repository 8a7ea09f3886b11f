"""Emergency and crisis detection, run first on every message, and the helpline to give.

Patterns live in `emergencies.toml`, lines in `helplines.toml`. Recall comes first: a
missed emergency is the worst bug of this line; a false alarm only adds a number to the
answer. Past events and prevention questions defuse only the kinds that allow it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from routing.directory import OpeningHours, parse_hours
from routing.patterns import compile_patterns

KINDS = ("danger", "suicide", "violence_women", "child", "fire", "medical")


@dataclass(frozen=True, slots=True)
class Helpline:
    """A phone line, with its opening hours where it is not 24/7."""

    number: str
    name: str
    hours: tuple[OpeningHours, ...] = ()
    closed_on: frozenset[str] = frozenset()
    outside_hours: str | None = None
    whatsapp: str | None = None

    def is_open(self, at: datetime) -> bool:
        if not self.hours:
            return True
        if at.strftime("%m-%d") in self.closed_on:
            return False
        minute = at.hour * 60 + at.minute
        return any(h.covers(at.weekday(), minute) for h in self.hours)


@dataclass(frozen=True, slots=True)
class Emergency:
    """What kind of emergency a text reveals and the lines to give, first one first."""

    kind: str
    lines: tuple[str, ...]
    happening_now: bool = False

    @property
    def helpline(self) -> str:
        return self.lines[0]


@dataclass(frozen=True, slots=True)
class _Kind:
    name: str
    pattern: re.Pattern[str]
    defusers: tuple[re.Pattern[str], ...]


class EmergencyDetector:
    """Finds emergencies in normalised text and picks the helpline open right now."""

    def __init__(self, patterns_file: Path, helplines_file: Path) -> None:
        with patterns_file.open("rb") as f:
            data = tomllib.load(f)
        defusers = {
            name: compile_patterns(p, f"{patterns_file.name} [defusers.{name}]")
            for name, p in data["defusers"].items()
        }
        self.defusers = defusers
        self._now = compile_patterns(data["now"], f"{patterns_file.name} now")
        self._right_now = compile_patterns(data["right_now"], f"{patterns_file.name} right_now")
        self._kinds = tuple(
            _Kind(
                name,
                compile_patterns(spec["patterns"], f"{patterns_file.name} [kinds.{name}]"),
                tuple(defusers[d] for d in spec.get("defused_by", [])),
            )
            for name, spec in data["kinds"].items()
        )
        unknown = {k.name for k in self._kinds} - set(KINDS)
        if unknown:
            raise ValueError(f"{patterns_file.name}: unknown kinds {sorted(unknown)}")
        with helplines_file.open("rb") as f:
            lines = tomllib.load(f)
        self._lines = {
            entry["number"]: Helpline(
                number=entry["number"],
                name=entry["name"],
                hours=tuple(
                    parse_hours(h, f"helplines.toml, line {entry['number']}") for h in entry.get("hours", [])
                ),
                closed_on=frozenset(entry.get("closed_on", [])),
                outside_hours=entry.get("outside_hours"),
                whatsapp=entry.get("whatsapp"),
            )
            for entry in lines["line"]
        }
        first = dict(lines["first"])
        self._call_133_when_now = frozenset(first.pop("call_133_when_now", []))
        self._first = {kind: tuple(numbers) for kind, numbers in first.items()}
        for kind in KINDS:
            for number in self._first.get(kind, ()):
                if number not in self._lines:
                    raise ValueError(f"helplines.toml: '{kind}' names unknown line {number}")
            if kind not in self._first:
                raise ValueError(f"helplines.toml: no line for '{kind}'")

    def helpline(self, number: str) -> Helpline:
        return self._lines[number]

    def is_right_now(self, text: str) -> bool:
        """Whether normalised `text` says it is happening at this very moment ("ahora mismo")."""
        return self._right_now.search(" " + text) is not None

    def is_now(self, text: str) -> bool:
        return self._now.search(" " + text) is not None

    def detect(self, text: str, at: datetime) -> Emergency | None:
        """The first emergency kind in normalised `text`, with the lines open at `at`."""
        text = " " + text
        for kind in self._kinds:
            if not kind.pattern.search(text):
                continue
            if (
                kind.defusers
                and not self._right_now.search(text)
                and any(d.search(text) for d in kind.defusers)
            ):
                continue
            now = self._now.search(text) is not None
            return Emergency(kind.name, self.lines_for(kind.name, at, happening_now=now), now)
        return None

    def lines_for(self, kind: str, at: datetime, *, happening_now: bool = False) -> tuple[str, ...]:
        """The lines for `kind`, open ones first; 133 first when it is happening now."""
        lines: list[str] = []
        for number in self._first[kind]:
            line = self._lines[number]
            chosen = number if line.is_open(at) else line.outside_hours
            if chosen and chosen not in lines:
                lines.append(chosen)
        if happening_now and kind in self._call_133_when_now:
            lines = ["133", *(n for n in lines if n != "133")]
        return tuple(lines)
