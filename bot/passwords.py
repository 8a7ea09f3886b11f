"""What a console password must be: long, not one of the most used, not trivial, not one's name.

Officers choose their own password at the first sign-in; a guessable one would open the
neighbors' conversations to whoever tries the usual suspects. The list of the worst
passwords is a data file (`data/common_passwords.txt`) an admin can extend.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable
from pathlib import Path

MIN_PASSWORD = 12
COMMON_FILE = "common_passwords.txt"
# Runs people type as "random": the password is a piece of one of these, forwards or backwards.
_SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")
_LEET = str.maketrans("4310578", "aeiostb")  # "c4rab1neros" is "carabineros"
_WORDS = re.compile(r"[a-z0-9]+")


class PasswordPolicy:
    """Says why a new password is refused, as the key of its `console.errors` text."""

    def __init__(self, common: Iterable[str]) -> None:
        self._common = frozenset(filter(None, (_compact(word) for word in common)))

    @classmethod
    def from_dir(cls, data_dir: Path) -> PasswordPolicy:
        lines = (data_dir / COMMON_FILE).read_text(encoding="utf-8").splitlines()
        return cls(line for line in lines if not line.startswith("#"))

    def refusal(self, password: str, *, email: str, name: str) -> str | None:
        """None if `password` will do; else `password_too_short`, `_trivial`, `_common` or `_personal`."""
        if len(password) < MIN_PASSWORD:
            return "password_too_short"
        compact = _compact(password)
        if _trivial(compact):
            return "password_trivial"
        core = compact.strip(string.digits)  # "carabineros2024" is "carabineros"
        if {compact, core, core.translate(_LEET)} & self._common:
            return "password_common"
        if any(part in compact for part in _personal_parts(email, name)):
            return "password_personal"
        return None


def _compact(text: str) -> str:
    """Lower case, no accents, letters and digits only: "Contraseña 1!" is "contrasena1"."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return "".join(c for c in plain.lower() if c.isalnum())


def _trivial(compact: str) -> bool:
    """Hardly any different characters, a repeated pattern ("abcabc…"), or a run ("123456…")."""
    if len(set(compact)) < 4 or (compact + compact).find(compact, 1) < len(compact):
        return True
    for sequence in _SEQUENCES:
        cycle = sequence * (len(compact) // len(sequence) + 2)
        if compact in cycle or compact[::-1] in cycle:
            return True
    return False


def _personal_parts(email: str, name: str) -> set[str]:
    """The officer's name and email words that a guesser would try first (4 letters or more)."""
    local = email.partition("@")[0]
    words = {_compact(local), *_WORDS.findall(_plain(local)), *_WORDS.findall(_plain(name))}
    return {word for word in words if len(word) >= 4}


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
