"""What is at a point, as GeoDataFrames: the frame view of `report.place_lookup`.

The lookup itself is computed once, by place_lookup over the catalog's SiteIndex (the /lookup
JSON answer, microseconds). This view turns its ids into the catalog's rows for Python users and
the file downloads: the units containing the point, each plan's areas containing it, the nearest
sited elements with their distances, and the incentive clauses applying there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from geoservice.analysis.report import place_lookup
from geoservice.analysis.sites import site_index
from geoservice.catalog import BOUNDARIES_ID, INCENTIVES_ID, Catalog


def _rows(frame: gpd.GeoDataFrame, ids: list[str]) -> gpd.GeoDataFrame:
    """Return the rows of a frame with these ids, in the order given."""
    order = {fid: i for i, fid in enumerate(ids)}
    picked = frame[frame["id"].isin(order)]
    return picked.iloc[picked["id"].map(order).argsort()].reset_index(drop=True)


@dataclass(frozen=True)
class PlaceLookup:
    """The answer for one point (CRS84); `answer` is the /lookup JSON body."""

    catalog: Catalog
    point: Point
    answer: dict

    @property
    def covered(self) -> bool:
        """Return whether the point lies in a region the catalog's boundaries cover."""
        return self.answer["covered"]

    def unit(self, level: str) -> dict | None:
        """Return the province, city or district containing the point ({adcode, name_zh, name_en})."""
        return self.answer[level]

    @cached_property
    def units(self) -> gpd.GeoDataFrame:
        """Return the boundary rows containing the point (province, city, district)."""
        adcodes = [u["adcode"] for u in (self.unit(lvl) for lvl in ("province", "city", "district")) if u]
        return _rows(self.catalog[BOUNDARIES_ID].frame, adcodes)

    @cached_property
    def plans(self) -> dict[str, gpd.GeoDataFrame]:
        """Return, per plan id, the plan's areas containing the point."""
        return {plan_id: _rows(self.catalog[plan_id].frame, [r["id"] for r in hits])
                for plan_id, hits in self.answer["plans"].items()}

    @cached_property
    def nearest(self) -> gpd.GeoDataFrame:
        """Return the nearest sited elements of every plan, nearest first, with distance_m."""
        records = self.answer["nearest"]
        frames = [_rows(self.catalog[plan_id].frame, [r["id"] for r in records if r["plan"] == plan_id])
                  for plan_id in dict.fromkeys(r["plan"] for r in records)]
        distance = {r["id"]: r["distance_m"] for r in records}
        if not frames:
            return self.catalog.plan_collections()[0].frame.iloc[0:0].assign(distance_m=[])
        joined = pd.concat(frames, ignore_index=True)
        joined["distance_m"] = joined["id"].map(distance)
        joined = joined.sort_values("distance_m", kind="stable").reset_index(drop=True)
        return gpd.GeoDataFrame(joined, geometry="geometry", crs="EPSG:4326")

    @cached_property
    def incentives(self) -> pd.DataFrame:
        """Return the incentive clauses whose jurisdiction contains the point."""
        return _rows(self.catalog[INCENTIVES_ID].frame, self.answer["incentives"]["ids"])

    def features(self) -> gpd.GeoDataFrame:
        """Return the plan areas containing the point and the nearest sited elements as one frame,
        with `match` (area_containing_point or nearest_site) and distance_m (0 inside an area)."""
        areas = [hits.assign(match="area_containing_point", distance_m=0.0) for hits in self.plans.values()]
        frames = [f for f in [*areas, self.nearest.assign(match="nearest_site")] if len(f)]
        if not frames:
            return self.nearest.assign(match=pd.Series(dtype=object))
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4326")


def lookup(catalog: Catalog, data_dir: Path, point: Point, k: int = 5) -> PlaceLookup:
    """Look up a CRS84 point in every plan and the boundaries."""
    return PlaceLookup(catalog, point, place_lookup(site_index(catalog, data_dir), point, k))
