"""The small map of a feature, items or search page: its features over the boundaries around them.

No tiles (a page must work offline and never reach out): the ground is the display copy of the
administrative boundaries, like the maps' offline basemap, cut to the features' surroundings.
site.js draws the payload with Leaflet from /maps/assets/.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Callable

import geopandas as gpd
import shapely
from shapely.geometry import box

from geoservice.api.pagetext import present
from geoservice.boundaries import read_geojson
from geoservice.maps.basemaps import Basemap, load_basemaps
from geoservice.maps.display import POLYGON_TOLERANCE_DEG, boundaries_geojson, display_geometry
from geoservice.maps.styles import Styles

DISTRICTS_BELOW_DEG = 1.5  # a view narrower than this also draws district borders
MAX_VERTICES_PER_VIEW = 400  # simplify so that a view is drawn with about this many vertices across


def _label(record: dict, *keys: str) -> str:
    """Return the first of some properties that holds a value (a feature's tooltip)."""
    return next((str(record[k]) for k in keys if present(record.get(k))), "")


class PageMaps:
    """Build map payloads for pages (boundaries read once per application)."""

    def __init__(self, data_dir: Path, styles: Styles) -> None:
        """Remember where the boundaries are and how kinds are drawn."""
        self.data_dir = data_dir
        self.styles = styles

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
        tolerance = max(POLYGON_TOLERANCE_DEG, span / MAX_VERTICES_PER_VIEW)
        features = []
        records = sited.drop(columns=sited.geometry.name).to_dict(orient="records")
        for record, geom in zip(records, sited.geometry.values):
            kind = _label(record, "kind")
            style = self.styles.kind(kind) if kind else {"colour": "#1971c2"}
            precision = self.styles.precision.get(_label(record, "location_precision"), {})
            features.append(
                {
                    "type": "Feature",
                    "geometry": display_geometry(geom, self.basemap, tolerance),
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
        """Return the boundaries that touch the view (cities; districts too when it is narrow)."""
        margin = span * 0.15
        view = box(bounds[0] - margin, bounds[1] - margin, bounds[2] + margin, bounds[3] + margin)
        levels = ["city", "district"] if span < DISTRICTS_BELOW_DEG else ["province", "city"]
        ground = self.ground
        near = ground[
            ground["level"].isin(levels) & shapely.intersects(ground.geometry.values, view)
        ]
        return boundaries_geojson(near, self.basemap, tolerance)
