"""Advice: a topic list, short practical advice, then the offer to talk to an officer."""

from __future__ import annotations

from handlers.turn import Step, Turn


async def start_advice(turn: Turn, topic: str | None) -> None:
    """Give the advice on `topic`, or ask which topic."""
    if turn.services.tips.get(topic):
        give_advice(turn, topic)
    else:
        ask_topic(turn)


def ask_topic(turn: Turn) -> None:
    choices = [(tip.id, tip.title) for tip in turn.services.tips.all]
    turn.offer(turn.texts("advice.ask"), choices, Step.ADVICE_TOPIC)


def give_advice(turn: Turn, topic: str | None) -> None:
    tip = turn.services.tips.get(topic)
    assert tip is not None
    texts = turn.texts
    turn.say(f"{tip.title}\n\n{tip.text}")
    choices = [
        ("talk", texts("advice.talk")),
        ("another", texts("advice.another")),
        ("menu", texts("advice.menu")),
    ]
    turn.offer(texts("advice.after"), choices, Step.AFTER_ADVICE)


async def on_advice_topic(turn: Turn) -> None:
    """ADVICE_TOPIC: a topic by number or in words."""
    topic = turn.choice() or turn.services.understander.intents.advice_topic(turn.words)
    if turn.services.tips.get(topic):
        give_advice(turn, topic)
    elif turn.answered_unknown_number():
        turn.say(turn.texts("menu.option_unknown"))
        ask_topic(turn)
    else:
        await turn.nav.start(turn, turn.understanding.intent, turn.understanding.topic)


async def on_after_advice(turn: Turn) -> None:
    """AFTER_ADVICE: talk to an officer, another topic, or the menu."""
    choice = turn.choice()
    if choice == "talk":
        await turn.nav.start(turn, "talk")
    elif choice == "another":
        ask_topic(turn)
    elif choice == "menu":
        await turn.nav.show_menu(turn)
    else:
        await turn.nav.start(turn, turn.understanding.intent, turn.understanding.topic)
