"""Each intent, as a neighbor goes through it (SPEC §4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select

from db.models import Conversation, Message, Report, ReportFollower
from tests.conftest import SANTIAGO
from tests.doubles.neighbor import Neighbor


async def registered(
    new_neighbor: Callable[..., Neighbor], commune: str = "rengo", **kwargs: object
) -> Neighbor:
    neighbor = new_neighbor(**kwargs)
    await neighbor.says("hola")
    await neighbor.says(commune)
    return neighbor


async def test_talk_queues_and_later_messages_join_the_same_conversation(new_neighbor, db) -> None:
    first = await registered(new_neighbor)
    (reply,) = await first.says("1")
    assert "quedó en la fila de la Oficina de Integración Comunitaria Rengo" in reply.text
    assert "Usted es el siguiente en la fila." in reply.text
    assert "le responderán a partir" not in reply.text  # Tuesday 11:00: open

    second = await registered(new_neighbor)
    (reply,) = await second.says("quiero hablar con alguien")
    assert "Hay 1 conversaciones antes que la suya." in reply.text

    assert await first.says("se escuchan ruidos raros en la noche") == []
    assert await first.says("gracias") == []
    async with db() as session:
        conversations = (
            (await session.execute(select(Conversation).where(Conversation.office_id == "rengo")))
            .scalars()
            .all()
        )
        assert len(conversations) == 2
        texts = (
            (
                await session.execute(
                    select(Message.text).where(
                        Message.conversation_id == conversations[0].id, Message.direction == "in"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert "se escuchan ruidos raros en la noche" in texts and "gracias" in texts


async def test_out_of_hours_the_neighbor_is_told_when_they_will_be_answered(new_neighbor) -> None:
    saturday_night = datetime(2026, 11, 28, 22, 0, tzinfo=SANTIAGO)
    neighbor = await registered(new_neighbor, clock=saturday_night)
    (reply,) = await neighbor.says("1")
    assert "le responderán a partir del lunes 30 de noviembre a las 08:30" in reply.text


async def test_advice_topics_then_the_offer_to_talk(new_neighbor) -> None:
    neighbor = await registered(new_neighbor)
    (topics,) = await neighbor.says("2")
    assert topics.options[0].label.startswith("Estafas por teléfono")
    tip, offer = await neighbor.says("1")
    assert "•" in tip.text and "133" in tip.text
    assert [o.label for o in offer.options] == [
        "Conversar con un funcionario",
        "Ver otro consejo",
        "Volver al menú",
    ]
    (reply,) = await neighbor.says("1")
    assert "quedó en la fila" in reply.text


async def test_advice_from_free_text_goes_straight_to_the_topic(new_neighbor) -> None:
    neighbor = await registered(new_neighbor)
    tip, _ = await neighbor.says("como me protejo del cuento del tio")
    assert tip.text.startswith("Estafas por teléfono")


async def test_a_first_message_that_reports_goes_straight_to_the_report(new_neighbor, db) -> None:
    neighbor = new_neighbor()
    welcome, card, place = await neighbor.says("hay gente vendiendo droga en la plaza de rengo")
    assert "Vecinos" in welcome.text
    assert "Oficina de Integración Comunitaria Rengo" in card.text
    assert place.asks_location and "¿Dónde ocurre?" in place.text
    (landmark,) = await neighbor.says(location=(-34.4057, -70.8563))
    assert "punto de referencia" in landmark.text
    (photo,) = await neighbor.says("frente a la iglesia")
    assert "foto" in photo.text
    filed, queued = await neighbor.says(photo="abc123.jpg")
    assert "Recibimos su aviso N° 2026-0" in filed.text and "Venta o consumo de drogas" in filed.text
    assert "no su número" in filed.text  # anonymous by default
    assert "quedó en la fila" in queued.text
    async with db() as session:
        report = (await session.execute(select(Report))).scalar_one()
        conversation = await session.get(Conversation, report.conversation_id)
    assert (report.office_id, report.commune, report.category) == ("rengo", "Rengo", "drugs")
    assert report.description == "hay gente vendiendo droga en la plaza de rengo"
    assert report.place == "frente a la iglesia" and report.photo_ref == "abc123.jpg"
    assert (report.latitude, report.longitude) == (-34.4057, -70.8563)
    assert (conversation.intent, conversation.status, conversation.topic) == ("report", "waiting", "drugs")


async def test_a_report_step_by_step_with_a_category_menu(new_neighbor) -> None:
    neighbor = await registered(new_neighbor, "chepica")
    (categories,) = await neighbor.says("3")
    assert len(categories.options) == 12
    (description,) = await neighbor.says("2")  # ruidos molestos
    assert "qué pasa" in description.text
    (place,) = await neighbor.says("fiestas todas las noches hasta las 5")
    assert place.asks_location
    (photo,) = await neighbor.says("1")  # no exact place
    assert photo.options[0].label == "Seguir sin foto"
    filed, _ = await neighbor.says("1")  # no photo
    assert "Ruidos molestos" in filed.text


async def test_a_nearby_open_report_is_offered_to_follow(new_neighbor, db) -> None:
    first = await registered(new_neighbor)
    await first.says("3")
    await first.says("1")  # drugs
    await first.says("venden droga en la esquina")
    await first.says(location=(-34.4057, -70.8563))
    await first.says("1")
    await first.says("1")

    second = await registered(new_neighbor)
    await second.says("hay un punto de venta de drogas en mi pasaje")
    await second.says(location=(-34.4060, -70.8570))  # about 70 m away
    await second.says("1")
    (offer,) = await second.says("1")
    assert "Ya hay un aviso abierto parecido cerca: N° 2026-" in offer.text
    (following,) = await second.says("1")
    assert "le avisaremos por aquí cuando cambie el estado del aviso" in following.text
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
        assert await session.scalar(select(func.count()).select_from(ReportFollower)) == 1


async def test_a_far_report_is_not_a_duplicate(new_neighbor, db) -> None:
    for latitude in (-34.4057, -34.4157):  # about 1.1 km apart
        neighbor = await registered(new_neighbor)
        await neighbor.says("venden droga en la plaza todas las noches")
        await neighbor.says(location=(latitude, -70.8563))
        await neighbor.says("1")
        filed, _ = await neighbor.says("1")
        assert "Recibimos su aviso" in filed.text
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 2


async def test_sharing_the_number_is_asked_where_the_channel_has_one(new_neighbor) -> None:
    neighbor = await registered(new_neighbor, contact_shareable=True)
    await neighbor.says("se robaron los cables del alumbrado en mi calle anoche")
    await neighbor.says("1")  # no exact place
    (contact,) = await neighbor.says("1")  # no photo
    assert "no su número" in contact.text
    filed, _ = await neighbor.says("2")  # share it
    assert "podrá ver su número" in filed.text
    row = await neighbor.row()
    assert row.shares_contact


async def test_subscribe_and_unsubscribe(new_neighbor) -> None:
    neighbor = await registered(new_neighbor)
    (reply,) = await neighbor.says("4")
    assert "le enviaremos consejos de prevención de la Oficina de Integración Comunitaria Rengo" in reply.text
    assert reply.options[3].label == "Dejar de recibir consejos"
    (reply,) = await neighbor.says("BAJA")
    assert "no le enviaremos más consejos" in reply.text
    (reply,) = await neighbor.says("alta")
    assert "le enviaremos consejos" in reply.text
    (reply,) = await neighbor.says("stop")
    row = await neighbor.row()
    assert not row.subscribed


async def test_office_info(new_neighbor) -> None:
    neighbor = await registered(new_neighbor, "marchigue")
    (reply,) = await neighbor.says("5")
    assert "Oficina de Integración Comunitaria Marchigüe" in reply.text
    assert "Teléfono: por confirmar" in reply.text
    (reply,) = await neighbor.says("a que hora atienden")
    assert "Horario de atención: lunes a viernes de 08:30 a 17:30 (por confirmar)" in reply.text


async def test_a_request_for_a_charla_waits_for_the_office_to_arrange_it(new_neighbor, db) -> None:
    neighbor = new_neighbor()
    replies = await neighbor.says("queremos una charla sobre estafas para el club de adulto mayor de rengo")
    assert "Recibimos su solicitud de una charla" in replies[-2].text
    assert "quedó en la fila de la Oficina de Integración Comunitaria Rengo" in replies[-1].text
    async with db() as session:
        conversation = (await session.execute(select(Conversation))).scalar_one()
    assert (conversation.intent, conversation.topic, conversation.urgent) == ("activity", "charla", False)
