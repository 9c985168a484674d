"""Features of every plan by sector, kind, name, district or plan: one search, for the API and
for Python."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geoservice.catalog import Catalog
from geoservice.query import MAX_LIMIT, Query, QueryError
from geoservice.store import FeatureStore
from geoservice.vocab import UnknownTerm


def search(
    catalog: Catalog,
    store: FeatureStore,
    sector: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    district: str | None = None,
    plan: str | None = None,
) -> gpd.GeoDataFrame:
    """Return the plan features matching every criterion given (sector: code, name or synonym,
    children included; kind: code or name; q: text in names, pinyin too; district: an adcode or
    zone id the feature lists), plan by plan, each row keeping its plan id. Raises QueryError for
    a sector, kind or plan that does not exist."""
    sectors = None
    if sector is not None:
        try:
            sectors = catalog.sectors.require(sector)  # GB/T 4754 codes and class names too
        except UnknownTerm as exc:
            raise QueryError(f"sector: {exc}; see /sectors") from None
    equals: list[tuple[str, str]] = []
    if kind is not None:
        kinds = catalog.kinds.lookup(kind)
        if not kinds:
            raise QueryError(f"kind: {kind!r} is no element kind; see /sectors")
        equals.append(("kind", kinds[0]))
    if district is not None:
        equals.append(("districts", district))
    collections = [c for c in catalog.plan_collections() if plan in (None, c.id)]
    if plan is not None and not collections:
        raise QueryError(f"plan: no plan {plan!r}")
    frames = [
        store.query(
            Query(collection=c.id, sectors=sectors, text=q, equals=tuple(equals), limit=MAX_LIMIT)
        ).frame
        for c in collections
    ]
    found = [f for f in frames if len(f)]
    frame = pd.concat(found, ignore_index=True) if found else collections[0].frame.iloc[0:0]
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")
