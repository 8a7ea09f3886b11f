import pytest

from routing.understand import Understander

# (neighbor says, intent, topic)
DIALOG = [
    ("solo quiero conversar con alguien", "talk", None),
    ("necesito hablar con un carabinero", "talk", None),
    ("me siento muy sola", "talk", None),
    ("como me protejo del cuento del tio", "advice", "phone_scam"),
    ("q hago si me asaltan en la micro", "advice", "street"),
    ("consejos pa cuando me voy de vacaciones", "advice", "holidays"),
    ("como hablo con mi hijo de las drogas", "advice", "drugs"),
    ("hay gente vendiendo droga en la plaza de rengo", "report", "drugs"),
    ("los del lado hacen fiesta hasta las 5 😡", "report", "noise"),
    ("hace un mes me robaron la bici", "report", "theft"),
    ("el poste de la esquina esta apagado hace semanas", "report", "lighting"),
    ("tiran basura en el sitio eriazo", "report", "dumping"),
    ("donde queda la oficina de rengo", "office_info", None),
    ("a q hora atienden", "office_info", None),
    ("cual es el telefono del cuadrante", "office_info", None),
    ("quiero recibir los consejos de prevencion", "subscribe", None),
    ("ALTA", "subscribe", None),
    ("BAJA", "unsubscribe", None),
    ("stop", "unsubscribe", None),
    ("no me manden mas mensajes", "unsubscribe", None),
    ("holaaa", "greeting", None),
    ("buenas tardes, soy de rengo", "greeting", None),
    ("asdf", "unknown", None),
    ("cuanto sale el pasaje a stgo", "unknown", None),
    ("", "unknown", None),
]


@pytest.mark.parametrize(("text", "intent", "topic"), DIALOG)
def test_intent_and_topic(understander: Understander, text: str, intent: str, topic: str | None) -> None:
    result = understander.understand(text)
    assert (result.intent, result.topic) == (intent, topic)


def test_suicide_risk_is_always_a_call_to_talk(understander: Understander) -> None:
    assert understander.understand("no aguanto mas quiero desaparecer").intent == "talk"
    assert understander.understand("mi hijo dice q se quiere matar").intent == "talk"


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("queremos pedir una charla de prevencion de drogas para los apoderados del colegio", "charla"),
        ("mi vecina de 90 vive sola, podrian pasar a verla de vez en cuando?", "visita"),
        ("la villa quiere una reunion con carabineros por los robos", "reunion"),
    ],
)
def test_a_request_for_something_in_person_is_an_activity(
    understander: Understander, text: str, topic: str
) -> None:
    result = understander.understand(text)
    assert (result.intent, result.topic) == ("activity", topic)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hola, soy de litueche, alguien me puede atender?", "talk"),
        ("buenas tardes, me gustaria recibir los consejos de prevencion", "subscribe"),
        ("hola, quiero dejar de recibir los mensajes", "unsubscribe"),
    ],
)
def test_a_greeting_followed_by_a_request_is_the_request(
    understander: Understander, text: str, intent: str
) -> None:
    assert understander.understand(text).intent == intent
