"""The neighbor's dialog (SPEC §4): first contact, commune, office, menu and every intent.

`Dialog.handle` takes one `InboundMessage` inside the caller's transaction and returns
the `Turn` with the replies. Emergencies are checked first, at every step; commands
(MENU, COMUNA, BAJA, ALTA, BORRAR, AYUDA) work at every step; free text is understood at
every step, so "hay gente vendiendo droga en la plaza de rengo" as a first message goes
straight to a report for Rengo's office. Anything unexpected gets the menu: a neighbor is
never stuck. The states are drawn in `neighbor.mmd`.

A message with signs of danger that the routing is unsure of gets the helpline and the
one-tap question "¿Está en peligro ahora?": "Sí" makes it urgent at once, "No" goes on
with that message as usual. An urgent neighbor is never left without someone to see it:
with no commune yet, their conversation waits in the region-wide queue.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.conversations import active_conversation, reopen
from db.models import Neighbor as NeighborRow
from db.neighbors import add_message, lock_neighbor
from handlers.advice import on_advice_topic, on_after_advice, start_advice
from handlers.alerts import OfficeAlerts
from handlers.commands import on_confirm_erase, recognize, run_command
from handlers.events import InboundMessage, Reply
from handlers.offices import office_card
from handlers.queue import REGION, join_queue, join_region_queue, move_to_office, tell_place_in_queue
from handlers.reports import (
    on_category,
    on_contact,
    on_description,
    on_duplicate,
    on_landmark,
    on_photo,
    on_place,
    start_report,
)
from handlers.texts import Texts
from handlers.tips import Tips
from handlers.turn import Services, Step, Turn
from routing.directory import Office
from routing.emergencies import Emergency
from routing.understand import Understander

# Intents that need to know the neighbor's office first.
_NEEDS_OFFICE = frozenset({"talk", "report", "office_info", "subscribe", "activity"})
_NONE = "none"
# Step data while "¿Está en peligro ahora?" waits: the message asked about, and where it came.
DANGER_CHECK = "danger_check"
_NO_DANGER_WORDS = 4  # "no", "no gracias", "no, estoy bien": a short no; "no puedo hablar" is not


class Dialog:
    """The neighbor side of the line, channel-agnostic."""

    def __init__(self, texts: Texts, understander: Understander, tips: Tips, alerts: OfficeAlerts) -> None:
        self.services = Services(texts=texts, understander=understander, tips=tips, alerts=alerts, nav=self)
        self._steps: dict[Step, Callable[[Turn], Awaitable[None]]] = {
            Step.ASK_COMMUNE: self._on_ask_commune,
            Step.CHOOSE_COMMUNE: self._on_choose_commune,
            Step.CHOOSE_OFFICE: self._on_choose_office,
            Step.MENU: self._on_menu,
            Step.ADVICE_TOPIC: on_advice_topic,
            Step.AFTER_ADVICE: on_after_advice,
            Step.REPORT_CATEGORY: on_category,
            Step.REPORT_DESCRIPTION: on_description,
            Step.REPORT_PLACE: on_place,
            Step.REPORT_LANDMARK: on_landmark,
            Step.REPORT_PHOTO: on_photo,
            Step.REPORT_CONTACT: on_contact,
            Step.REPORT_DUPLICATE: on_duplicate,
            Step.IN_CONVERSATION: self._on_in_conversation,
            Step.CONFIRM_ERASE: on_confirm_erase,
            Step.CLOSED_FEEDBACK: self._on_closed_feedback,
        }

    @property
    def texts(self) -> Texts:
        return self.services.texts

    async def handle(self, session: AsyncSession, message: InboundMessage) -> Turn:
        """Handle one message of a neighbor; the caller commits."""
        understander = self.services.understander
        now = message.received_at.astimezone(understander.timezone)
        neighbor, created = await lock_neighbor(
            session, channel=message.channel, address=message.address, step=Step.ASK_COMMUNE, now=now
        )
        if not created and neighbor.consented_at is None:
            neighbor.consented_at = now  # they read the privacy notice and went on
        neighbor.last_inbound_at = now
        neighbor.unreachable = False  # they wrote: they no longer block us
        if message.display_name:
            neighbor.display_name = message.display_name
        conversation = None
        if _joins_a_conversation(neighbor):
            conversation = await active_conversation(session, neighbor.id)
            if conversation is None and neighbor.step == Step.IN_CONVERSATION:  # an officer closed it
                neighbor.step = Step.MENU
        media = message.media[0] if message.media else None
        inbound = await add_message(
            session,
            neighbor=neighbor,
            direction="in",
            author="neighbor",
            now=now,
            conversation_id=conversation.id if conversation else None,
            text=message.text,
            media_kind=media.kind if media else None,
            media_ref=media.ref if media else None,
            latitude=message.location.latitude if message.location else None,
            longitude=message.location.longitude if message.location else None,
            platform_id=message.platform_id,
        )
        data = dict(neighbor.step_data)
        turn = Turn(
            session=session,
            services=self.services,
            neighbor=neighbor,
            message=message,
            inbound=inbound,
            understanding=understander.understand(message.text, at=now),
            words=understander.normalize(message.text).split(),
            now=now,
            data=data,
            offered=data.pop("choices", {}),
        )
        await self._route(turn, created)
        if turn.erased_files is None:
            neighbor.step_data = turn.data
        return turn

    async def _route(self, turn: Turn, created: bool) -> None:
        if turn.neighbor.step == Step.CONFIRM_DANGER and await self._on_confirm_danger(turn):
            return
        understanding = turn.understanding
        emergency = understanding.emergency
        if emergency is not None:
            turn.say(self._emergency_text(emergency))
            if turn.office is not None:
                await self._queue_urgent(turn, emergency.kind, understanding.intent)
                return
            turn.data["urgent"] = emergency.kind
        if created:
            texts = self.texts
            turn.say(
                "\n\n".join(
                    [texts("welcome.greeting"), texts("welcome.not_emergency"), texts("welcome.privacy")]
                )
            )
        possible = understanding.possible_emergency
        if emergency is None and possible is not None and recognize(turn.words) is None:
            self._ask_danger(turn, possible, first=created)  # a command (AYUDA) is no question
            return
        await self._proceed(turn, first=created)

    async def _proceed(self, turn: Turn, *, first: bool) -> None:
        """Commands, the first message, or the neighbor's step; then reach someone if urgent."""
        command = recognize(turn.words)
        if command is not None:
            await run_command(turn, command)
        elif first:
            await self._first_message(turn)
        else:
            await self._steps[Step(turn.neighbor.step)](turn)
        await self._reach_someone(turn)

    async def _reach_someone(self, turn: Turn, intent: str | None = None) -> None:
        """An urgent neighbor still without an office joins the region-wide queue now.

        Told before the question that closes the turn (the commune), so that question stays last.
        """
        kind = turn.data.pop("urgent", None)
        if kind is None or turn.office is not None or turn.erased_files is not None:
            return
        intent = intent or turn.understanding.intent
        intent = intent if intent in ("talk", "report") else "talk"
        notice = await join_region_queue(turn, intent=intent, emergency_kind=kind)
        if notice is None:
            return
        last = turn.replies[-1] if turn.replies else None
        asks = last is not None and (last.options or last.asks_location)
        turn.replies.insert(len(turn.replies) - 1 if asks else len(turn.replies), Reply(notice))

    # --- "¿Está en peligro ahora?" ---------------------------------------------------------

    def _ask_danger(self, turn: Turn, possible: Emergency, *, first: bool) -> None:
        """The helpline and a one-tap question; the message waits for the answer."""
        texts, detector = self.texts, self.services.understander.emergencies
        turn.data[DANGER_CHECK] = {
            "kind": possible.kind,
            "intent": turn.understanding.intent,
            "text": turn.message.text,
            "step": turn.neighbor.step,
            "first": first,
            "offered": turn.offered,
        }
        lines = [texts("emergency.ask")]
        for number in possible.lines:
            lines.append(texts("emergency.line", number=number, name=detector.helpline(number).name))
        lines.append(texts("emergency.ask_question"))
        choices = [("yes", texts("emergency.ask_yes")), ("no", texts("emergency.ask_no"))]
        turn.offer("\n".join(lines), choices, Step.CONFIRM_DANGER)

    async def _on_confirm_danger(self, turn: Turn) -> bool:
        """The answer to "¿Está en peligro ahora?"; False when the message is something else.

        Another message with signs of danger counts as "Sí"; anything else that is not a
        short "No" is handled as a new message, where the neighbor was before the question.
        """
        check: dict[str, Any] = turn.data.pop(DANGER_CHECK, None) or {}
        answer, words = turn.choice(), turn.words
        turn.go(Step(check.get("step", Step.MENU)))
        turn.offered = check.get("offered", {})
        understanding = turn.understanding
        if not check or understanding.emergency is not None:
            return False
        if answer == "yes" or words[:1] == ["si"] or understanding.possible_emergency is not None:
            await self._confirmed_danger(turn, check)
            return True
        if answer == "no" or (words[:1] == ["no"] and len(words) <= _NO_DANGER_WORDS):
            understander = self.services.understander
            turn.message = dataclasses.replace(turn.message, text=check["text"], option=None)
            turn.understanding = understander.understand(check["text"], at=turn.now, calm=True)
            turn.words = understander.normalize(check["text"]).split()
            await self._proceed(turn, first=check["first"])
            return True
        return False

    async def _confirmed_danger(self, turn: Turn, check: dict[str, Any]) -> None:
        detector = self.services.understander.emergencies
        kind = check["kind"]
        turn.say(
            self._emergency_text(Emergency(kind, detector.lines_for(kind, turn.now, happening_now=True)))
        )
        if turn.office is not None:
            await self._queue_urgent(turn, kind, check["intent"])
            return
        turn.data["urgent"] = kind
        await self.ask_commune(turn)
        await self._reach_someone(turn, check["intent"])

    # --- navigation (handlers.turn.Navigation) -------------------------------------------

    async def start(self, turn: Turn, intent: str, topic: str | None = None) -> None:
        """Begin what the neighbor asked for, asking their commune first where it is needed."""
        if intent in _NEEDS_OFFICE and turn.office is None:
            turn.data["pending"] = {"intent": intent, "topic": topic}
            await self.ask_commune(turn)
            return
        texts, neighbor = self.texts, turn.neighbor
        if intent == "talk":
            conversation = await join_queue(turn, intent="talk")
            await tell_place_in_queue(turn, conversation, turn.office)
        elif intent == "activity":  # a charla, a visit, a meeting: the office arranges it with them
            conversation = await join_queue(turn, intent="activity", topic=topic)
            turn.say(texts("activity.received", what=texts(f"activity.kinds.{topic or 'charla'}")))
            await tell_place_in_queue(turn, conversation, turn.office)
        elif intent == "advice":
            await start_advice(turn, topic)
        elif intent == "report":
            await start_report(turn, topic)
        elif intent == "office_info":
            await self.show_menu(turn, office_card(turn.office, texts, neighbor.sector))
        elif intent == "subscribe":
            lead = "subscription.already" if neighbor.subscribed else "subscription.subscribed"
            neighbor.subscribed = True
            await self.show_menu(turn, texts(lead, office=turn.office.name))
        elif intent == "unsubscribe":
            neighbor.subscribed = False
            await self.show_menu(turn, texts("subscription.unsubscribed"))
        elif intent == "greeting":
            await self.show_menu(turn)
        elif not turn.words and (turn.message.media or turn.message.location):
            await self._on_menu(turn)
        else:
            await self.show_menu(turn, texts("menu.not_understood" if turn.words else "menu.empty"))

    async def show_menu(self, turn: Turn, lead: str | None = None) -> None:
        """The numbered menu, after `lead` (what was just done) in the same message."""
        texts = self.texts
        subscription = "unsubscribe" if turn.neighbor.subscribed else "subscribe"
        choices = [
            (value, texts(f"menu.{value}"))
            for value in ("talk", "advice", "report", subscription, "office_info")
        ]
        question = texts("menu.again" if lead else "menu.ask")
        turn.offer(f"{lead}\n\n{question}" if lead else question, choices, Step.MENU)

    async def ask_commune(self, turn: Turn) -> None:
        turn.say(self.texts("commune.ask"), asks_location=True)
        turn.go(Step.ASK_COMMUNE)

    # --- first contact, commune and office -----------------------------------------------

    async def _first_message(self, turn: Turn) -> None:
        understanding = turn.understanding
        if understanding.intent not in ("greeting", "unknown"):
            turn.data["pending"] = {"intent": understanding.intent, "topic": understanding.topic}
        if understanding.commune:
            await self._settle_commune(turn, understanding.commune, understanding.sector)
        elif understanding.commune_candidates:
            self._offer_communes(turn, understanding.commune_candidates, "commune.choose")
        else:
            await self.ask_commune(turn)

    async def _settle_commune(
        self, turn: Turn, commune: str, sector: str | None, lead: str | None = None
    ) -> None:
        """Record the neighbor's commune; then their office, asked for where several serve it."""
        directory = self.services.understander.directory
        turn.neighbor.commune, turn.neighbor.sector = commune, sector
        office = directory.office_for(commune, sector)
        if office is None:
            sectors: dict[str, list[str]] = {}
            for name, office_id in directory.communes[commune].office_by_sector.items():
                sectors.setdefault(office_id, []).append(name)
            choices = [
                (o.id, self._office_label(o, sectors.get(o.id, []))) for o in directory.offices_for(commune)
            ]
            question = self.texts("commune.choose_office", commune=commune)
            turn.offer(f"{lead}\n\n{question}" if lead else question, choices, Step.CHOOSE_OFFICE)
            return
        await self._settle_office(turn, office, lead)

    def _office_label(self, office: Office, sectors: list[str]) -> str:
        if not sectors:
            return self.texts("commune.office_choice_plain", name=office.name)
        return self.texts("commune.office_choice", name=office.name, sectors=", ".join(sectors))

    async def _settle_office(self, turn: Turn, office: Office, lead: str | None = None) -> None:
        turn.neighbor.office_id = office.id
        card = office_card(office, self.texts, turn.neighbor.sector)
        lead = f"{lead}\n{card}" if lead else card
        urgent = turn.data.pop("urgent", None)
        pending = turn.data.pop("pending", None)
        moved = await move_to_office(turn, office)
        if moved is not None:  # it waited region-wide: now in the office's queue, or already taken
            turn.say(lead)
            here = self.services.understander.directory.offices[moved.office_id]
            await tell_place_in_queue(turn, moved, here)
        elif urgent is not None:
            turn.say(lead)
            await self._queue_urgent(turn, urgent, pending["intent"] if pending else "talk")
        elif pending is not None:
            turn.say(lead)
            await self.start(turn, pending["intent"], pending.get("topic"))
        else:
            await self.show_menu(turn, lead)

    def _offer_communes(self, turn: Turn, candidates: tuple[str, ...], question: str) -> None:
        choices = [(c, c) for c in candidates] + [(_NONE, self.texts("commune.none_of_these"))]
        turn.offer(self.texts(question), choices, Step.CHOOSE_COMMUNE)

    async def _on_ask_commune(self, turn: Turn) -> None:
        location, understanding = turn.message.location, turn.understanding
        if location is not None:
            guess = self.services.understander.locate(location.latitude, location.longitude)
            if guess.commune:
                await self._settle_commune(turn, guess.commune, None)
            elif guess.candidates:
                self._offer_communes(turn, guess.candidates, "commune.choose_border")
            else:
                turn.say(self.texts("commune.outside_region"), asks_location=True)
            return
        if understanding.intent not in ("greeting", "unknown"):  # "vivo en rengo, quiero hablar"
            turn.data["pending"] = {"intent": understanding.intent, "topic": understanding.topic}
        if understanding.commune:
            await self._settle_commune(turn, understanding.commune, understanding.sector)
        elif understanding.commune_candidates:
            self._offer_communes(turn, understanding.commune_candidates, "commune.choose")
        elif turn.words and understanding.intent not in ("greeting", "unknown"):
            await self.ask_commune(turn)
        elif turn.words:
            turn.say(self.texts("commune.not_found", text=turn.message.text.strip()[:60]), asks_location=True)
        else:
            await self.ask_commune(turn)

    async def _on_choose_commune(self, turn: Turn) -> None:
        choice = turn.choice()
        if choice == _NONE:
            await self.ask_commune(turn)
        elif choice is not None:
            await self._settle_commune(turn, choice, None)
        else:
            await self._on_ask_commune(turn)

    async def _on_choose_office(self, turn: Turn) -> None:
        directory = self.services.understander.directory
        choice = turn.choice()
        understanding = turn.understanding
        if choice in directory.offices:
            await self._settle_office(turn, directory.offices[choice])
        elif understanding.commune and understanding.commune != turn.neighbor.commune:
            await self._settle_commune(turn, understanding.commune, understanding.sector)
        elif understanding.sector and directory.office_for(turn.neighbor.commune, understanding.sector):
            await self._settle_commune(turn, turn.neighbor.commune, understanding.sector)
        else:
            await self._settle_commune(turn, turn.neighbor.commune, None, self.texts("menu.option_unknown"))

    # --- the menu and the queue --------------------------------------------------------

    async def _on_menu(self, turn: Turn) -> None:
        texts, understanding = self.texts, turn.understanding
        choice = turn.choice()
        if choice is not None:
            await self.start(turn, choice)
        elif turn.answered_unknown_number():
            await self.show_menu(turn, texts("menu.option_unknown"))
        elif turn.message.location is not None and not turn.words:
            location = turn.message.location
            guess = self.services.understander.locate(location.latitude, location.longitude)
            lead = texts("menu.location_received", commune=guess.commune) if guess.commune else None
            await self.show_menu(turn, lead or texts("commune.outside_region"))
        elif turn.message.media and not turn.words:
            await self.show_menu(turn, texts("menu.photo_received"))
        elif understanding.commune and understanding.intent in ("greeting", "unknown"):
            changed = texts("commune.changed", commune=understanding.commune)
            await self._settle_commune(turn, understanding.commune, understanding.sector, changed)
        else:
            await self.start(turn, understanding.intent, understanding.topic)

    async def _on_in_conversation(self, turn: Turn) -> None:
        """The message joined the open conversation; the office answers, not the bot."""

    async def _on_closed_feedback(self, turn: Turn) -> None:
        """After an officer closed the conversation: "No" puts it back in the queue."""
        choice, closed = turn.choice(), turn.data.pop("closed", None)
        if choice == "no" and closed is not None and turn.office is not None:
            conversation = await reopen(turn.session, closed, turn.now)
            if conversation is not None:
                await self.services.alerts.waiting(
                    turn.session, conversation, reason="reopened", now=turn.now
                )
                if turn.inbound is not None:
                    turn.inbound.conversation_id = conversation.id
            turn.say(self.texts("closing.reopened", office=turn.office.name))
            turn.go(Step.IN_CONVERSATION)
        elif choice == "yes":
            await self.show_menu(turn, self.texts("closing.thanks"))
        else:
            await self._on_menu(turn)

    async def _queue_urgent(self, turn: Turn, emergency_kind: str, intent: str) -> None:
        intent = intent if intent in ("talk", "report") else "talk"
        turn.data.pop("pending", None)
        turn.data.pop("draft", None)
        conversation = await join_queue(turn, intent=intent, emergency_kind=emergency_kind)
        await tell_place_in_queue(turn, conversation, turn.office)

    def emergency_reply(self, message: InboundMessage) -> Reply | None:
        """The helpline answer to `message`, if it reveals an emergency (used when all else fails)."""
        understander = self.services.understander
        understanding = understander.understand(
            message.text, at=message.received_at.astimezone(understander.timezone)
        )
        emergency = understanding.emergency or understanding.possible_emergency
        return Reply(self._emergency_text(emergency)) if emergency else None

    def _emergency_text(self, emergency: Emergency) -> str:
        texts, detector = self.texts, self.services.understander.emergencies
        lines = [texts(f"emergency.{emergency.kind}")]
        for number in emergency.lines:
            line = detector.helpline(number)
            lines.append(texts("emergency.line", number=number, name=line.name))
            if line.whatsapp:
                lines.append(texts("emergency.whatsapp", number=line.whatsapp))
        if "133" not in emergency.lines:
            lines.append(texts("emergency.danger_now"))
        lines.append(texts("emergency.not_emergency_line"))
        return "\n".join(lines)


def _joins_a_conversation(neighbor: NeighborRow) -> bool:
    """Whether the neighbor's message joins their active conversation.

    They talk with their office, or wait region-wide for their commune, or were asked
    "¿Está en peligro ahora?" while talking with their office.
    """
    data = neighbor.step_data
    return (
        neighbor.step == Step.IN_CONVERSATION
        or REGION in data
        or data.get(DANGER_CHECK, {}).get("step") == Step.IN_CONVERSATION
    )
