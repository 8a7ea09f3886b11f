r"""Regular expressions over normalised text: the lexicons' and the situation rules' patterns."""

from __future__ import annotations

import re


def compile_patterns(patterns: list[str], where: str) -> re.Pattern[str]:
    r"""One alternation of `patterns`, to search in " " + normalised text.

    Normalised text is words of [a-z0-9] between single spaces, so a leading \b is the same
    as a leading space; written as a space, every alternative starts with the same literal
    and the regex engine jumps from word to word instead of trying every letter (twice as fast).
    """
    anchored = [" " + p[2:] if p.startswith(r"\b") else p for p in patterns]
    try:
        return re.compile("|".join(f"(?:{p})" for p in anchored))
    except re.error as exc:
        raise ValueError(f"{where}: bad pattern ({exc})") from exc
