"""Accuracy of `understand` on the labelled first messages; `python -m tests.routing.evaluate`.

Prints, for every labelled set beside this file, emergency recall and precision, intent,
topic, commune and office accuracy, and with `-v` every message that was misunderstood.
"""

from __future__ import annotations

import json
import sys
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
    emergency_kind_right: int = 0
    alarms: int = 0
    false_alarms: int = 0
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
        return (self.alarms - self.false_alarms) / self.alarms

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
        return self.office_right / self.office_labelled

    def summary(self) -> str:
        return "\n".join(
            [
                f"messages                 {self.messages}",
                f"emergency recall         {self.emergency_recall:7.1%}"
                f"  ({self.emergencies_found}/{self.emergencies})",
                f"emergency kind accuracy  {self.emergency_kind_accuracy:7.1%}",
                f"emergency precision      {self.emergency_precision:7.1%}"
                f"  ({self.false_alarms} false alarms of {self.alarms})",
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
        kind = got.emergency.kind if got.emergency else None
        figures.messages += 1
        wrong = []
        if row["emergency"]:
            figures.emergencies += 1
            figures.emergencies_found += kind is not None
            figures.emergency_kind_right += kind == row["emergency"]
        if kind:
            figures.alarms += 1
            figures.false_alarms += row["emergency"] is None
        if kind != row["emergency"]:
            wrong.append(f"emergency {kind} != {row['emergency']}")
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
    for path in sorted(LABELLED.parent.glob("first_messages*.jsonl")):
        figures = evaluate(Understander.load(), load_labelled(path))
        print(f"== {path.name}")
        print(figures.summary())
        if "-v" in sys.argv:
            print("\n".join(["", *figures.misses, ""]))


if __name__ == "__main__":
    main()
