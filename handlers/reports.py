"""Reporting a neighborhood problem: category, description, place, photo, reference number.

The draft lives in the neighbor's step data until it is filed; what the first message
already said (category, description, commune) is not asked again. An open report of the
same category nearby is offered to follow instead of filing a duplicate.
"""

from __future__ import annotations

from typing import Any

from db.conversations import open_conversation
from db.reports import create_report, follow_report, nearby_open_report
from handlers.queue import tell_place_in_queue
from handlers.turn import Step, Turn

DUPLICATE_RADIUS_M = 250
_DESCRIPTIVE_WORDS = 5  # a first message this long already describes the problem

CATEGORIES = (
    "drugs", "noise", "suspicious", "theft", "alcohol", "lighting",
    "vandalism", "abandoned", "dumping", "traffic", "vulnerable", "other",
)  # fmt: skip


async def start_report(turn: Turn, category: str | None) -> None:
    """Open a draft from what the message already says, and ask for the rest."""
    draft: dict[str, Any] = {"category": category if category in CATEGORIES else None}
    if turn.understanding.intent == "report" and len(turn.words) >= _DESCRIPTIVE_WORDS:
        draft["description"] = turn.message.text.strip()
    commune = turn.understanding.commune
    if commune and commune != turn.neighbor.commune:
        draft["commune"] = commune
        draft["sector"] = turn.understanding.sector
    turn.data["draft"] = draft
    await ask_next(turn)


async def ask_next(turn: Turn) -> None:
    """Ask the first thing the draft lacks; file it when nothing is missing."""
    draft, texts = turn.data["draft"], turn.texts
    if not draft.get("category"):
        choices = [(c, texts(f"report.categories.{c}")) for c in CATEGORIES]
        turn.offer(texts("report.ask_category"), choices, Step.REPORT_CATEGORY)
    elif "description" not in draft:
        turn.say(texts("report.ask_description"))
        turn.go(Step.REPORT_DESCRIPTION)
    elif "place" not in draft:
        skip = [("skip", texts("report.skip_place"))]
        turn.offer(texts("report.ask_place"), skip, Step.REPORT_PLACE, asks_location=True)
    elif "photo" not in draft:
        turn.offer(texts("report.ask_photo"), [("skip", texts("report.skip_photo"))], Step.REPORT_PHOTO)
    elif "share" not in draft and turn.message.contact_shareable:
        choices = [("private", texts("report.keep_private")), ("share", texts("report.share_contact"))]
        turn.offer(texts("report.ask_contact"), choices, Step.REPORT_CONTACT)
    else:
        await file_report(turn)


async def on_category(turn: Turn) -> None:
    draft = turn.data["draft"]
    category = turn.choice()
    if category is None and turn.answered_unknown_number():
        turn.say(turn.texts("menu.option_unknown"))
    elif category is None:
        category = turn.services.understander.intents.report_category(turn.words) or "other"
        if len(turn.words) >= 3:
            draft.setdefault("description", turn.message.text.strip())
    draft["category"] = category
    await ask_next(turn)


async def on_description(turn: Turn) -> None:
    draft = turn.data["draft"]
    if turn.message.media:
        draft["photo"] = turn.message.media[0].ref
    if turn.message.text.strip():
        draft["description"] = turn.message.text.strip()
    await ask_next(turn)


async def on_place(turn: Turn) -> None:
    draft, location = turn.data["draft"], turn.message.location
    if location is not None:
        draft["latitude"], draft["longitude"] = location.latitude, location.longitude
        turn.offer(
            turn.texts("report.ask_landmark"),
            [("skip", turn.texts("report.skip_landmark"))],
            Step.REPORT_LANDMARK,
        )
        return
    if turn.choice() == "skip":
        draft["place"] = ""
    elif turn.message.text.strip():
        draft["place"] = turn.message.text.strip()
        commune = turn.understanding.commune
        if commune and commune != turn.neighbor.commune:
            draft["commune"], draft["sector"] = commune, turn.understanding.sector
    await ask_next(turn)


