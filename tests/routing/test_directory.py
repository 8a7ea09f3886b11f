import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from routing.directory import DirectoryError, load_directory, parse_hours
from routing.understand import DEFAULT_DATA_DIR


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the data folder, to break on purpose."""
    return Path(shutil.copytree(DEFAULT_DATA_DIR, tmp_path / "data"))


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_region_has_33_communes_and_18_offices() -> None:
    directory = load_directory(DEFAULT_DATA_DIR)
    assert len(directory.communes) == 33
    assert len(directory.offices) == 18
    prefectures = {o.prefecture for o in directory.offices.values()}
    assert prefectures == {"Cachapoal", "Colchagua"}
    for commune in directory.communes.values():
        assert directory.offices_for(commune.name), commune.name


def test_rancagua_has_two_offices_and_the_sector_decides() -> None:
    directory = load_directory(DEFAULT_DATA_DIR)
    assert {o.id for o in directory.offices_for("Rancagua")} == {"rancagua", "rancagua-oriente"}
    assert directory.office_for("Rancagua") is None
    assert directory.office_for("Rancagua", "Diego Portales").id == "rancagua-oriente"
    assert directory.office_for("Rancagua", "Rancagua Norte").id == "rancagua"
    assert directory.office_for("Lolol").id == "santa-cruz"


def test_unpublished_facts_are_marked_to_confirm() -> None:
    directory = load_directory(DEFAULT_DATA_DIR)
    for office in directory.offices.values():
        assert not office.is_confirmed("address")
        assert not office.is_confirmed("hours")
        assert "communes" in office.to_confirm


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "offices.toml",
            'communes = ["Rancagua"]',
            'communes = ["Rancagüita"]',
            "unknown commune 'Rancagüita'",
        ),
        ("offices.toml", 'communes = ["Machalí"]', "communes = []", "office 'machali': missing 'communes'"),
        (
            "offices.toml",
            '"Peumo", "Las Cabras", "Pichidegua"',
            '"Peumo", "Las Cabras"',
            "commune 'Pichidegua': served by no office",
        ),
        (
            "communes.toml",
            '"Diego Portales" = "rancagua-oriente"',
            '"Diego Portales" = "machali"',
            "sector 'Diego Portales' is mapped to office 'machali'",
        ),
        (
            "offices.toml",
            '"lun-vie 08:30-17:30"',
            '"lun-vie 17:30-08:30"',
            "office 'rancagua': bad hour range",
        ),
        ("offices.toml", '"lun-vie 08:30-17:30"', '"lunes 8-5"', "office 'rancagua': bad hours 'lunes 8-5'"),
        ("offices.toml", 'id = "graneros"', 'id = "rancagua"', "office 'rancagua': duplicate id"),
        ("offices.toml", "[[office]]", "[[office]\n", "offices.toml"),
    ],
)
def test_bad_data_fails_naming_the_entry(
    data_copy: Path, file: str, old: str, new: str, message: str
) -> None:
    replace_in(data_copy / file, old, new)
    with pytest.raises(DirectoryError, match=re.escape(message)):
        load_directory(data_copy)


def test_missing_file_is_named(data_copy: Path) -> None:
    (data_copy / "offices.toml").unlink()
    with pytest.raises(DirectoryError, match=r"offices\.toml: file not found"):
        load_directory(data_copy)


def test_an_admin_can_add_a_sector_and_a_confirmed_address(data_copy: Path) -> None:
    replace_in(
        data_copy / "communes.toml",
        '"Diego Portales" = "rancagua-oriente"',
        '"Diego Portales" = "rancagua-oriente"\n"Villa Triana" = "rancagua"',
    )
    replace_in(data_copy / "offices.toml", 'address = ""', 'address = "Av. Brasil 1234"')
    replace_in(
        data_copy / "offices.toml",
        'to_confirm = ["communes", "address", "phone", "hours"]',
        'to_confirm = ["phone"]',
    )
    directory = load_directory(data_copy)
    assert directory.office_for("Rancagua", "Villa Triana").id == "rancagua"
    office = directory.offices["rancagua"]
    assert office.is_confirmed("address") and office.is_confirmed("hours")


def test_opening_hours() -> None:
    office = load_directory(DEFAULT_DATA_DIR).offices["rengo"]
    tuesday_noon = datetime(2026, 11, 24, 12, 0)
    friday_evening = datetime(2026, 11, 27, 18, 0)
    assert office.is_open(tuesday_noon)
    assert not office.is_open(friday_evening)
    assert office.next_opening(friday_evening) == datetime(2026, 11, 30, 8, 30)
    assert office.next_opening(tuesday_noon) == tuesday_noon


def test_parse_hours_accepts_single_days_and_midnight() -> None:
    hours = parse_hours("sab 20:00-24:00")
    assert list(hours.days) == [5]
    assert hours.covers(5, 23 * 60 + 59)
    assert not hours.covers(6, 21 * 60)
