"""The advice library (`data/tips.toml`): short prevention advice per topic."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Tip:
    """The advice on one topic."""

    id: str
    title: str
    text: str


class Tips:
    """Topics in menu order, looked up by id."""

    def __init__(self, tips: list[Tip]) -> None:
        self.all = tips
        self._by_id = {tip.id: tip for tip in tips}

    @classmethod
    def from_dir(cls, data_dir: Path) -> Tips:
        with (data_dir / "tips.toml").open("rb") as f:
            topics = tomllib.load(f)["topic"]
        return cls([Tip(t["id"], t["title"], t["text"].strip()) for t in topics])

    def get(self, topic_id: str | None) -> Tip | None:
        return self._by_id.get(topic_id or "")
