"""Accuracy of `understand` on the labelled first messages; `python -m tests.routing.evaluate`.

Prints, for every labelled set beside this file (or the files named), emergency recall and
precision, how often a calm message is asked "¿Está en peligro ahora?", which layer caught
each emergency, intent, topic, commune and office accuracy, and with `-v` every message that
was misunderstood. A question asked of an emergency counts as caught; asked of a calm message
it is no false alarm, but it is counted.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from routing.understand import Understander

LABELLED = Path(__file__).with_name("first_messages.jsonl")
# A Tuesday at 11:00: every helpline open, so answers do not depend on when this runs.
AT = datetime(2026, 11, 24, 11, 0, tzinfo=ZoneInfo("America/Santiago"))


@dataclass
class Figures:
    messages: int = 0
    emergencies: int = 0
    emergencies_found: int = 0
    emergencies_asked: int = 0
    emergency_kind_right: int = 0
    alarms: int = 0
    false_alarms: int = 0
    calm_asked: int = 0
    caught_by: Counter[str] = field(default_factory=Counter)
    intent_right: int = 0
    topic_labelled: int = 0
    topic_right: int = 0
    commune_right: int = 0
    office_labelled: int = 0
    office_right: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def emergency_recall(self) -> float:
        return self.emergencies_found / self.emergencies

    @property
    def emergency_kind_accuracy(self) -> float:
        return self.emergency_kind_right / self.emergencies

    @property
    def emergency_precision(self) -> float:
        return (self.alarms - self.false_alarms) / self.alarms if self.alarms else 1.0

    @property
    def ask_rate(self) -> float:
        """How often a message that is no emergency was asked "¿Está en peligro ahora?"."""
        calm = self.messages - self.emergencies
        return self.calm_asked / calm if calm else 0.0

    @property
    def intent_accuracy(self) -> float:
        return self.intent_right / self.messages

    @property
    def topic_accuracy(self) -> float:
        return self.topic_right / self.topic_labelled

    @property
    def commune_accuracy(self) -> float:
        return self.commune_right / self.messages

    @property
    def office_accuracy(self) -> float:
        return self.office_right / self.office_labelled if self.office_labelled else 1.0

    def summary(self) -> str:
        layers = ", ".join(f"{name} {count}" for name, count in sorted(self.caught_by.items()))
        return "\n".join(
            [
                f"messages                 {self.messages}",
                f"emergency recall         {self.emergency_recall:7.1%}"
                f"  ({self.emergencies_found}/{self.emergencies}, {self.emergencies_asked} of them asked)",
                f"caught by                {layers}",
                f"emergency kind accuracy  {self.emergency_kind_accuracy:7.1%}",
                f"emergency precision      {self.emergency_precision:7.1%}"
                f"  ({self.false_alarms} false alarms of {self.alarms})",
                f"calm messages asked      {self.ask_rate:7.1%}  ({self.calm_asked})",
                f"intent accuracy          {self.intent_accuracy:7.1%}",
                f"topic accuracy           {self.topic_accuracy:7.1%}  (of {self.topic_labelled} labelled)",
                f"commune accuracy         {self.commune_accuracy:7.1%}",
                f"office accuracy          {self.office_accuracy:7.1%}"
                f"  (of {self.office_labelled} with a sector)",
            ]
        )


def load_labelled(path: Path = LABELLED) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(understander: Understander, rows: list[dict]) -> Figures:
    figures = Figures()
    for row in rows:
        got = understander.understand(row["text"], at=AT)
        danger = understander.assess_danger(row["text"], at=AT)
        caught = got.emergency or got.possible_emergency
        kind = caught.kind if caught else None
        figures.messages += 1
        wrong = []
        if row["emergency"]:
            figures.emergencies += 1
            figures.emergencies_found += kind is not None
            figures.emergencies_asked += got.possible_emergency is not None
            figures.emergency_kind_right += kind == row["emergency"]
            figures.caught_by.update(
                "+".join(danger.alarms or danger.doubts) for _ in range(kind is not None)
            )
        elif got.possible_emergency:
            figures.calm_asked += 1
        if got.emergency:
            figures.alarms += 1
            figures.false_alarms += row["emergency"] is None
        if kind != row["emergency"] and (row["emergency"] or got.emergency):
            asked = " (asked)" if got.possible_emergency else ""
            wrong.append(f"emergency {kind}{asked} != {row['emergency']}")
        if got.intent == row["intent"]:
            figures.intent_right += 1
        else:
            wrong.append(f"intent {got.intent} != {row['intent']}")
        if row.get("topic"):
            figures.topic_labelled += 1
            figures.topic_right += got.topic == row["topic"]
        expected_candidates = tuple(sorted(row.get("candidates", ())))
        if got.commune == row["commune"] and tuple(sorted(got.commune_candidates)) == expected_candidates:
            figures.commune_right += 1
        else:
            wrong.append(
                f"commune {got.commune} {got.commune_candidates} != {row['commune']} {expected_candidates}"
            )
        if "office_id" in row:
            figures.office_labelled += 1
            if got.office_id == row["office_id"]:
                figures.office_right += 1
            else:
                wrong.append(f"office {got.office_id} != {row['office_id']}")
        if wrong:
            figures.misses.append(f"{row['text']!r}: {'; '.join(wrong)}")
    return figures


def main() -> None:
    named = [Path(a) for a in sys.argv[1:] if a != "-v"]
    understander = Understander.load()
    for path in named or sorted(LABELLED.parent.glob("first_messages*.jsonl")):
        figures = evaluate(understander, load_labelled(path))
        print(f"== {path.name}")
        print(figures.summary())
        if "-v" in sys.argv:
            print("\n".join(["", *figures.misses, ""]))


if __name__ == "__main__":
    main()
