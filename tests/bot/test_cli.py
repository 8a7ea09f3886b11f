"""The `vecinos` command line, run as a newcomer would: a real process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from routing.understand import DEFAULT_DATA_DIR

SPEC_KEYS = {"intent", "emergency", "commune", "office_id", "topic", "ask_danger", "confidence"}


def vecinos(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )


def test_explain_prints_one_json_object() -> None:
    done = vecinos("explain", "hay gente vendiendo droga en la plaza de rengo")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert 0 <= result.pop("confidence") < 0.4
    assert result == {
        "intent": "report",
        "emergency": None,
        "commune": "Rengo",
        "office_id": "rengo",
        "topic": "drugs",
        "ask_danger": False,
    }


def test_explain_asks_when_unsure_and_is_sure_of_a_plain_emergency() -> None:
    unsure = json.loads(vecinos("explain", "tengo todas las pastillas aca").stdout)
    assert unsure["ask_danger"] is True and unsure["emergency"] is None
    sure = json.loads(vecinos("explain", "estan forzando la reja del vecino con un fierro, vengan").stdout)
    assert sure["emergency"]["kind"] == "danger" and sure["ask_danger"] is False
    assert sure["confidence"] == 1.0


def test_explain_with_a_known_commune() -> None:
    done = vecinos("explain", "quiero hablar con alguien", "--commune", "machali")
    result = json.loads(done.stdout)
    assert (result["intent"], result["commune"], result["office_id"]) == ("talk", "Machalí", "machali")


def test_explain_refuses_an_unknown_commune() -> None:
    done = vecinos("explain", "hola", "--commune", "Talca")
    assert done.returncode == 2
    assert "Talca" in done.stderr and not done.stdout


def test_explain_batch_prints_one_line_per_message(tmp_path: Path) -> None:
    messages = tmp_path / "messages.txt"
    messages.write_text("hola\nno aguanto mas, quiero desaparecer\n\nvivo en coya 😀\n", encoding="utf-8")
    done = vecinos("explain", "--batch", str(messages))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 4
    assert all(set(line) == SPEC_KEYS for line in lines)
    assert lines[1]["emergency"]["kind"] == "suicide"
    assert lines[3]["commune"] == "Machalí"


def test_explain_batch_from_stdin() -> None:
    done = vecinos("explain", "--batch", "-", stdin="sn fdo\nrgua\n")
    assert [json.loads(line)["commune"] for line in done.stdout.splitlines()] == ["San Fernando", "Rancagua"]


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("explain",), "give TEXT or --batch FILE"),
        (("explain", "hola", "--batch", "x.txt"), "give TEXT or --batch FILE"),
        (("explain", "--batch", "does-not-exist.txt"), "does-not-exist.txt"),
    ],
)
def test_explain_usage_errors(args: tuple[str, ...], complaint: str) -> None:
    done = vecinos(*args)
    assert done.returncode == 2
    assert complaint in done.stderr


def test_offices_table_marks_what_is_unconfirmed() -> None:
    done = vecinos("offices")
    assert done.returncode == 0, done.stderr
    assert "rancagua-oriente" in done.stdout
    assert "por confirmar" in done.stdout
    assert "18 oficinas, 33 comunas" in done.stdout


def test_offices_json_lists_every_office() -> None:
    done = vecinos("offices", "--json")
    offices = json.loads(done.stdout)["offices"]
    assert len(offices) == 18
    rancagua = next(o for o in offices if o["id"] == "rancagua-oriente")
    assert {"id", "name", "communes"} <= set(rancagua)
    assert rancagua["communes"] == ["Rancagua"]
    assert rancagua["sectors"] == {"Rancagua Oriente": "Rancagua", "Diego Portales": "Rancagua"}
    assert rancagua["address"] is None
    assert {"address", "phone", "hours", "communes"} <= set(rancagua["to_confirm"])


def test_bad_data_is_reported_not_a_traceback(tmp_path: Path) -> None:
    data = Path(shutil.copytree(DEFAULT_DATA_DIR, tmp_path / "data"))
    (data / "offices.toml").write_text('[[office]]\nid = "x"\n', encoding="utf-8")
    (tmp_path / ".env").write_text(f"DATA_DIR={data}\n", encoding="utf-8")
    done = vecinos("offices", cwd=tmp_path)
    assert done.returncode == 3
    assert "office 'x': missing 'name'" in done.stderr
    assert "Traceback" not in done.stderr
