import pytest

from routing.understand import Understander

RESOLVED = [
    ("vivo en machali", "Machalí", None),
    ("MACHALIIII", "Machalí", None),
    ("vivo en la poblacion x de rengo", "Rengo", None),
    ("vivo en coya", "Machalí", None),
    ("en lo miranda", "Doñihue", None),
    ("soy de pelequen", "Malloa", None),
    ("gultro", "Olivar", None),
    ("doñigue", "Doñihue", None),
    ("sn fdo", "San Fernando", None),
    ("rgua", "Rancagua", None),
    ("vivo en pichilemo", "Pichilemu", None),
    ("chimbarrongo", "Chimbarongo", None),
    ("marchigüe", "Marchihue", None),
    ("san vicente de tagua tagua", "San Vicente", None),
    ("san francisco de mostazal", "Mostazal", None),
    ("sta cruz", "Santa Cruz", None),
    ("qta de tilcoco", "Quinta de Tilcoco", None),
    ("vivo en quinta", "Quinta de Tilcoco", None),
    ("santa teresa de lolol", "Lolol", None),
    ("soy de la estrella", "La Estrella", None),
    ("la estrella de quinta", "Quinta de Tilcoco", None),
    ("vivo en navidad", "Navidad", None),
    ("Navidad", "Navidad", None),
    ("vivo en las cabras", "Las Cabras", None),
    ("vivo en rancagua oriente", "Rancagua", "Rancagua Oriente"),
    ("vivo en rgua oriente", "Rancagua", "Rancagua Oriente"),
    ("sector diego portales", "Rancagua", "Diego Portales"),
    ("en el manzanal", "Rancagua", None),
    ("vivo en rosario de rengo", "Rengo", None),
    ("vivo en rengo pero trabajo en rancagua", "Rengo", None),
]


@pytest.mark.parametrize(("text", "commune", "sector"), RESOLVED)
def test_commune_named_in_free_text(
    understander: Understander, text: str, commune: str, sector: str | None
) -> None:
    guess = understander.communes.resolve(text)
    assert (guess.commune, guess.sector) == (commune, sector)


@pytest.mark.parametrize(
    ("text", "candidates"),
    [
        ("vivo en rosario", ("Peumo", "Rengo")),
        ("millahue", ("Coinco", "San Vicente")),
        ("vivo en santa teresa", ("Lolol", "Machalí")),
        ("en rapel", ("Las Cabras", "Navidad")),
    ],
)
def test_a_name_of_several_communes_returns_the_candidates(
    understander: Understander, text: str, candidates: tuple[str, ...]
) -> None:
    guess = understander.communes.resolve(text)
    assert guess.is_ambiguous
    assert guess.candidates == candidates


@pytest.mark.parametrize(
    "text",
    [
        "feliz navidad",
        "que hago para navidad si salgo de viaje",
        "las cabras del vecino se comen mis plantas",
        "es la quinta vez que escribo",
        "en la punta del cerro hay basura",
        "tengo un problema con mi cuñado",
        "pero el vecino tiene perros",
        "la señora rosario vive sola",
        "vivo en santiago",
        "vivo en talca",
        "botan basura debajo de los nogales",
        "",
        "😀👍",
    ],
)
def test_ordinary_words_and_other_regions_are_no_commune(understander: Understander, text: str) -> None:
    guess = understander.communes.resolve(text)
    assert guess.commune is None and not guess.candidates


def test_a_huge_message_is_resolved(understander: Understander) -> None:
    text = "hay ruidos molestos todas las noches " * 5000 + "en rengo"
    assert understander.communes.resolve(text).commune == "Rengo"
