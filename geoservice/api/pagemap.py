"""The small map of a feature, items or search page: its features over the boundaries around them.

No tiles (a page must work offline and never reach out): the ground is the display copy of the
administrative boundaries, like the maps' offline basemap, cut to the features' surroundings.
site.js draws the payload with Leaflet from /maps/assets/.
"""

from __future__ import annotations

import math
from functools import cached_property
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import orjson
import shapely
from shapely.geometry import box

from geoservice.api.pagetext import present
from geoservice.boundaries import read_geojson
from geoservice.maps.basemaps import Basemap, load_basemaps
from geoservice.maps.display import (
    POINT_DECIMALS,
    POLYGON_TOLERANCE_DEG,
    boundaries_geojson,
    decimals_for,
)
from geoservice.maps.styles import Styles

DISTRICTS_BELOW_DEG = 1.5  # a view narrower than this also draws district borders
MAX_VERTICES_PER_VIEW = 400  # simplify so that a view is drawn with about this many vertices across
MAX_GROUNDS = 256  # boundary sets kept ready (a few per plan)
POLYGON_TYPES = (3, 6)  # shapely type ids of Polygon and MultiPolygon


def _label(record: dict, *keys: str) -> str:
    """Return the first of some properties that holds a value (a feature's tooltip)."""
    return next((str(record[k]) for k in keys if present(record.get(k))), "")


class PageMaps:
    """Build map payloads for pages (boundaries read once per application)."""

    def __init__(self, data_dir: Path, styles: Styles) -> None:
        """Remember where the boundaries are and how kinds are drawn."""
        self.data_dir = data_dir
        self.styles = styles
        self._grounds: dict[tuple, dict] = {}

    @cached_property
    def ground(self) -> gpd.GeoDataFrame:
        """Return the display boundaries (simplified at 0.002°)."""
        frame = read_geojson(self.data_dir / "boundaries" / "boundaries.display.geojson")
        frame["adcode"] = frame["adcode"].astype(str)
        return frame

    @cached_property
    def basemap(self) -> Basemap:
        """Return the tile-less basemap (no datum shift: WGS84 as it is)."""
        return next(b for b in load_basemaps(self.data_dir).values() if b.tileless)

    def payload(
        self,
        frame: gpd.GeoDataFrame,
        href: Callable[[dict], str],
        origin: tuple[float, float] | None = None,
    ) -> dict | None:
        """Return what site.js draws: the sited features (kind colour, precision symbol, link) and
        the boundaries around them; None when nothing on the page has a location."""
        sited = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
        if not len(sited) and origin is None:
            return None
        bounds = list(sited.total_bounds) if len(sited) else [origin[0], origin[1]] * 2
        if origin is not None:
            bounds = [
                min(bounds[0], origin[0]),
                min(bounds[1], origin[1]),
                max(bounds[2], origin[0]),
                max(bounds[3], origin[1]),
            ]
        span = max(bounds[2] - bounds[0], bounds[3] - bounds[1], 0.2)
        tolerance = _step(span / MAX_VERTICES_PER_VIEW)
        features = []
        records = sited.drop(columns=sited.geometry.name).to_dict(orient="records")
        for record, geometry in zip(records, _display(sited.geometry.values, tolerance)):
            kind = _label(record, "kind")
            style = self.styles.kind(kind) if kind else {"colour": "#1971c2"}
            precision = self.styles.precision.get(_label(record, "location_precision"), {})
            features.append(
                {
                    "type": "Feature",
                    "geometry": geometry,
                    "properties": {
                        "name_zh": _label(record, "name_zh", "title_zh", "name", "id"),
                        "name_en": _label(record, "name_en", "title_en", "name", "id"),
                        "href": href(record),
                        "colour": style["colour"],
                        "fill_opacity": style.get("fill_opacity", 0.2),
                        "symbol": precision.get("symbol", "solid"),
                        "border": precision.get("border", "solid"),
                    },
                }
            )
        return {
            "features": features,
            "ground": self._ground(bounds, span, tolerance),
            "origin": list(origin) if origin is not None else None,
        }

    def _ground(self, bounds: list[float], span: float, tolerance: float) -> dict:
        """Return the boundaries that touch the view (cities; districts too when it is narrow),
        made once per set of boundaries and tolerance step (pages of one plan share them)."""
        margin = span * 0.15
        view = box(bounds[0] - margin, bounds[1] - margin, bounds[2] + margin, bounds[3] + margin)
        levels = ["city", "district"] if span < DISTRICTS_BELOW_DEG else ["province", "city"]
        ground = self.ground
        near = ground.iloc[np.sort(ground.sindex.query(view, predicate="intersects"))]
        near = near[near["level"].isin(levels)]
        key = (tuple(near["adcode"]), tolerance)
        if key not in self._grounds:
            if len(self._grounds) >= MAX_GROUNDS:
                self._grounds.clear()
            self._grounds[key] = boundaries_geojson(near, self.basemap, tolerance)
        return self._grounds[key]


def _step(tolerance: float) -> float:
    """Round a simplification tolerance up to the display file's own times a power of two."""
    return POLYGON_TOLERANCE_DEG * 2 ** max(
        0, math.ceil(math.log2(tolerance / POLYGON_TOLERANCE_DEG))
    )


def _display(geometries: np.ndarray, tolerance: float) -> list[dict]:
    """Return WGS84 geometries as GeoJSON to draw (vectorised): polygons simplified at the view's
    tolerance and rounded to a tenth of it, points and lines to ~0.1 m."""
    geometries = geometries.copy()
    polygonal = np.isin(shapely.get_type_id(geometries), POLYGON_TYPES)
    decimals = np.where(polygonal, decimals_for(tolerance), POINT_DECIMALS)
    geometries[polygonal] = shapely.simplify(
        geometries[polygonal], tolerance, preserve_topology=True
    )
    for places in set(decimals.tolist()):
        chosen = decimals == places
        geometries[chosen] = shapely.transform(geometries[chosen], lambda xy: np.round(xy, places))
    return [orjson.loads(text) for text in shapely.to_geojson(geometries)]
