"""What is at a point: the administrative units, what each plan lays out there, the nearest sited
elements and the incentives whose jurisdiction contains it."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from geoservice.analysis.incentives import applicable_incentives
from geoservice.catalog import BOUNDARIES_ID, Catalog
from geoservice.query import Query
from geoservice.store import FeatureStore

# Kinds of elements that are sites (a park, a hospital), not areas or links: "nearest" lists these.
POINT_KINDS = (
    "park",
    "base",
    "carrier",
    "project",
    "facility",
    "platform",
    "hospital",
    "institute",
    "university",
    "enterprise",
)
LEVELS = ("province", "city", "district")


@dataclass(frozen=True)
class PlaceLookup:
    """The answer for one point (CRS84)."""

    point: Point
    units: gpd.GeoDataFrame  # the boundaries containing the point (province, city, district)
    plans: dict[str, gpd.GeoDataFrame]  # per plan id: its areas (polygons) containing the point
    nearest: gpd.GeoDataFrame  # the k nearest sited elements of every plan, column distance_m
    incentives: pd.DataFrame  # incentive clauses whose jurisdiction contains the point

    @property
    def covered(self) -> bool:
        """Return whether the point lies in a region the catalog's boundaries cover."""
        return bool(len(self.units))

    def features(self) -> gpd.GeoDataFrame:
        """Return the plan areas containing the point and the nearest sited elements as one frame,
        with `match` (area_containing_point or nearest_site) and distance_m (0 inside an area)."""
        areas = [
            hits.assign(match="area_containing_point", distance_m=0.0)
            for hits in self.plans.values()
        ]
        frames = [f for f in [*areas, self.nearest.assign(match="nearest_site")] if len(f)]
        if not frames:
            return self.nearest.assign(match=pd.Series(dtype=object))
        return gpd.GeoDataFrame(
            pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4326"
        )

    def unit(self, level: str) -> pd.Series | None:
        """Return the province, city or district row containing the point, if any."""
        rows = self.units[self.units["level"] == level]
        return rows.iloc[0] if len(rows) else None


def lookup(catalog: Catalog, store: FeatureStore, point: Point, k: int = 5) -> PlaceLookup:
    """Look up a CRS84 point in every plan and the boundaries."""
    units = store.covering(BOUNDARIES_ID, point)
    plans = {}
    for c in catalog.plan_collections():
        hits = store.covering(c.id, point)
        plans[c.id] = hits[hits.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    sited = {"op": "in", "args": [{"property": "kind"}, list(POINT_KINDS)]}
    near = [
        store.nearest(c.id, point, k, None, Query(collection=c.id, filter=sited))
        for c in catalog.plan_collections()
    ]
    near = [n for n in near if len(n)]
    if near:
        nearest = (
            pd.concat(near).sort_values("distance_m", kind="stable").iloc[:k].reset_index(drop=True)
        )
    else:
        nearest = catalog.plan_collections()[0].frame.iloc[0:0].assign(distance_m=[])
    incentives = applicable_incentives(catalog, set(units["adcode"]))
    return PlaceLookup(
        point,
        units,
        plans,
        gpd.GeoDataFrame(nearest, geometry="geometry", crs="EPSG:4326"),
        incentives,
    )
