"""Mapbox Vector Tiles in WebMercatorQuad: the tile grid (morecantile) and the memory store's encoder.

Both stores follow the same rules: the layer is named after the collection, geometries are clipped
to the tile plus a 64-unit buffer on a 4096 grid, lists and objects travel as JSON text, and points
that fall on the same tile pixel are drawn once (the first in row order): a low-zoom tile of a
million firms holds one point per occupied pixel, which looks the same and stays small.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Protocol

import mapbox_vector_tile
import morecantile
import numpy as np
import orjson
import shapely
from pyproj import Transformer
from shapely.geometry import box

from geoservice.catalog import Catalog
from geoservice.geojson import plain

TMS_ID = "WebMercatorQuad"
EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
MVT = "application/vnd.mapbox-vector-tile"


class TileError(ValueError):
    """A tile address outside the tile matrix set."""


class TileSource(Protocol):
    """What serves vector tiles: the PostGIS store, or MemoryTiles over the catalog."""

    def tile(self, collection: str, z: int, x: int, y: int) -> bytes:
        """Return the MVT bytes of one tile of a collection."""
        ...


@lru_cache(maxsize=1)
def tms() -> morecantile.TileMatrixSet:
    """Return the WebMercatorQuad tile matrix set."""
    return morecantile.tms.get(TMS_ID)


def check_tile(z: int, x: int, y: int) -> None:
    """Raise TileError for an address outside zoom 0–MAX_ZOOM or the matrix at that zoom."""
    if not 0 <= z <= MAX_ZOOM:
        raise TileError(f"zoom {z} is outside 0–{MAX_ZOOM}")
    n = 2 ** z
    if not (0 <= x < n and 0 <= y < n):
        raise TileError(f"tile {z}/{x}/{y} is outside the {n}×{n} matrix of zoom {z}")


@lru_cache(maxsize=1)
def _to_mercator() -> Transformer:
    return Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)


def cell(value: object) -> object:
    """Return an MVT-ready property value (lists and objects as JSON text), or None to omit it."""
    value = plain(value)
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


class MemoryTiles:
    """Encode tiles from the catalog's GeoDataFrames (spatial index per collection)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def tile(self, collection: str, z: int, x: int, y: int) -> bytes:
        """Return the MVT bytes of one tile."""
        check_tile(z, x, y)
        frame = self.catalog[collection].frame
        t = morecantile.Tile(x, y, z)
        left, bottom, right, top = tms().xy_bounds(t)
        pad = (right - left) * BUFFER / EXTENT
        geo = tms().bounds(t)
        pad_deg = (geo.right - geo.left) * BUFFER / EXTENT
        area = box(geo.left - pad_deg, max(geo.bottom - pad_deg, -85.06), geo.right + pad_deg, min(geo.top + pad_deg, 85.06))
        rows = np.sort(frame.sindex.query(area, predicate="intersects"))
        if not len(rows):
            return b""
        geoms = np.asarray(frame.geometry.array, dtype=object)[rows]
        t3857 = _to_mercator()
        merc = shapely.transform(geoms, lambda xy: np.column_stack(t3857.transform(xy[:, 0], xy[:, 1])))
        merc = shapely.clip_by_rect(merc, left - pad, bottom - pad, right + pad, top + pad)
        keep = ~shapely.is_empty(merc)
        points = shapely.get_type_id(merc) == 0
        if points.any():  # one point per pixel of the 4096 grid, the first in row order
            xy = shapely.get_coordinates(merc[points])
            px = np.round((xy[:, 0] - left) / (right - left) * EXTENT).astype(np.int64)
            py = np.round((xy[:, 1] - bottom) / (top - bottom) * EXTENT).astype(np.int64)
            _, first = np.unique(px * (EXTENT * 4) + py, return_index=True)
            drop = np.ones(int(points.sum()), dtype=bool)
            drop[first] = False
            keep[np.flatnonzero(points)[drop]] = False
        if not keep.any():
            return b""
        chosen = frame.iloc[rows[keep]]
        names = [c for c in frame.columns if c != frame.geometry.name]
        records = chosen[names].to_dict(orient="records")
        features = [{"geometry": g, "properties": {k: v for k, v in ((k, cell(v)) for k, v in r.items()) if v is not None}}
                    for g, r in zip(merc[keep], records)]
        layer = {"name": collection, "features": features}
        with warnings.catch_warnings():  # the encoder calls shapely.ops.transform, deprecated in shapely 2.1
            warnings.simplefilter("ignore", DeprecationWarning)
            return mapbox_vector_tile.encode([layer], default_options={
                "quantize_bounds": (left, bottom, right, top), "extents": EXTENT, "y_coord_down": False})


def frame_of_tile(data: bytes) -> dict:
    """Decode MVT bytes (for tests and debugging)."""
    return mapbox_vector_tile.decode(data) if data else {}

