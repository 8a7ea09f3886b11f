"""One turn of the neighbor dialog: the message in, the neighbor's state, the replies out.

Every dialog step is a function of a `Turn`. It reads what came in, moves the neighbor to
the next `Step`, and says things. Options offered in one turn are remembered (in the
neighbor's step data) so that "2" means the second option in the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from handlers.events import InboundMessage, Option, Reply

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from db.models import Message, Neighbor
    from handlers.alerts import OfficeAlerts
    from handlers.texts import Texts
    from handlers.tips import Tips
    from routing.directory import Office
    from routing.understand import Understander, Understanding


class Step(StrEnum):
    """Where a neighbor is in the dialog (see handlers/neighbor.mmd)."""

    ASK_COMMUNE = "ask_commune"
    CHOOSE_COMMUNE = "choose_commune"
    CHOOSE_OFFICE = "choose_office"
    MENU = "menu"
    ADVICE_TOPIC = "advice_topic"
    AFTER_ADVICE = "after_advice"
    REPORT_CATEGORY = "report_category"
    REPORT_DESCRIPTION = "report_description"
    REPORT_PLACE = "report_place"
    REPORT_LANDMARK = "report_landmark"
    REPORT_PHOTO = "report_photo"
    REPORT_CONTACT = "report_contact"
    REPORT_DUPLICATE = "report_duplicate"
    IN_CONVERSATION = "in_conversation"
    CONFIRM_ERASE = "confirm_erase"
    CONFIRM_DANGER = "confirm_danger"  # "¿Está en peligro ahora?": a message with risk signals, unsure
    CLOSED_FEEDBACK = "closed_feedback"  # an officer closed the conversation: "¿Se resolvió?"


class Navigation(Protocol):
    """The moves any step may make; implemented by the dialog (handlers/neighbor.py)."""

    async def start(self, turn: Turn, intent: str, topic: str | None = None) -> None: ...

    async def show_menu(self, turn: Turn, lead: str | None = None) -> None: ...

    async def ask_commune(self, turn: Turn) -> None: ...


@dataclass(frozen=True, slots=True)
class Services:
    """What every step may use, built once at start."""

    texts: Texts
    understander: Understander
    tips: Tips
    alerts: OfficeAlerts
    nav: Navigation


@dataclass(slots=True)
class Turn:
    """One inbound message being handled."""

    session: AsyncSession
    services: Services
    neighbor: Neighbor
    message: InboundMessage
    inbound: Message | None
    understanding: Understanding
    words: list[str]
    now: datetime  # local time of the office's time zone
    data: dict[str, Any]  # the neighbor's step data, written back at the end of the turn
    offered: dict[str, Any]  # the options offered last turn: key -> [value, normalised label]
    replies: list[Reply] = field(default_factory=list)
    erased_files: list[str] | None = None  # set when the neighbor erased their data

    @property
    def texts(self) -> Texts:
        return self.services.texts

    @property
    def nav(self) -> Navigation:
        return self.services.nav

    @property
    def office(self) -> Office | None:
        office_id = self.neighbor.office_id
        return self.services.understander.directory.offices.get(office_id) if office_id else None

    def say(self, text: str, **reply: Any) -> None:
        self.replies.append(Reply(text=text, **reply))

    def go(self, step: Step) -> None:
        self.neighbor.step = step

    def offer(self, text: str, choices: list[tuple[str, str]], step: Step, **reply: Any) -> None:
        """Say `text` with numbered options (value, label), and move to `step` to await the answer."""
        normalize = self.services.understander.normalize
        options = tuple(Option(str(n), label) for n, (_, label) in enumerate(choices, start=1))
        self.data["choices"] = {
            o.key: [value, normalize(o.label)] for o, (value, _) in zip(options, choices, strict=True)
        }
        self.replies.append(Reply(text=text, options=options, **reply))
        self.go(step)

    def choice(self) -> str | None:
        """The value of the option the neighbor chose, by button, number or label; else None."""
        if not self.offered:
            return None
        if self.message.option in self.offered:
            return self.offered[self.message.option][0]
        numbers = [w for w in self.words if w.isdigit()]
        if len(self.words) <= 3 and len(numbers) == 1 and numbers[0] in self.offered:
            return self.offered[numbers[0]][0]
        plain = " ".join(self.words)
        for value, label in self.offered.values():
            if plain and plain == label:
                return value
        return None

    def answered_unknown_number(self) -> bool:
        """The neighbor answered with a number that is not among the options."""
        return bool(self.offered) and len(self.words) == 1 and self.words[0].isdigit()
