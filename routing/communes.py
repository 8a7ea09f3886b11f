"""Which commune a neighbor's text names: directly, misspelled, or through a town or sector.

Every name of the directory (official names, other spellings, typed abbreviations,
localities and sectors) is indexed under its `sound_key`, so "doñigue", "Donihue" and
"DOÑIHUE" are one exact lookup. Names left over are compared with rapidfuzz, but only
where a typo is likely a place (after "en", "de", "vivo en"…) or the word is long, so that
ordinary words ("tengo", "cuñado") never become communes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from routing.directory import Directory
from routing.normalize import Normalizer, sound_key


class Context(IntEnum):
    """How strongly the words before a name say "this is a place"."""

    BARE = 1  # "coya tiene problemas"
    PLACE = 2  # "en coya", "de coya", "sector coya"
    RESIDENCE = 3  # "vivo en coya", "soy de coya", "comuna de coya", or the name alone


_PLACE_WORDS = frozenset(
    "en de del desde hasta hacia a al para por sector comuna villa poblacion pasaje "
    "localidad pueblo cerca frente camino".split()
)
_RESIDENCE_VERBS = frozenset(
    "vivo vive vivimos viven soy somos resido reside residimos estoy estamos queda quedo "
    "llegue cambie mude mudamos".split()
)
_AREA_NOUNS = frozenset("comuna sector localidad pueblo villorrio".split())
# Words a neighbor may put around a name when answering "¿En qué comuna vive?".
_FILLER = frozenset(
    "hola buenas buenos dias tardes noches si no se yo vivo en de soy comuna sector po "
    "gracias por favor aca aqui ahi mi es".split()
)
_ARTICLES = frozenset("el la los las".split())
_GENERIC_PLACE_WORDS = frozenset("poblacion villa sector centro".split())
_MAX_WORDS = 5
_MAX_SIGNATURE_WORDS = 3
_CLAUSE_BREAK = re.compile(r"[,.;:!?¿¡()\n]+")
_MAX_FILLER = 4
_FUZZY_MIN_LETTERS = 5
_LONG_NAME = 8
_VERY_LONG_NAME = 11


@dataclass(frozen=True, slots=True)
class _Alias:
    communes: frozenset[str]
    sector: str | None
    needs: Context
    is_commune_name: bool


@dataclass(frozen=True, slots=True)
class CommuneGuess:
    """The commune a text names, or the candidates when it could be several."""

    commune: str | None = None
    candidates: tuple[str, ...] = ()
    sector: str | None = None

    @property
    def is_ambiguous(self) -> bool:
        return self.commune is None and bool(self.candidates)


@dataclass(frozen=True, slots=True)
class _Found:
    alias: _Alias
    strength: Context


class CommuneResolver:
    """Finds commune names in free text; built once from the directory."""

    def __init__(self, directory: Directory, normalize: Normalizer) -> None:
        self._normalize = normalize
        self._index = _build_index(directory, normalize)
        self._first_words = frozenset(key.split()[0] for key in self._index)
        # Fuzzy candidates by (number of words, first letter): typos rarely hit the first letter.
        self._fuzzy_choices: dict[tuple[int, str], list[str]] = {}
        for key in self._index:
            self._fuzzy_choices.setdefault((len(key.split()), key[0]), []).append(key)
        self._fuzzy = lru_cache(maxsize=16384)(self._fuzzy_uncached)

    def resolve(self, text: str, words: list[str] | None = None) -> CommuneGuess:
        """The commune named in `text` (any Spanish a neighbor writes).

        `words` is `text` already normalised, when the caller has it. A short clause that
        is only a name reads as a place, as neighbors sign a message: "…no hay luz, manzanal".
        """
        if words is None:
            words = self._normalize(text).split()
        guess = self.resolve_words(words)
        if guess.commune or guess.candidates:
            return guess
        for clause in reversed(_CLAUSE_BREAK.split(text)):
            clause_words = self._normalize(clause).split()
            if 0 < len(clause_words) <= _MAX_SIGNATURE_WORDS and len(clause_words) < len(words):
                signed = self.resolve_words(clause_words)
                if signed.commune or signed.candidates:
                    return signed
        return guess

    def resolve_words(self, words: list[str]) -> CommuneGuess:
        """Like `resolve`, for text already normalised and split into words."""
        keys = [sound_key(w) for w in words]
        found = list(self._scan(words, keys))
        return _decide(found)

    def _scan(self, words: list[str], keys: list[str]) -> Iterable[_Found]:
        i = 0
        while i < len(keys):
            hit = self._exact_at(words, keys, i) or self._fuzzy_at(words, keys, i)
            if hit is None:
                i += 1
                continue
            found, length = hit
            if found.alias.communes:  # an empty set marks a phrase that names no place
                yield found
            i += length

    def _exact_at(self, words: list[str], keys: list[str], i: int) -> tuple[_Found, int] | None:
        if keys[i] not in self._first_words:
            return None
        for n in range(min(_MAX_WORDS, len(keys) - i), 0, -1):
            alias = self._index.get(" ".join(keys[i : i + n]))
            if alias is not None:
                strength = _context(words, i, n)
                if strength >= alias.needs:
                    return _Found(alias, strength), n
        return None

    def _fuzzy_at(self, words: list[str], keys: list[str], i: int) -> tuple[_Found, int] | None:
        if words[i] in _FILLER:
            return None
        for n in range(min(3, len(keys) - i), 0, -1):
            if words[i + n - 1] in _FILLER:
                continue
            query = " ".join(keys[i : i + n])
            letters = len(query) - n + 1
            if letters < _FUZZY_MIN_LETTERS:
                continue
            strength = _context(words, i, n)
            max_distance = _max_typos(letters, strength)
            if not max_distance:
                continue
            key = self._fuzzy(query, n, max_distance)
            if key is not None and strength >= self._index[key].needs:
                return _Found(self._index[key], strength), n
        return None

    def _fuzzy_uncached(self, query: str, words: int, max_distance: int) -> str | None:
        choices = self._fuzzy_choices.get((words, query[0]), ())
        best = process.extractOne(query, choices, scorer=Levenshtein.distance, score_cutoff=max_distance)
        return best[0] if best else None


def _max_typos(letters: int, strength: Context) -> int:
    """How many typos a name may carry: only long names, or any name where a place is expected."""
    typos = 1 if strength >= Context.PLACE or letters >= _LONG_NAME else 0
    if letters >= _VERY_LONG_NAME:
        typos += 1
    return typos


def _context(words: list[str], i: int, n: int) -> Context:
    """How strongly the words around words[i:i+n] mark it as a place."""
    before = words[max(0, i - 2) : i]
    if len(words) - n <= _MAX_FILLER and all(w in _FILLER for w in words[:i] + words[i + n :]):
        return Context.RESIDENCE
    if before and before[-1] in _AREA_NOUNS:
        return Context.RESIDENCE
    if (
        len(before) == 2
        and before[1] in {"en", "de", "del"}
        and (before[0] in _RESIDENCE_VERBS or before[0] in _AREA_NOUNS)
    ):
        return Context.RESIDENCE
    if before and before[-1] in _PLACE_WORDS:
        return Context.PLACE
    if len(before) == 2 and before[1] in _ARTICLES and before[0] == "en":
        return Context.PLACE  # "en el manzanal", but not "debajo de los nogales"
    return Context.BARE


def _decide(found: list[_Found]) -> CommuneGuess:
    if not found:
        return CommuneGuess()
    single = [f for f in found if len(f.alias.communes) == 1]
    pool = single or found
    best = max(f.strength for f in pool)
    top = [f for f in pool if f.strength == best]
    communes: set[str] = set().union(*(f.alias.communes for f in top))
    if not single:
        shared = frozenset.intersection(*(f.alias.communes for f in found))
        if shared:
            communes = set(shared)
    if len(communes) == 1:
        (commune,) = communes
        sector = next((f.alias.sector for f in found if f.alias.sector and commune in f.alias.communes), None)
        return CommuneGuess(commune=commune, sector=sector)
    return CommuneGuess(candidates=tuple(sorted(communes)))


def _build_index(directory: Directory, normalize: Normalizer) -> dict[str, _Alias]:
    """Every name of every commune, keyed by the sound keys of its words."""

    def key_of(name: str) -> str:
        return " ".join(sound_key(w) for w in normalize(name).split())

    def needs(name: str) -> Context:
        if name in directory.residence_words:
            return Context.RESIDENCE
        if name in directory.place_words:
            return Context.PLACE
        return Context.BARE

    names: dict[str, list[_Alias]] = {}

    def add(
        name: str,
        commune: str,
        *,
        sector: str | None = None,
        is_commune_name: bool = False,
        context: Context | None = None,
    ) -> None:
        alias = _Alias(frozenset({commune}), sector, context or needs(name), is_commune_name)
        names.setdefault(key_of(name), []).append(alias)

    for commune in directory.communes.values():
        for name in (commune.name, *commune.also_written, *commune.typed_as):
            add(name, commune.name, is_commune_name=True)
        own_name = normalize(commune.name)
        own_suffix = " de " + own_name
        for locality in (*commune.localities, *commune.office_by_sector):
            sector = locality if locality in commune.office_by_sector else None
            add(locality, commune.name, sector=sector)
            plain = normalize(locality)
            if plain.endswith(own_suffix):
                short = plain[: -len(own_suffix)]
                if short not in _GENERIC_PLACE_WORDS:
                    add(
                        short,
                        commune.name,
                        context=needs(locality) if locality in directory.place_words else None,
                    )
                for other in (*commune.also_written, *commune.typed_as):
                    add(f"{short} de {normalize(other)}", commune.name)  # "la estrella de quinta"
            if sector and plain.startswith(own_name + " "):
                # "Rancagua Oriente" is also "rgua oriente" and "oriente de rancagua"
                part = plain[len(own_name) + 1 :]
                for other in (own_name, *map(normalize, (*commune.also_written, *commune.typed_as))):
                    add(f"{other} {part}", commune.name, sector=sector)
                    add(f"{part} de {other}", commune.name, sector=sector)
            if plain.startswith("poblacion ") and len(plain.split()) > 1:
                add(plain.removeprefix("poblacion "), commune.name, sector=sector, context=Context.PLACE)

    for phrase in directory.not_places:
        names[key_of(phrase)] = [_Alias(frozenset(), None, Context.BARE, is_commune_name=True)]

    index: dict[str, _Alias] = {}
    for key, aliases in names.items():
        official = [a for a in aliases if a.is_commune_name]
        chosen = official or aliases
        index[key] = _Alias(
            communes=frozenset().union(*(a.communes for a in chosen)),
            sector=next((a.sector for a in chosen if a.sector), None),
            needs=max(a.needs for a in chosen),
            is_commune_name=bool(official),
        )
    return index
