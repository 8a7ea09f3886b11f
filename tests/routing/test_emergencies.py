from datetime import datetime

import pytest

from routing.understand import Understander
from tests.conftest import SANTIAGO

EMERGENCIES = [
    # danger: happening now, or minutes ago
    ("me estan robando ayuda", "danger"),
    ("hay un tipo con pistola afuera de mi casa", "danger"),
    ("estan entrando a la casa del lado", "danger"),
    ("acaban de asaltar a mi vecina", "danger"),
    ("balazos en la pobla ahora", "danger"),
    # suicide, including indirect phrasings and about someone else
    ("no aguanto mas, quiero desaparecer", "suicide"),
    ("ya no tiene sentido seguir", "suicide"),
    ("tengo las pastillas aca y me las voy a tomar todas", "suicide"),
    ("mi hijo dice q se quiere matar", "suicide"),
    ("todos estarian mejor sin mi", "suicide"),
    # violence against women
    ("mi pareja me pega", "violence_women"),
    ("mi ex me amenaza con matarme", "violence_women"),
    ("el marido de mi vecina le pega todas las noches", "violence_women"),
    ("mi pololo me zamarrea y me empuja", "violence_women"),
    # children
    ("el vecino le pega a su niño", "child"),
    ("hay un niño chico solo en la calle llorando hace horas", "child"),
    ("un caballero le muestra cosas a los niños en la plaza", "child"),
    # fire
    ("se esta quemando la casa de al lado", "fire"),
    ("hay humo y llamas en el cerro", "fire"),
    ("incendio forestal ahora en mostazal", "fire"),
    # medical
    ("mi abuelito se cayo y no respira", "medical"),
    ("mi esposo tiene dolor en el pecho y se puso morado", "medical"),
    ("una señora se desmayo en la feria", "medical"),
]

NOT_EMERGENCIES = [
    "¿qué hago si me asaltan?",
    "hace un mes me robaron la bici",
    "el año pasado hubo un incendio en el cerro",
    "como prevenir incendios en verano",
    "consejos sobre violencia intrafamiliar",
    "me muero de risa",
    "este calor me mata",
    "estoy muerta de cansancio",
    "se me quemo el arroz jaja",
    "la fiesta estuvo que ardia",
    "me quiero morir de verguenza",
    "todas las noches venden droga en la esquina",
    "no aguanto mas el ruido de los vecinos",
    "hola buenas tardes",
    "",
]


@pytest.mark.parametrize(("text", "kind"), EMERGENCIES)
def test_emergencies_are_found(
    understander: Understander, tuesday_morning: datetime, text: str, kind: str
) -> None:
    emergency = understander.understand(text, at=tuesday_morning).emergency
    assert emergency is not None and emergency.kind == kind


@pytest.mark.parametrize("text", NOT_EMERGENCIES)
def test_past_prevention_and_idioms_are_not_emergencies(
    understander: Understander, tuesday_morning: datetime, text: str
) -> None:
    assert understander.understand(text, at=tuesday_morning).emergency is None


@pytest.mark.parametrize(
    ("kind", "lines"),
    [
        ("danger", ("133",)),
        ("suicide", ("*4141", "600 360 7777")),
        ("violence_women", ("1455", "149")),
        ("child", ("147", "149")),
        ("fire", ("132", "133")),
        ("medical", ("131",)),
    ],
)
def test_each_kind_has_its_line(
    understander: Understander, tuesday_morning: datetime, kind: str, lines: tuple[str, ...]
) -> None:
    assert understander.emergencies.lines_for(kind, tuesday_morning) == lines


@pytest.mark.parametrize(
    ("at", "first_line"),
    [
        (datetime(2026, 11, 24, 11, 0), "1455"),  # Tuesday morning
        (datetime(2026, 11, 24, 23, 59), "1455"),  # open until midnight
        (datetime(2026, 11, 25, 3, 0), "149"),  # Wednesday, 03:00
        (datetime(2026, 11, 29, 12, 0), "149"),  # Sunday
        (datetime(2026, 9, 18, 12, 0), "149"),  # Fiestas Patrias, a Friday
    ],
)
def test_1455_is_given_only_while_open(understander: Understander, at: datetime, first_line: str) -> None:
    emergency = understander.understand("mi pareja me pega", at=at.replace(tzinfo=SANTIAGO)).emergency
    assert emergency is not None and emergency.helpline == first_line


def test_happening_now_puts_133_first(understander: Understander, tuesday_morning: datetime) -> None:
    emergency = understander.understand(
        "mi marido me esta pegando ahora, ayuda", at=tuesday_morning
    ).emergency
    assert emergency is not None
    assert emergency.kind == "violence_women"
    assert emergency.lines[:2] == ("133", "1455")


def test_emergency_is_found_inside_a_long_message(
    understander: Understander, tuesday_morning: datetime
) -> None:
    text = "buenas tardes " * 200 + "y se esta quemando la casa del frente"
    emergency = understander.understand(text, at=tuesday_morning).emergency
    assert emergency is not None and emergency.kind == "fire"
