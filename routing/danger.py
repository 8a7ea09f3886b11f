"""Is this message an emergency? Three independent layers, any of which may raise the alarm.

1. the phrase lexicons (`emergencies.py`): precise, but blind to phrasings nobody wrote;
2. the situation rules (`situations.py`): families of words that meet (a crime and "now");
3. the danger model (`danger_model.py`): weights learnt from labelled messages.

A layer sure of it makes an emergency: the helpline at once, the conversation urgent; so do
the rules and the model both in doubt. A layer that only sees signs of one (an ask-level
rule, the model between its two thresholds, a phrase told as past or as a question) makes a
question: the helpline and "¿Está en peligro ahora?". A missed emergency can cost a life; a
needless question costs a tap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from routing.danger_model import DangerModel, features
from routing.emergencies import Emergency, EmergencyDetector
from routing.situations import Situation, SituationReader

LEXICON, SITUATION, MODEL = "lexicon", "situation", "model"
# The lexicons never defuse these kinds (a past or a question may hide a present danger), so
# when a defuser is there and no other layer is sure, the neighbor is asked instead.
_NEVER_DEFUSED = frozenset({"suicide", "violence_women", "child"})
_DEFUSERS = frozenset({"past", "prevention", "habit", "idiom", "hypothetical", "hearsay", "story"})


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the layers make of a message: an emergency, a question, or neither."""

    emergency: Emergency | None = None
    ask: Emergency | None = None  # the likely kind, to ask "¿Está en peligro ahora?" about
    confidence: float = 0.0  # the model's probability of an emergency, or 1 when a rule is sure
    alarms: tuple[str, ...] = ()  # the layers that asserted an emergency
    doubts: tuple[str, ...] = ()  # the layers that would only ask


def load_rules(data_dir: Path) -> tuple[EmergencyDetector, SituationReader]:
    """The two hand-written layers, from `emergencies.toml`, `helplines.toml` and `situations.toml`."""
    lexicon = EmergencyDetector(data_dir / "emergencies.toml", data_dir / "helplines.toml")
    return lexicon, SituationReader.from_file(data_dir / "situations.toml", lexicon.defusers)


def read_situation(lexicon: EmergencyDetector, situations: SituationReader, plain: str) -> Situation:
    """The situation of normalised `plain`: what the model reads, besides the words."""
    return situations.read(plain, right_now=lexicon.is_right_now(plain))


class DangerDetector:
    """Runs the three layers over normalised text and decides."""

    def __init__(self, lexicon: EmergencyDetector, situations: SituationReader, model: DangerModel) -> None:
        self.lexicon = lexicon
        self.situations = situations
        self.model = model

    def assess(self, plain: str, at: datetime) -> Assessment:
        """Assess normalised text `plain`, with the helplines open at `at`."""
        right_now = self.lexicon.is_right_now(plain)
        found = self.lexicon.detect(plain, at)
        situation = read_situation(self.lexicon, self.situations, plain)
        prediction = self.model.predict(features(plain, situation))
        danger = prediction.danger
        alarms: list[str] = []
        doubts: list[str] = []
        if found is not None:
            doubtful = found.kind in _NEVER_DEFUSED and situation.defusers & _DEFUSERS and not right_now
            (doubts if doubtful else alarms).append(LEXICON)
        if situation.emergency:
            alarms.append(SITUATION)
        elif situation.ask:
            doubts.append(SITUATION)
        if danger >= self.model.emergency_threshold:
            alarms.append(MODEL)
        elif danger >= self.model.ask_threshold:
            doubts.append(MODEL)
        if SITUATION in doubts and MODEL in doubts:  # two independent layers see the same signs
            alarms += doubts
            doubts = []
        confidence = 1.0 if {LEXICON, SITUATION} & set(alarms) else danger
        said = {
            LEXICON: found.kind if found else None,
            SITUATION: situation.emergency or situation.ask,
            MODEL: prediction.kind,
        }
        kinds = {said[layer] for layer in alarms or doubts} - {None}
        if not kinds:
            return Assessment(confidence=confidence)
        # Layers may name different kinds ("se atoró… no puede respirar" reads as violence to a
        # phrase): the model, which weighs the whole message, picks among those named.
        kind = max(sorted(kinds), key=prediction.probabilities.__getitem__)
        if found is not None and found.kind == kind:
            emergency = found
        else:
            now = situation.happening_now or self.lexicon.is_now(plain)
            emergency = Emergency(kind, self.lexicon.lines_for(kind, at, happening_now=now), now)
        if alarms:
            return Assessment(emergency, None, confidence, tuple(alarms), tuple(doubts))
        return Assessment(None, emergency, confidence, (), tuple(doubts))
