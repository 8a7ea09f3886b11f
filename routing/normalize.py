"""Text normalisation shared by every matcher: how neighbors type, reduced to one form.

Neighbors write without accents, in lower case, with stretched letters ("holaaa"), chat
shorthand ("q", "xfa") and emoji that say what words would (💊, 🔫). Every lexicon entry and
every message goes through the same `normalize`, so a data file can be written in plain
Spanish and still match.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import lru_cache
from pathlib import Path

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_STRETCHED = re.compile(r"([a-z])\1{2,}")
# Doubles that matter to meaning (llamar, perro, acción); every other double is a typo here.
_DOUBLED_BY_TYPO = re.compile(r"([abdefghijkmnopqstuvwxyz])\1")


def strip_accents(text: str) -> str:
    """Lower-case `text` and drop accents and diaeresis ("Doñihue" -> "donihue")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class Normalizer:
    """Turns raw text into space-separated lower-case words, shorthand expanded."""

    def __init__(self, shorthand: dict[str, str], emoji: dict[str, str] | None = None) -> None:
        self._shorthand = shorthand
        self._emoji = {ord(e): f" {w} " for e, w in (emoji or {}).items()}

    @classmethod
    def from_file(cls, path: Path) -> Normalizer:
        with path.open("rb") as f:
            data = tomllib.load(f)
        emoji = data.get("emoji", {})
        if any(len(e) != 1 for e in emoji):
            raise ValueError(f"{path.name} [emoji]: each key must be one emoji (one character)")
        words = data.get("words", {})
        return cls(
            {strip_accents(k): strip_accents(v) for k, v in words.items()},
            {e: strip_accents(w) for e, w in emoji.items()},
        )

    def __call__(self, text: str) -> str:
        plain = _NOT_WORD.sub(" ", strip_accents(text.translate(self._emoji) if self._emoji else text))
        plain = _DOUBLED_BY_TYPO.sub(r"\1", _STRETCHED.sub(r"\1", plain))
        shorthand = self._shorthand
        return " ".join(shorthand.get(word, word) for word in plain.split())


_LL = re.compile(r"ll")
_ANY_DOUBLE = re.compile(r"([a-z])\1+")
_HUE = re.compile(r"hu(?=[aeio])")
_SOFT_C = re.compile(r"c(?=[ei])")
_SILENT_H = re.compile(r"(?<!c)h")
_SOUNDS_ALIKE = str.maketrans({"v": "b", "z": "s", "k": "c"})


@lru_cache(maxsize=65536)
def sound_key(word: str) -> str:
    """A spelling-blind key for place names: "Doñigue", "donihue" and "DOÑIHUE" agree.

    Chilean Spanish does not tell b/v, s/z/soft c, ll/y apart, drops the h and says
    "hue" as "gue"; neighbors spell names the way they sound.
    """
    key = _LL.sub("y", word)
    key = _ANY_DOUBLE.sub(r"\1", key)
    key = _HUE.sub("gu", key)
    key = _SOFT_C.sub("s", key)
    key = _SILENT_H.sub("", key)
    return key.translate(_SOUNDS_ALIKE)
