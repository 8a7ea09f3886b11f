"""Commands that work at any step, typed in Spanish or as Telegram commands (/menu)."""

from __future__ import annotations

from db.erase import erase_neighbor
from handlers.turn import Step, Turn

COMMANDS = {
    "menu": "menu",
    "comuna": "commune",
    "baja": "unsubscribe",
    "stop": "unsubscribe",
    "alta": "subscribe",
    "borrar": "erase",
    "ayuda": "help",
}


def recognize(words: list[str]) -> str | None:
    """The command a message is, if it is only a command word ("MENU", "/menu", "Baja.")."""
    return COMMANDS.get(words[0]) if len(words) == 1 else None


async def run_command(turn: Turn, command: str) -> None:
    texts = turn.texts
    if command == "menu":
        await turn.nav.show_menu(turn)
    elif command == "commune":
        turn.data.pop("pending", None)
        await turn.nav.ask_commune(turn)
    elif command in ("subscribe", "unsubscribe"):
        await turn.nav.start(turn, command)
    elif command == "erase":
        choices = [("yes", texts("commands.erase_yes")), ("no", texts("commands.erase_no"))]
        turn.offer(texts("commands.erase_confirm"), choices, Step.CONFIRM_ERASE)
    elif command == "help":
        turn.say(texts("commands.help"))


async def on_confirm_erase(turn: Turn) -> None:
    """CONFIRM_ERASE: erase for real, or nothing."""
    if turn.choice() == "yes":
        turn.erased_files = await erase_neighbor(turn.session, turn.neighbor)
        turn.say(turn.texts("commands.erased"), kind="erased")
    else:
        await turn.nav.show_menu(turn, turn.texts("commands.erase_cancelled"))
