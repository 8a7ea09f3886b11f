"""First contact, commune and office (SPEC §4)."""

from __future__ import annotations

from collections.abc import Callable

from tests.doubles.neighbor import Neighbor


async def test_first_contact_says_who_we_are_and_asks_the_commune(
    new_neighbor: Callable[..., Neighbor],
) -> None:
    neighbor = new_neighbor()
    replies = await neighbor.says("hola")
    welcome, question = replies
    assert "Vecinos" in welcome.text
    assert "133" in welcome.text and "*4242" in welcome.text  # not an emergency line
    assert "BORRAR" in welcome.text  # the privacy notice
    assert "comuna" in question.text and question.asks_location


async def test_commune_from_text_confirms_the_office_then_the_menu(
    new_neighbor: Callable[..., Neighbor],
) -> None:
    neighbor = new_neighbor()
    await neighbor.says("hola")
    (reply,) = await neighbor.says("vivo en coya")
    assert "Oficina de Integración Comunitaria Machalí" in reply.text
    assert "Dirección: por confirmar" in reply.text
    assert "lunes a viernes de 08:30 a 17:30 (por confirmar)" in reply.text
    assert [o.label for o in reply.options][:3] == [
        "Conversar con la oficina",
        "Pedir un consejo de prevención",
        "Avisar un problema del barrio",
    ]


async def test_commune_from_a_shared_location(new_neighbor: Callable[..., Neighbor]) -> None:
    neighbor = new_neighbor()
    await neighbor.says("hola")
    (reply,) = await neighbor.says(location=(-34.5853, -70.9890))
    assert "San Fernando" in reply.text


async def test_a_location_outside_the_region_is_explained(new_neighbor: Callable[..., Neighbor]) -> None:
    neighbor = new_neighbor()
    await neighbor.says("hola")
    (reply,) = await neighbor.says(location=(-33.4372, -70.6506))  # Santiago
    assert "fuera de la Región de O'Higgins" in reply.text
    (reply,) = await neighbor.says("rengo")
    assert "Rengo" in reply.text


async def test_an_unknown_commune_is_asked_again(new_neighbor: Callable[..., Neighbor]) -> None:
    neighbor = new_neighbor()
    await neighbor.says("hola")
    (reply,) = await neighbor.says("vivo en talca")
    assert "No reconocí la comuna" in reply.text and reply.asks_location
    (reply,) = await neighbor.says("pichilemo")
    assert "Pichilemu" in reply.text


async def test_an_ambiguous_place_offers_the_candidates(new_neighbor: Callable[..., Neighbor]) -> None:
    neighbor = new_neighbor()
    await neighbor.says("hola")
    (reply,) = await neighbor.says("vivo en rosario")
    assert [o.label for o in reply.options] == ["Peumo", "Rengo", "Ninguna de estas"]
    (reply,) = await neighbor.says("2")
    assert "Oficina de Integración Comunitaria Rengo" in reply.text


async def test_near_a_border_the_neighbor_is_asked(
    new_neighbor: Callable[..., Neighbor], understander
) -> None:
    neighbor = new_neighbor()
    await neighbor.says("hola")
    latitude, longitude = -34.1703, -70.7407
    while understander.locate(latitude, longitude).commune == "Rancagua":
        longitude += 0.002
    (reply,) = await neighbor.says(location=(latitude, longitude))
    assert "límite" in reply.text
    assert {o.label for o in reply.options} >= {"Rancagua", "Machalí"}


async def test_rancagua_asks_which_office_unless_the_sector_says(
    new_neighbor: Callable[..., Neighbor],
) -> None:
    neighbor = new_neighbor()
    await neighbor.says("hola")
    (reply,) = await neighbor.says("rancagua")
    assert "más de una oficina" in reply.text
    assert any("Rancagua Oriente" in o.label and "Diego Portales" in o.label for o in reply.options)
    (reply,) = await neighbor.says("2")
    assert "Oficina de Integración Comunitaria Rancagua Oriente" in reply.text

    other = new_neighbor()
    await other.says("hola")
    (reply,) = await other.says("vivo en rancagua norte")
    assert "Oficina de Integración Comunitaria Rancagua (1ª Comisaría Rancagua)" in reply.text


async def test_the_commune_can_be_changed_at_any_time(new_neighbor: Callable[..., Neighbor]) -> None:
    neighbor = new_neighbor()
    await neighbor.says("hola")
    await neighbor.says("rengo")
    (reply,) = await neighbor.says("COMUNA")
    assert "¿En qué comuna vive?" in reply.text
    (reply,) = await neighbor.says("lolol")
    assert "Oficina de Integración Comunitaria Santa Cruz" in reply.text
    row = await neighbor.row()
    assert (row.commune, row.office_id) == ("Lolol", "santa-cruz")
    assert row.consented_at is not None


async def test_the_commune_answer_may_carry_the_request(new_neighbor: Callable[..., Neighbor]) -> None:
    neighbor = new_neighbor()
    await neighbor.says("hola")
    card, queued = await neighbor.says("vivo en rengo, quiero hablar con alguien")
    assert "Oficina de Integración Comunitaria Rengo" in card.text
    assert "quedó en la fila" in queued.text
