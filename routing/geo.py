"""Which commune a shared location falls in, from the official commune polygons.

The polygons are projected once to kilometres around the region's centre and put in a
shapely STRtree, so a lookup is a tree query of microseconds, not a scan. Borders are
simplified to a few hundred metres: a point within `NEAR_BORDER_KM` of another commune
returns both, so the conversation asks "¿X o Y?" instead of guessing.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import shapely
from shapely import STRtree
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from routing.communes import CommuneGuess
from routing.directory import Directory, DirectoryError

NEAR_BORDER_KM = 1.0
_ORIGIN_LAT, _ORIGIN_LON = -34.4, -71.2
_KM_PER_DEGREE_LAT = 110.574
_KM_PER_DEGREE_LON = 111.320 * math.cos(math.radians(_ORIGIN_LAT))


def _to_km(lon: float, lat: float) -> tuple[float, float]:
    return (lon - _ORIGIN_LON) * _KM_PER_DEGREE_LON, (lat - _ORIGIN_LAT) * _KM_PER_DEGREE_LAT


class CommuneMap:
    """Point-in-polygon lookup over the region's communes."""

    def __init__(self, polygons: dict[str, BaseGeometry]) -> None:
        self._names = list(polygons)
        self._shapes = [shapely.transform(g, _project) for g in polygons.values()]
        for geometry in self._shapes:
            shapely.prepare(geometry)
        self._tree = STRtree(self._shapes)

    @classmethod
    def from_geojson(cls, path: Path, directory: Directory) -> CommuneMap:
        """Load polygons keyed by the `commune` property, checked against the directory."""
        try:
            features = json.loads(path.read_text(encoding="utf-8"))["features"]
        except (OSError, ValueError, KeyError) as exc:
            raise DirectoryError(f"{path}: not a GeoJSON FeatureCollection ({exc})") from exc
        polygons: dict[str, BaseGeometry] = {}
        for feature in features:
            name = feature.get("properties", {}).get("commune")
            if name not in directory.communes:
                raise DirectoryError(f"{path.name}: unknown commune '{name}'")
            polygons[name] = shape(feature["geometry"])
        missing = set(directory.communes) - set(polygons)
        if missing:
            raise DirectoryError(f"{path.name}: no polygon for {', '.join(sorted(missing))}")
        return cls(polygons)

    def locate(self, latitude: float, longitude: float) -> CommuneGuess:
        """The commune at a point; candidates near a border; nothing outside the region."""
        if not (math.isfinite(latitude) and math.isfinite(longitude)):
            return CommuneGuess()
        point = shapely.Point(*_to_km(longitude, latitude))
        near = self._tree.query(point, predicate="dwithin", distance=NEAR_BORDER_KM)
        if len(near) == 0:
            return CommuneGuess()
        inside = [i for i in near if self._shapes[i].contains(point)]
        if len(near) == 1:
            return CommuneGuess(commune=self._names[near[0]])
        ordered = inside + sorted(
            (i for i in near if i not in inside), key=lambda i: self._shapes[i].distance(point)
        )
        return CommuneGuess(candidates=tuple(self._names[i] for i in ordered))


def _project(coords):  # type: ignore[no-untyped-def]
    """shapely.transform callback: (lon, lat) degree pairs to kilometres."""
    out = coords.copy()
    out[:, 0] = (coords[:, 0] - _ORIGIN_LON) * _KM_PER_DEGREE_LON
    out[:, 1] = (coords[:, 1] - _ORIGIN_LAT) * _KM_PER_DEGREE_LAT
    return out
