"""Administrative boundaries at run time: the committed WGS84 polygons and the functional zones."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import geopandas as gpd
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from geoservice.filecache import cached_parse
from geoservice.yamlfile import read_yaml


@dataclass(frozen=True)
class FunctionalZone:
    """A zone with no administrative polygon, mapped to its host districts."""

    id: str
    name_zh: str
    name_en: str
    hosts: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    parent_adcode: str = ""
    note: str = ""


def _parse_geojson(content: bytes) -> tuple[list[dict], list[bytes]]:
    """Parse a FeatureCollection into properties and WKB geometries."""
    feats = orjson.loads(content)["features"]
    geoms = shapely.from_geojson([orjson.dumps(f["geometry"]) for f in feats])
    return [f.get("properties") or {} for f in feats], list(shapely.to_wkb(geoms))


def read_geojson(path: Path) -> gpd.GeoDataFrame:
    """Read a GeoJSON FeatureCollection (parsed once per content, then from the file cache)."""
    props, wkb = cached_parse(path, "geojson", _parse_geojson)
    return gpd.GeoDataFrame(props, geometry=shapely.from_wkb(wkb), crs="EPSG:4326")


@dataclass(frozen=True)
class Boundaries:
    """All boundary polygons by adcode, plus the functional-zone table."""

    frame: gpd.GeoDataFrame
    zones: Mapping[str, FunctionalZone]

    @classmethod
    def load(cls, boundary_dir: Path) -> "Boundaries":
        """Load boundaries.geojson and functional_zones.yaml."""
        frame = read_geojson(boundary_dir / "boundaries.geojson")
        frame["adcode"] = frame["adcode"].astype(str)
        frame = frame.set_index("adcode", drop=False)
        doc = read_yaml(boundary_dir / "functional_zones.yaml")
        zones = {
            z["id"]: FunctionalZone(**{**z, "hosts": tuple(z["hosts"]),
                                       "aliases": tuple(z.get("aliases", ()))})
            for z in doc["zones"]
        }
        return cls(frame, MappingProxyType(zones))

    def knows(self, code: str) -> bool:
        """Tell whether a code is an adcode or a functional-zone id we have."""
        return code in self.frame.index or code in self.zones

    def hosts(self, codes: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
        """Resolve codes to adcodes; also tell whether a functional zone was involved."""
        out: list[str] = []
        via_zone = False
        for code in codes:
            if code in self.zones:
                via_zone = True
                out += [h for h in self.zones[code].hosts if h not in out]
            elif code not in out:
                out.append(code)
        return tuple(out), via_zone

    def union(self, adcodes: tuple[str, ...]) -> BaseGeometry:
        """Return the union of the polygons of the given adcodes."""
        return self._unions(tuple(sorted(adcodes)))

    @cached_property
    def _cache(self) -> dict:
        """Hold unions already computed (the same district sets recur across plans)."""
        return {}

    def _unions(self, key: tuple[str, ...]) -> BaseGeometry:
        """Compute or reuse one union."""
        if key not in self._cache:
            geoms = self.frame.loc[list(key), "geometry"].values
            self._cache[key] = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
        return self._cache[key]

    def name_zh(self, code: str) -> str:
        """Return the Chinese name of an adcode or functional zone."""
        if code in self.zones:
            return self.zones[code].name_zh
        return str(self.frame.at[code, "name_zh"])
