"""Joining an office's queue: one conversation per neighbor, urgent first, then oldest."""

from __future__ import annotations

from db.conversations import active_conversation, flag_urgent, open_conversation, queue_position
from db.models import Conversation
from handlers.offices import hours_text, when_text
from handlers.turn import Step, Turn
from routing.directory import Office


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


async def tell_place_in_queue(turn: Turn, conversation: Conversation, office: Office) -> None:
    """Say where the conversation stands and, out of hours, when the office will answer."""
    texts = turn.texts
    if conversation.status == "open":
        turn.say(texts("queue.already_open", office=office.name))
        return
    lines = [texts("queue.urgent" if conversation.urgent else "queue.waiting", office=office.name)]
    if not conversation.urgent:
        position = await queue_position(turn.session, conversation)
        lines.append(
            texts("queue.position_first") if position == 1 else texts("queue.position", ahead=position - 1)
        )
    if not office.is_open(turn.now):
        opening = office.next_opening(turn.now)
        if opening is not None:
            lines.append(
                texts("queue.closed_now", hours=hours_text(office, texts), when=when_text(opening, texts))
            )
    lines.append(texts("queue.keep_writing"))
    turn.say("\n".join(lines))
