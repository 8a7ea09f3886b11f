"""How a message is understood: the composition behind `vecinos explain`.

One `Understander` is built at start from the data folder and shared; `understand` is pure
CPU work of tens of microseconds (no I/O), so it runs inline on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from routing.communes import CommuneGuess, CommuneResolver
from routing.danger import Assessment, DangerDetector, load_rules
from routing.danger_model import DangerModel
from routing.directory import Directory, load_directory
from routing.emergencies import Emergency, EmergencyDetector
from routing.geo import CommuneMap
from routing.intents import IntentClassifier
from routing.normalize import Normalizer

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True, slots=True)
class Understanding:
    """What a message means: SPEC §8's JSON, plus what the conversation needs to ask."""

    intent: str
    emergency: Emergency | None = None
    commune: str | None = None
    office_id: str | None = None
    topic: str | None = None
    commune_candidates: tuple[str, ...] = ()
    sector: str | None = None
    # Signs of danger too weak to assert: the neighbor is given these lines and asked
    # "¿Está en peligro ahora?" (never set together with `emergency`).
    possible_emergency: Emergency | None = None
    confidence: float = 0.0  # how sure the routing is that this is an emergency, 0–1

    def as_json(self) -> dict[str, Any]:
        """The object `vecinos explain` prints (SPEC §8, with its optional keys)."""
        emergency = self.emergency and {"kind": self.emergency.kind, "helpline": self.emergency.helpline}
        return {
            "intent": self.intent,
            "emergency": emergency,
            "commune": self.commune,
            "office_id": self.office_id,
            "topic": self.topic,
            "ask_danger": self.possible_emergency is not None,
            "confidence": round(self.confidence, 2),
        }


class UnknownCommune(ValueError):
    """A commune name given by a caller matches no commune of the region."""


class Understander:
    """Emergencies first, then commune, office and intent, from one normalisation."""

    def __init__(
        self,
        directory: Directory,
        normalize: Normalizer,
        communes: CommuneResolver,
        commune_map: CommuneMap,
        intents: IntentClassifier,
        danger: DangerDetector,
        timezone: ZoneInfo,
    ) -> None:
        self.directory = directory
        self.normalize = normalize
        self.communes = communes
        self.commune_map = commune_map
        self.intents = intents
        self.danger = danger
        self.emergencies: EmergencyDetector = danger.lexicon  # the helplines, their hours and names
        self.timezone = timezone

    @classmethod
    def load(cls, data_dir: Path = DEFAULT_DATA_DIR, timezone: str = "America/Santiago") -> Understander:
        """Build everything from the data folder; raises `DirectoryError` on bad data."""
        directory = load_directory(data_dir)
        normalize = Normalizer.from_file(data_dir / "spelling.toml")
        lexicon, situations = load_rules(data_dir)
        return cls(
            directory=directory,
            normalize=normalize,
            communes=CommuneResolver(directory, normalize),
            commune_map=CommuneMap.from_geojson(data_dir / "communes.geojson", directory),
            intents=IntentClassifier.from_file(data_dir / "intents.toml", normalize),
            danger=DangerDetector(lexicon, situations, DangerModel.from_file(data_dir / "danger_model.json")),
            timezone=ZoneInfo(timezone),
        )

    def understand(
        self, text: str, *, commune: str | None = None, at: datetime | None = None, calm: bool = False
    ) -> Understanding:
        """Understand `text`; `commune` is the neighbor's known commune, if any.

        A commune named in the text wins over the known one: a neighbor of Malloa may
        report a problem in Rengo. `calm`: the neighbor said they are not in danger now, so
        signs of one are not asked about again.
        """
        at = at.astimezone(self.timezone) if at else datetime.now(self.timezone)
        plain = self.normalize(text)
        words = plain.split()
        danger = self.assess_danger(text, at=at, plain=plain)
        if calm and danger.emergency is None:
            danger = Assessment(confidence=danger.confidence)
        emergency = danger.emergency
        place = self.communes.resolve(text, words)
        if place.commune is None and not place.is_ambiguous and commune:
            place = CommuneGuess(commune=self.official_commune(commune))
        guess = self.intents.classify(
            words,
            emergency=emergency.kind if emergency else None,
            possible_emergency=danger.ask.kind if danger.ask else None,
            names_place=place.commune is not None or place.is_ambiguous,
        )
        office = self.directory.office_for(place.commune, place.sector) if place.commune else None
        return Understanding(
            intent=guess.intent,
            emergency=emergency,
            commune=place.commune,
            office_id=office.id if office else None,
            topic=guess.topic,
            commune_candidates=place.candidates,
            sector=place.sector,
            possible_emergency=danger.ask,
            confidence=danger.confidence,
        )

    def assess_danger(self, text: str, *, at: datetime, plain: str | None = None) -> Assessment:
        """What each layer of emergency detection makes of `text` (`plain`: already normalised)."""
        return self.danger.assess(self.normalize(text) if plain is None else plain, at)

    def official_commune(self, name: str) -> str:
        """The official name of commune `name` (any spelling); raises `UnknownCommune`."""
        guess = self.communes.resolve(name)
        if guess.commune is None:
            raise UnknownCommune(name)
        return guess.commune

    def locate(self, latitude: float, longitude: float) -> CommuneGuess:
        """The commune of a shared location (candidates near a border)."""
        return self.commune_map.locate(latitude, longitude)