async def on_landmark(turn: Turn) -> None:
    draft = turn.data["draft"]
    draft["place"] = "" if turn.choice() == "skip" else turn.message.text.strip()
    await ask_next(turn)


async def on_photo(turn: Turn) -> None:
    draft = turn.data["draft"]
    if turn.message.media:
        draft["photo"] = turn.message.media[0].ref
    else:
        draft["photo"] = None
        if turn.choice() is None and turn.message.text.strip():
            draft["description"] = f"{draft.get('description', '')}\n{turn.message.text.strip()}".strip()
    await ask_next(turn)


async def on_contact(turn: Turn) -> None:
    choice = turn.choice()
    turn.data["draft"]["share"] = choice == "share"
    turn.neighbor.shares_contact = choice == "share"
    await ask_next(turn)


async def on_duplicate(turn: Turn) -> None:
    draft = turn.data["draft"]
    if turn.choice() == "follow":
        await follow_report(
            turn.session, report_id=draft["duplicate_of"], neighbor_id=turn.neighbor.id, now=turn.now
        )
        reference = draft["duplicate_reference"]
        turn.data.pop("draft")
        await turn.nav.show_menu(turn, turn.texts("report.following", reference=reference))
    else:
        draft["duplicate_checked"] = True
        await file_report(turn)


async def file_report(turn: Turn) -> None:
    """Offer a nearby duplicate once; otherwise file the report and queue its conversation."""
    draft, texts, directory = turn.data["draft"], turn.texts, turn.services.understander.directory
    commune = draft.get("commune") or turn.neighbor.commune
    sector = draft.get("sector") if draft.get("commune") else turn.neighbor.sector
    office = directory.office_for(commune, sector) or turn.office or directory.offices_for(commune)[0]
    latitude, longitude = draft.get("latitude"), draft.get("longitude")
    if not draft.get("duplicate_checked"):
        draft["duplicate_checked"] = True
        existing = await nearby_open_report(
            turn.session,
            office_id=office.id,
            category=draft["category"],
            commune=commune,
            sector=sector,
            latitude=latitude,
            longitude=longitude,
            radius_m=DUPLICATE_RADIUS_M,
        )
        if existing is not None:
            draft["duplicate_of"], draft["duplicate_reference"] = existing.id, existing.reference
            category = texts(f"report.categories.{existing.category}")
            date = existing.created_at.astimezone(turn.now.tzinfo).strftime("%d/%m/%Y")
            question = texts("report.duplicate", reference=existing.reference, category=category, date=date)
            choices = [("follow", texts("report.follow")), ("new", texts("report.new"))]
            turn.offer(question, choices, Step.REPORT_DUPLICATE)
            return

    conversation = await open_conversation(
        turn.session,
        neighbor_id=turn.neighbor.id,
        office_id=office.id,
        intent="report",
        topic=draft["category"],
        emergency_kind=turn.data.pop("urgent", None),
        now=turn.now,
    )
    await turn.services.alerts.waiting(turn.session, conversation, reason="new", now=turn.now)
    report = await create_report(
        turn.session,
        conversation_id=conversation.id,
        neighbor_id=turn.neighbor.id,
        office_id=office.id,
        commune=commune,
        sector=sector,
        category=draft["category"],
        description=draft.get("description", ""),
        place=draft.get("place", ""),
        latitude=latitude,
        longitude=longitude,
        photo_ref=draft.get("photo"),
        now=turn.now,
    )
    turn.data.pop("draft")
    privacy = texts("report.shared") if turn.neighbor.shares_contact else texts("report.anonymous")
    category = texts(f"report.categories.{report.category}")
    turn.say("\n".join([texts("report.filed", reference=report.reference, category=category), privacy]))
    turn.go(Step.IN_CONVERSATION)
    await tell_place_in_queue(turn, conversation, office)
