"""Display geometry for the browser: simplified, rounded, shifted to the basemap's datum."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geoservice.boundaries import read_geojson
from geoservice.maps.basemaps import Basemap

# Plan polygons are unions of full-resolution districts: simplify them like the display
# boundaries (shapely.coverage_simplify at 0.002° ≈ 200 m, see etl/boundaries.py).
POLYGON_TOLERANCE_DEG = 0.002
POLYGON_DECIMALS = 4          # ~10 m: finer than the simplification
POINT_DECIMALS = 6            # ~0.1 m: points keep their stated position (and datum shift)


def round_geometry(geometry: BaseGeometry, decimals: int) -> BaseGeometry:
    """Round every vertex to a number of decimals."""
    return shapely.transform(geometry, lambda xy: np.round(xy, decimals))


def decimals_for(tolerance_deg: float) -> int:
    """Return how many decimals a polygon simplified at a tolerance needs (a tenth of it)."""
    return max(3, min(POLYGON_DECIMALS, int(round(-np.log10(tolerance_deg))) + 1))


def display_geometry(geometry: BaseGeometry | None, basemap: Basemap,
                     tolerance_deg: float = POLYGON_TOLERANCE_DEG) -> dict | None:
    """Return the GeoJSON geometry to draw: polygons simplified, all shifted and rounded."""
    if geometry is None or geometry.is_empty:
        return None
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        geometry = shapely.simplify(geometry, tolerance_deg, preserve_topology=True)
        decimals = decimals_for(tolerance_deg)
    else:
        decimals = POINT_DECIMALS
    return mapping(round_geometry(basemap.shift(geometry), decimals))


def boundary_frame(data_dir: Path, levels: Iterable[str], regions: Iterable[str] | None) -> gpd.GeoDataFrame:
    """Return the display boundaries of some levels around some regions (None: all of them).

    Around a region (an adcode) means: the region, its ancestors, everything inside it, and the
    other cities of its province (context).
    """
    frame = read_geojson(data_dir / "boundaries" / "boundaries.display.geojson")
    frame["adcode"] = frame["adcode"].astype(str)
    if regions is not None:
        parents = {c: p for c, p in zip(frame["adcode"], frame["parent_adcode"]) if isinstance(p, str) and p}
        wanted = set(regions)
        ancestors = {a for r in wanted for a in _chain(r, parents)}
        provinces = {_chain(r, parents)[-1] for r in wanted}

        def keep(code: str, level: str) -> bool:
            """Tell whether a boundary belongs to the map."""
            chain = _chain(code, parents)
            return bool(set(chain) & wanted) or code in ancestors or (level == "city" and chain[-1] in provinces)

        frame = frame[[keep(c, lv) for c, lv in zip(frame["adcode"], frame["level"])]]
    return frame[frame["level"].isin(list(levels))]


def _chain(code: str, parents: dict[str, str]) -> list[str]:
    """Return a code and its ancestors, nearest first."""
    out = [code]
    while out[-1] in parents and parents[out[-1]] not in out:
        out.append(parents[out[-1]])
    return out


def boundaries_geojson(frame: gpd.GeoDataFrame, basemap: Basemap,
                       tolerance_deg: float = POLYGON_TOLERANCE_DEG) -> dict:
    """Return boundaries as a FeatureCollection to draw: shifted, rounded, and simplified
    further (per level, as a coverage: neighbours keep one shared border) when the map asks
    for a coarser tolerance than the display file's."""
    shifted = basemap.shift_frame(frame)
    geoms = shifted.geometry.values.copy()
    if tolerance_deg > POLYGON_TOLERANCE_DEG:
        for level in set(shifted["level"]):
            mask = (shifted["level"] == level).to_numpy()
            geoms[mask] = shapely.coverage_simplify(geoms[mask], tolerance_deg)
    decimals = decimals_for(tolerance_deg)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, decimals))
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature",
             "properties": {"adcode": code, "name_zh": zh, "name_en": en, "level": level},
             "geometry": mapping(g)}
            for code, zh, en, level, g in zip(shifted["adcode"], shifted["name_zh"], shifted["name_en"],
                                              shifted["level"], geoms)
        ],
    }
