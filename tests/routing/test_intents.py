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


def test_a_crisis_without_a_request_is_a_call_to_talk(understander: Understander) -> None:
    assert understander.understand("no aguanto mas quiero desaparecer").intent == "talk"
    assert understander.understand("mi hijo dice q se quiere matar").intent == "report"
