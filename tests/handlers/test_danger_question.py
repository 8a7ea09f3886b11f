"""'¿Está en peligro ahora?': asked at every step when the signs of danger are unsure.

The dialog here reads danger through the real lexicons and situation rules, with a danger
model that never speaks, so that which messages are asked about does not move when the
model is retrained: "shh escribo escondida" meets only an ask-level rule (whispering).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.media import MediaStore
from db.models import Conversation, Report
from handlers.alerts import OfficeAlerts
from handlers.neighbor import Dialog
from handlers.texts import Texts
from handlers.tips import Tips
from routing.danger import DangerDetector
from routing.danger_model import NONE, DangerModel
from routing.emergencies import KINDS
from routing.linear import LinearModel
from routing.understand import DEFAULT_DATA_DIR, Understander
from tests.doubles.neighbor import Neighbor, make_pipeline
from tests.handlers.test_commands_and_emergencies import STEPS, at_menu, describing

UNSURE = "shh escribo escondida"


@pytest.fixture(scope="module")
def cautious(understander: Understander, texts: Texts) -> Dialog:
    quiet = DangerModel(LinearModel((NONE, *KINDS), [0.0] + [-9.0] * len(KINDS), {}), 0.9, 0.4)
    danger = understander.danger
    reading = Understander(
        directory=understander.directory,
        normalize=understander.normalize,
        communes=understander.communes,
        commune_map=understander.commune_map,
        intents=understander.intents,
        danger=DangerDetector(danger.lexicon, danger.situations, quiet),
        timezone=understander.timezone,
    )
    return Dialog(
        texts,
        reading,
        Tips.from_dir(DEFAULT_DATA_DIR),
        OfficeAlerts(texts, reading.directory, reading.timezone),
    )


@pytest.fixture
def neighbor(
    db: async_sessionmaker[AsyncSession], cautious: Dialog, tmp_path: Path, tuesday_morning: datetime
) -> Neighbor:
    pipeline = make_pipeline(db, cautious, MediaStore(tmp_path / "media"))
    return Neighbor(pipeline, db, "+56911112222", clock=tuesday_morning)


async def urgent(db: async_sessionmaker[AsyncSession]) -> list[Conversation]:
    async with db() as session:
        return list(
            (await session.execute(select(Conversation).where(Conversation.urgent.is_(True)))).scalars()
        )


def asked(replies: list) -> bool:
    question = replies[-1]
    return "¿Está en peligro ahora?" in question.text and [o.label for o in question.options] == ["Sí", "No"]


@pytest.mark.parametrize("step", STEPS, ids=lambda f: f.__name__)
async def test_asked_at_every_step_and_yes_makes_it_urgent_at_once(
    neighbor: Neighbor, db, step: Callable[[Neighbor], Awaitable[None]]
) -> None:
    await step(neighbor)
    replies = await neighbor.says(UNSURE)
    assert asked(replies) and "📞 133:" in replies[-1].text  # the helpline, with the question
    assert not await urgent(db)
    replies = await neighbor.says("Sí", option="1")
    assert "📞 133:" in replies[0].text
    (conversation,) = await urgent(db)
    row = await neighbor.row()
    assert conversation.neighbor_id == row.id and conversation.emergency_kind == "danger"
    assert conversation.office_id == row.office_id  # None: region-wide, until the commune is known


async def test_no_goes_on_with_the_message_as_usual(neighbor: Neighbor, db) -> None:
    await describing(neighbor)
    assert asked(await neighbor.says(f"{UNSURE}, es que los del lado venden droga en el pasaje"))
    (reply,) = await neighbor.says("No", option="2")
    assert "¿Dónde ocurre?" in reply.text  # the message was the report's description
    await neighbor.says("pasaje los aromos 123")
    await neighbor.says("Seguir sin foto", option="1")
    async with db() as session:
        report = (await session.execute(select(Report))).scalar_one()
    assert "venden droga" in report.description
    assert not await urgent(db)


async def test_no_at_first_contact_goes_on_to_the_commune(neighbor: Neighbor, db) -> None:
    welcome, question = await neighbor.says(UNSURE)
    assert "Vecinos" in welcome.text and asked([question])
    (reply,) = await neighbor.says("no")
    assert "¿En qué comuna vive?" in reply.text
    assert not await urgent(db)


async def test_another_message_instead_of_an_answer_is_handled_where_the_neighbor_was(
    neighbor: Neighbor,
) -> None:
    await neighbor.says(UNSURE)
    replies = await neighbor.says("vivo en rengo")
    assert "Rengo" in replies[0].text
    assert (await neighbor.row()).office_id == "rengo"


async def test_a_second_message_with_signs_of_danger_counts_as_yes(neighbor: Neighbor, db) -> None:
    await at_menu(neighbor)
    await neighbor.says(UNSURE)
    await neighbor.says("no puedo hablar, estoy escondida en el closet")
    (conversation,) = await urgent(db)
    assert conversation.office_id == "rengo"
