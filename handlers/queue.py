"""Joining a queue: one conversation per neighbor, urgent first, then oldest.

An urgent neighbor whose commune is not known yet joins the region-wide queue that every
office sees, and moves to their office's queue once the commune is known: a person in
danger who stops answering has still reached someone.
"""

from __future__ import annotations

from db.conversations import active_conversation, flag_urgent, open_conversation, queue_position
from db.models import Conversation
from handlers.offices import hours_text, when_text
from handlers.turn import Step, Turn
from routing.directory import Office

REGION = "region"  # step data: the id of the neighbor's region-wide urgent conversation


async def join_queue(
    turn: Turn, *, intent: str, topic: str | None = None, emergency_kind: str | None = None
) -> Conversation:
    """The neighbor's active conversation with their office, opened if there is none.

    Later messages join the same conversation; an emergency flags it urgent.
    """
    office = turn.office
    assert office is not None, "join_queue needs the neighbor's office"
    emergency_kind = emergency_kind or turn.data.pop("urgent", None)
    conversation = await active_conversation(turn.session, turn.neighbor.id)
    alerts = turn.services.alerts
    if conversation is None or conversation.office_id != office.id:
        conversation = await open_conversation(
            turn.session,
            neighbor_id=turn.neighbor.id,
            office_id=office.id,
            intent=intent,
            topic=topic,
            emergency_kind=emergency_kind,
            now=turn.now,
        )
        await alerts.waiting(turn.session, conversation, reason="new", now=turn.now)
    else:
        if turn.inbound is not None:
            turn.inbound.conversation_id = conversation.id
        conversation.updated_at = turn.now
        if emergency_kind and not conversation.urgent:
            flag_urgent(conversation, emergency_kind, turn.now)
            await alerts.waiting(turn.session, conversation, reason="urgent", now=turn.now)
    turn.go(Step.IN_CONVERSATION)
    return conversation


async def join_region_queue(turn: Turn, *, intent: str, emergency_kind: str) -> str | None:
    """An urgent conversation without an office, seen by every office; what to tell the neighbor.

    The neighbor stays where they are in the dialog (the commune question); their later
    messages join this conversation until it moves to their office. None: they were told.
    """
    conversation = await active_conversation(turn.session, turn.neighbor.id)
    if conversation is not None and conversation.urgent:
        turn.data[REGION] = conversation.id
        return None
    if conversation is None:
        conversation = await open_conversation(
            turn.session,
            neighbor_id=turn.neighbor.id,
            office_id=None,
            intent=intent,
            emergency_kind=emergency_kind,
            now=turn.now,
        )
        await turn.services.alerts.waiting(turn.session, conversation, reason="new", now=turn.now)
    else:
        flag_urgent(conversation, emergency_kind, turn.now)
    turn.data[REGION] = conversation.id
    texts, directory = turn.texts, turn.services.understander.directory
    lines = [texts("queue.region")]
    if not any(office.is_open(turn.now) for office in directory.offices.values()):
        lines.append(texts("queue.region_closed", lines=helplines_text(turn, emergency_kind)))
    return "\n".join(lines)


async def move_to_office(turn: Turn, office: Office) -> Conversation | None:
    """The neighbor's region-wide conversation, now that their office is known; None if none.

    It joins the office's queue unless an officer already brought it into theirs.
    """
    conversation_id = turn.data.pop(REGION, None)
    if conversation_id is None:  # the common case: no question to the database
        return None
    conversation = await active_conversation(turn.session, turn.neighbor.id)
    if conversation is None or conversation.id != conversation_id:
        return None
    if conversation.office_id is None:
        conversation.office_id = office.id
        conversation.updated_at = turn.now
        await turn.services.alerts.waiting(turn.session, conversation, reason="new", now=turn.now)
    turn.go(Step.IN_CONVERSATION)
    return conversation


async def tell_place_in_queue(turn: Turn, conversation: Conversation, office: Office) -> None:
    """Say where the conversation stands and, out of hours, when the office will answer.

    Out of hours an urgent conversation is told the helpline first: nobody may wait for
    the morning when they are in danger now.
    """
    texts = turn.texts
    if conversation.status == "open":
        turn.say(texts("queue.already_open", office=office.name))
        return
    closed = not office.is_open(turn.now)
    lines = []
    if conversation.urgent and closed:
        kind = conversation.emergency_kind or "danger"
        lines.append(texts("queue.closed_urgent", lines=helplines_text(turn, kind)))
    lines.append(texts("queue.urgent" if conversation.urgent else "queue.waiting", office=office.name))
    if not conversation.urgent:
        position = await queue_position(turn.session, conversation)
        lines.append(
            texts("queue.position_first") if position == 1 else texts("queue.position", ahead=position - 1)
        )
    if closed:
        opening = office.next_opening(turn.now)
        if opening is not None:
            lines.append(
                texts("queue.closed_now", hours=hours_text(office, texts), when=when_text(opening, texts))
            )
    lines.append(texts("queue.keep_writing"))
    turn.say("\n".join(lines))


def helplines_text(turn: Turn, kind: str) -> str:
    """The lines for an emergency of `kind` open now, in words: «*4141 o al 600 360 7777»."""
    detector, texts = turn.services.understander.emergencies, turn.texts
    numbers = detector.lines_for(kind, turn.now, happening_now=True)
    return texts("queue.helpline_or").join(
        texts("queue.helpline", number=n, name=detector.helpline(n).name) for n in numbers
    )
