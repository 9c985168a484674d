"""The coordinate reference systems the service speaks, by URI, and transforms between them.

Storage is always WGS84 lon/lat (CRS84). Output and input may be any system of the registry:
EPSG ones go through pyproj; GCJ-02 and BD-09, which no EPSG code describes, through
`geoservice.chinese_datums`. Axis order follows OGC API – Features Part 2: EPSG:4326 and
EPSG:4490 are latitude-first, CRS84, EPSG:3857 and the Chinese web-map systems longitude-first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from geoservice import chinese_datums

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG_4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
EPSG_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
# No authority publishes URIs for the Chinese web-map systems; these are ours, stable, and listed
# in every collection's `crs` so clients can discover them.
GCJ02 = "urn:geoservice:def:crs:GCJ-02"
BD09 = "urn:geoservice:def:crs:BD-09"


class UnknownCRS(ValueError):
    """A CRS identifier the service does not support."""


@dataclass(frozen=True)
class CRSInfo:
    """One supported system."""

    uri: str
    title: str
    lat_first: bool  # axis order of coordinates on the wire
    epsg: int | None  # pyproj code, None for the Chinese web-map systems
    datum: str = "WGS84"  # chinese_datums key when not an EPSG system
    aliases: tuple[str, ...] = ()


REGISTRY: tuple[CRSInfo, ...] = (
    CRSInfo(CRS84, "WGS 84 longitude/latitude (default)", False, 4326,
            aliases=("CRS84", "OGC:CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84", "WGS84")),
    CRSInfo(EPSG_4326, "WGS 84 latitude/longitude", True, 4326,
            aliases=("EPSG:4326", "urn:ogc:def:crs:EPSG::4326")),
    CRSInfo(EPSG_4490, "China Geodetic Coordinate System 2000 (CGCS2000), latitude/longitude", True, 4490,
            aliases=("EPSG:4490", "urn:ogc:def:crs:EPSG::4490", "CGCS2000")),
    CRSInfo(EPSG_3857, "WGS 84 / Pseudo-Mercator", False, 3857,
            aliases=("EPSG:3857", "urn:ogc:def:crs:EPSG::3857")),
    CRSInfo(GCJ02, "GCJ-02 (AMap/高德, Tencent) longitude/latitude", False, None, "GCJ-02",
            aliases=("GCJ-02", "GCJ02", "gcj02")),
    CRSInfo(BD09, "BD-09 (Baidu) longitude/latitude", False, None, "BD-09",
            aliases=("BD-09", "BD09", "bd09")),
)
_BY_NAME = {name.casefold(): info for info in REGISTRY for name in (info.uri, *info.aliases)}
SUPPORTED_URIS = tuple(info.uri for info in REGISTRY)


def resolve(identifier: str) -> CRSInfo:
    """Return the registry entry for a URI, URN, short name or `[EPSG:xxxx]`-style reference."""
    key = identifier.strip().strip("[]").casefold()
    if key in _BY_NAME:
        return _BY_NAME[key]
    raise UnknownCRS(f"unsupported CRS {identifier!r}; supported: {', '.join(SUPPORTED_URIS)}")


@lru_cache(maxsize=32)
def _pyproj(src: int, dst: int) -> Transformer:
    """Return a cached always-lon/lat-first pyproj transformer."""
    return Transformer.from_crs(src, dst, always_xy=True)


def _xy_func(target: CRSInfo, inverse: bool) -> Callable[[np.ndarray, np.ndarray], tuple]:
    """Return (x, y) → (x, y) from CRS84 to target (or back), ignoring axis order."""
    if target.epsg is None:
        table = chinese_datums.TO_WGS84 if inverse else chinese_datums.FROM_WGS84
        return table[target.datum]
    if target.epsg == 4326:
        return lambda x, y: (x, y)
    t = _pyproj(target.epsg, 4326) if inverse else _pyproj(4326, target.epsg)
    return lambda x, y: t.transform(x, y)


def _apply(geoms, func, swap_before: bool, swap_after: bool):
    """Run a coordinate function over every vertex, swapping axes where asked."""

    def per_vertex(coords: np.ndarray) -> np.ndarray:
        if swap_before:
            coords = coords[:, ::-1]
        x, y = func(coords[:, 0], coords[:, 1])
        out = np.column_stack([x, y])
        return out[:, ::-1] if swap_after else out

    return shapely.transform(geoms, per_vertex)


def from_crs84(geoms, target: CRSInfo):
    """Transform WGS84 lon/lat geometries (array or single) to the target, in its axis order."""
    if target.uri == CRS84:
        return geoms
    return _apply(geoms, _xy_func(target, inverse=False), False, target.lat_first)


def to_crs84(geoms, source: CRSInfo):
    """Transform geometries given in source (its axis order) to WGS84 lon/lat."""
    if source.uri == CRS84:
        return geoms
    return _apply(geoms, _xy_func(source, inverse=True), source.lat_first, False)


def crosses_antimeridian(bbox: tuple[float, float, float, float], source: CRSInfo) -> bool:
    """Tell whether a longitude/latitude bbox runs west > east (OGC API – Features §7.15.3)."""
    a, b, c, d = bbox
    west, east = (b, d) if source.lat_first else (a, c)
    return source.epsg != 3857 and west > east


def bbox_to_crs84(bbox: tuple[float, float, float, float], source: CRSInfo) -> BaseGeometry:
    """Return a bbox given in source (its axis order) as a CRS84 polygon, split in two when it
    crosses the antimeridian."""
    if not crosses_antimeridian(bbox, source):
        return _box_to_crs84(bbox, source)
    a, b, c, d = bbox
    parts = ([(a, b, c, 180.0), (a, -180.0, c, d)] if source.lat_first
             else [(a, b, 180.0, d), (-180.0, b, c, d)])
    return shapely.union_all([_box_to_crs84(p, source) for p in parts])


def _box_to_crs84(bbox: tuple[float, float, float, float], source: CRSInfo) -> BaseGeometry:
    """Return one box as a CRS84 polygon, densified so its edges follow the curved image of the box."""
    a, b, c, d = bbox
    box = shapely.box(b, a, d, c) if source.lat_first else shapely.box(a, b, c, d)
    if source.uri == CRS84:
        return box
    dense = shapely.segmentize(box, (box.bounds[2] - box.bounds[0]) / 16 or 1e-9)
    return _apply(dense, _xy_func(source, inverse=True), False, False)
