"""Commands and emergencies work at every step; odd input never leaves a neighbor stuck."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select

from db.models import Conversation, InboundEvent, Message, Report
from db.models import Neighbor as NeighborRow
from tests.doubles.neighbor import Neighbor


async def at_first_contact(n: Neighbor) -> None:
    pass


async def asking_commune(n: Neighbor) -> None:
    await n.says("hola")


async def choosing_commune(n: Neighbor) -> None:
    await n.says("hola")
    await n.says("vivo en rosario")


async def choosing_office(n: Neighbor) -> None:
    await n.says("hola")
    await n.says("rancagua")


async def at_menu(n: Neighbor) -> None:
    await n.says("hola")
    await n.says("rengo")


async def choosing_advice(n: Neighbor) -> None:
    await at_menu(n)
    await n.says("2")


async def after_advice(n: Neighbor) -> None:
    await choosing_advice(n)
    await n.says("3")


async def choosing_category(n: Neighbor) -> None:
    await at_menu(n)
    await n.says("3")


async def describing(n: Neighbor) -> None:
    await choosing_category(n)
    await n.says("4")


async def placing(n: Neighbor) -> None:
    await describing(n)
    await n.says("me robaron la bici del patio")


async def in_conversation(n: Neighbor) -> None:
    await at_menu(n)
    await n.says("1")


async def confirming_erase(n: Neighbor) -> None:
    await at_menu(n)
    await n.says("BORRAR")


STEPS = [
    at_first_contact,
    asking_commune,
    choosing_commune,
    choosing_office,
    at_menu,
    choosing_advice,
    after_advice,
    choosing_category,
    describing,
    placing,
    in_conversation,
    confirming_erase,
]

EMERGENCIES = [
    ("me estan robando, ayuda", "133"),
    ("no aguanto mas, quiero desaparecer", "*4141"),
    ("mi pareja me pega", "1455"),
    ("el vecino le pega a su niño", "147"),
    ("se esta quemando la casa de al lado", "132"),
    ("mi abuelito se cayo y no respira", "131"),
]


@pytest.mark.parametrize("step", STEPS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("text", "helpline"), EMERGENCIES, ids=[e[1] for e in EMERGENCIES])
async def test_an_emergency_gets_its_helpline_first_at_every_step(
    new_neighbor: Callable[..., Neighbor],
    db,
    step: Callable[[Neighbor], Awaitable[None]],
    text: str,
    helpline: str,
) -> None:
    neighbor = new_neighbor()
    await step(neighbor)
    replies = await neighbor.says(text)
    assert f"📞 {helpline}:" in replies[0].text
    row = await neighbor.row()
    async with db() as session:
        urgent = (
            (await session.execute(select(Conversation).where(Conversation.urgent.is_(True)))).scalars().all()
        )
    if row.office_id:  # the office knows: an urgent conversation heads its queue
        assert len(urgent) == 1 and urgent[0].neighbor_id == row.id
        assert "primera en la fila" in replies[-1].text
    else:  # no commune yet: urgent in the region-wide queue at once, moved once the commune is known
        assert len(urgent) == 1 and urgent[0].office_id is None and urgent[0].neighbor_id == row.id
        assert any("todas las oficinas de la región" in r.text for r in replies)
        assert replies[-1].asks_location or replies[-1].options  # the commune question comes last
        await neighbor.says("rengo")
        async with db() as session:
            (moved,) = (await session.execute(select(Conversation))).scalars().all()
        assert (moved.id, moved.office_id, moved.urgent) == (urgent[0].id, "rengo", True)


async def test_an_urgent_conversation_goes_ahead_of_older_ones(new_neighbor) -> None:
    calm = new_neighbor()
    await at_menu(calm)
    await calm.says("1")
    worried = new_neighbor()
    await at_menu(worried)
    (*_, queued) = await worried.says("hay un tipo con pistola afuera de mi casa")
    assert "primera en la fila, marcada como urgente" in queued.text


@pytest.mark.parametrize("step", STEPS[1:], ids=lambda f: f.__name__)
async def test_menu_and_help_work_at_every_step(new_neighbor, step) -> None:
    neighbor = new_neighbor()
    await step(neighbor)
    (reply,) = await neighbor.says("menú")
    assert "¿En qué le podemos ayudar?" in reply.text and len(reply.options) == 5
    (reply,) = await neighbor.says("AYUDA")
    assert "BORRAR" in reply.text and "COMUNA" in reply.text


async def test_borrar_erases_the_neighbors_data_after_confirmation(new_neighbor, db) -> None:
    neighbor = new_neighbor()
    await at_menu(neighbor)
    await neighbor.says("3")
    await neighbor.says("9")  # basura
    await neighbor.says("botan escombros en la esquina")
    await neighbor.says("calle los aromos 123")
    await neighbor.says("1")
    (confirm,) = await neighbor.says("BORRAR")
    assert "no se puede deshacer" in confirm.text
    (reply,) = await neighbor.says("2")
    assert "No borramos nada" in reply.text
    await neighbor.says("borrar")
    (reply,) = await neighbor.says("1")
    assert "Sus datos fueron borrados" in reply.text
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(NeighborRow)) == 0
        assert await session.scalar(select(func.count()).select_from(Message)) == 0
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 0
        report = (await session.execute(select(Report))).scalar_one()
        assert (report.description, report.place, report.neighbor_id) == ("", "", None)
        assert report.category == "dumping"  # the office keeps its figures
        events = (await session.execute(select(InboundEvent))).scalars().all()
        assert events and all(e.payload is None and e.address is None for e in events)
    (welcome, _) = await neighbor.says("hola")
    assert "Vecinos" in welcome.text  # a new start


@pytest.mark.parametrize(
    "text",
    ["", "😀😀😀", "asdfgh", "?", "x" * 4000, "quiero saber el resultado del partido", "9", "0"],
    ids=["empty", "emoji", "gibberish", "question-mark", "huge", "off-topic", "option-9", "option-0"],
)
async def test_odd_messages_get_a_helpful_answer_and_the_menu(new_neighbor, text: str) -> None:
    neighbor = new_neighbor()
    await at_menu(neighbor)
    (reply,) = await neighbor.says(text)
    assert len(reply.options) == 5
    assert reply.text.startswith(("Disculpe", "Recibimos un mensaje sin texto", "Esa opción no está"))


async def test_odd_first_messages_still_get_the_welcome(new_neighbor) -> None:
    for text in ("", "🙏", "x" * 4000):
        neighbor = new_neighbor()
        welcome, question = await neighbor.says(text)
        assert "Vecinos" in welcome.text and "comuna" in question.text


async def test_a_photo_or_location_at_the_menu(new_neighbor) -> None:
    neighbor = new_neighbor()
    await at_menu(neighbor)
    (reply,) = await neighbor.says(photo="p.jpg")
    assert "Recibimos su foto" in reply.text
    (reply,) = await neighbor.says(location=(-34.5853, -70.9890))
    assert "queda en San Fernando" in reply.text
