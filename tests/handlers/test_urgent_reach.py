"""An urgent neighbor always reaches someone: without a commune, out of hours, at night.

The alerts' recipients are read from the outbox rows queued for the officers' linked chats.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Conversation, Message, OutboxMessage
from db.officers import create_officer
from tests.doubles.neighbor import Neighbor

DANGER = "hay un tipo con pistola afuera de mi casa"


@pytest.fixture
def tuesday_night(tuesday_morning: datetime) -> datetime:
    """22:00: every office closed (they open Monday to Friday, 08:30 to 17:30)."""
    return tuesday_morning.replace(hour=22)


async def officer(
    db: async_sessionmaker[AsyncSession], name: str, office: str, *, chat: str | None, on_call: bool = False
) -> None:
    async with db.begin() as session:
        account = await create_officer(
            session,
            office_id=office,
            name=name,
            email=f"{name}@carabineros.cl",
            role="supervisor" if name.startswith("supervisor") else "officer",
            password_hash="x",
            now=datetime.now(UTC),
        )
        account.notify_channel, account.notify_address, account.on_call = "telegram", chat, on_call


async def alerted(db: async_sessionmaker[AsyncSession]) -> list[str]:
    """The officers' chats that alerts were queued for, oldest first."""
    async with db() as session:
        query = select(OutboxMessage).where(OutboxMessage.channel == "telegram").order_by(OutboxMessage.id)
        return [row.address for row in (await session.execute(query)).scalars()]


async def conversations(db: async_sessionmaker[AsyncSession]) -> list[Conversation]:
    async with db() as session:
        return list((await session.execute(select(Conversation).order_by(Conversation.id))).scalars())


@pytest.fixture
async def linked(db: async_sessionmaker[AsyncSession]) -> None:
    """Rengo: Soto (on call) and Pérez; Machalí: Rojas; a supervisor; Díaz never linked a chat."""
    await officer(db, "soto", "rengo", chat="1001", on_call=True)
    await officer(db, "perez", "rengo", chat="1002")
    await officer(db, "rojas", "machali", chat="2001")
    await officer(db, "supervisor", "rengo", chat="3001")
    await officer(db, "diaz", "pichilemu", chat=None)


async def test_without_a_commune_every_office_sees_it_and_every_linked_officer_is_told(
    new_neighbor: Callable[..., Neighbor], db, linked
) -> None:
    neighbor = new_neighbor()
    replies = await neighbor.says(DANGER)
    assert replies[0].text.startswith("⚠️") and "📞 133:" in replies[0].text  # the helpline first
    assert "todas las oficinas de la región" in replies[-2].text
    assert "¿En qué comuna vive?" in replies[-1].text
    (waiting,) = await conversations(db)
    assert (waiting.office_id, waiting.urgent, waiting.status) == (None, True, "waiting")
    assert sorted(await alerted(db)) == ["1001", "1002", "2001"]  # no supervisor, nobody unlinked

    await neighbor.says("estoy en la casa, por favor")  # not a commune: it joins the conversation
    await neighbor.says("vivo en coya")
    (moved,) = await conversations(db)
    assert (moved.id, moved.office_id) == (waiting.id, "machali")
    assert (await alerted(db))[3:] == ["2001"]  # now Machalí's officers hear of it as theirs
    async with db() as session:
        texts = (
            await session.scalars(
                select(Message.text).where(Message.conversation_id == moved.id, Message.direction == "in")
            )
        ).all()
    assert texts == [DANGER, "estoy en la casa, por favor", "vivo en coya"]


async def test_out_of_hours_the_helpline_comes_before_the_opening_time(
    new_neighbor: Callable[..., Neighbor], tuesday_night: datetime
) -> None:
    neighbor = new_neighbor(clock=tuesday_night)
    await neighbor.says("hola")
    await neighbor.says("rengo")
    *_, queued = await neighbor.says("ya no quiero vivir, tengo las pastillas")
    text = queued.text
    assert text.startswith("La oficina está cerrada ahora: si está en peligro, llame ya al *4141")
    assert text.index("*4141") < text.index("le responderán a partir del miércoles")


async def test_out_of_hours_without_a_commune_the_helpline_is_repeated(
    new_neighbor: Callable[..., Neighbor], tuesday_night: datetime
) -> None:
    replies = await new_neighbor(clock=tuesday_night).says(DANGER)
    assert "Ahora las oficinas están cerradas: si está en peligro, llame ya al 133" in replies[-2].text


async def test_at_night_only_officers_on_call_hear_of_an_urgent_conversation(
    new_neighbor: Callable[..., Neighbor], tuesday_night: datetime, db, linked
) -> None:
    calm = new_neighbor(clock=tuesday_night)
    await calm.says("quiero conversar con alguien")
    await calm.says("rengo")
    assert await alerted(db) == []  # it waits for the morning, as the neighbor was told
    worried = new_neighbor(clock=tuesday_night)
    await worried.says("hola")
    await worried.says("rengo")
    await worried.says(DANGER)
    assert await alerted(db) == ["1001"]


async def test_at_night_with_nobody_on_call_every_linked_officer_hears_of_it(
    new_neighbor: Callable[..., Neighbor], tuesday_night: datetime, db
) -> None:
    await officer(db, "perez", "rengo", chat="1002")
    await officer(db, "gonzalez", "rengo", chat="1003")
    neighbor = new_neighbor(clock=tuesday_night)
    await neighbor.says("hola")
    await neighbor.says("rengo")
    await neighbor.says(DANGER)
    assert sorted(await alerted(db)) == ["1002", "1003"]


async def test_in_office_hours_every_linked_officer_of_the_office_hears_of_it(
    new_neighbor: Callable[..., Neighbor], db, linked
) -> None:
    neighbor = new_neighbor()
    await neighbor.says("quiero conversar con alguien")
    await neighbor.says("rengo")
    assert sorted(await alerted(db)) == ["1001", "1002"]
