import math

import pytest

from routing.directory import DirectoryError
from routing.geo import CommuneMap
from routing.understand import DEFAULT_DATA_DIR, Understander


def test_every_commune_contains_its_inside_point(understander: Understander) -> None:
    for commune in understander.directory.communes.values():
        guess = understander.locate(*commune.inside_point)
        assert guess.commune == commune.name or guess.candidates[0] == commune.name, commune.name


@pytest.mark.parametrize(
    ("latitude", "longitude", "commune"),
    [
        (-34.1703, -70.7407, "Rancagua"),  # Plaza de los Héroes
        (-34.3871, -72.0039, "Pichilemu"),
        (-34.5853, -70.9890, "San Fernando"),
        (-34.6405, -71.3676, "Santa Cruz"),
        (-34.1939, -70.6565, "Machalí"),  # Coya
    ],
)
def test_a_shared_location_falls_in_its_commune(
    understander: Understander, latitude: float, longitude: float, commune: str
) -> None:
    assert understander.locate(latitude, longitude).commune == commune


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        (-33.4372, -70.6506),  # Santiago, Plaza de Armas
        (-35.4264, -71.6554),  # Talca
        (-34.40, -72.60),  # the Pacific
        (math.nan, -70.7),
        (91.0, 0.0),
    ],
)
def test_nothing_outside_the_region(understander: Understander, latitude: float, longitude: float) -> None:
    guess = understander.locate(latitude, longitude)
    assert guess.commune is None and not guess.candidates


def test_near_a_border_both_communes_are_candidates(understander: Understander) -> None:
    # A point on the Rancagua–Machalí border, found from the polygons themselves.
    rancagua = understander.commune_map
    point = _border_point(rancagua, "Rancagua", "Machalí")
    guess = understander.locate(*point)
    assert guess.commune is None
    assert set(guess.candidates) == {"Rancagua", "Machalí"}


def _border_point(commune_map: CommuneMap, first: str, second: str) -> tuple[float, float]:
    """Walk east from central Rancagua until the answer changes: that is the border."""
    latitude, longitude = -34.1703, -70.7407
    while commune_map.locate(latitude, longitude).commune == first:
        longitude += 0.002
    return latitude, longitude


def test_polygons_must_match_the_directory(tmp_path, understander: Understander) -> None:
    broken = tmp_path / "communes.geojson"
    text = (DEFAULT_DATA_DIR / "communes.geojson").read_text(encoding="utf-8")
    broken.write_text(text.replace('"commune": "Lolol"', '"commune": "Lolo"'), encoding="utf-8")
    with pytest.raises(DirectoryError, match="unknown commune 'Lolo'"):
        CommuneMap.from_geojson(broken, understander.directory)
