"""Stores execute queries over collections. One small protocol, several backends."""

from __future__ import annotations

from typing import Protocol

import geopandas as gpd
import numpy as np
from shapely.geometry import Point

from geoservice.query import FeaturePage, Query


class StoreUnavailable(RuntimeError):
    """The store cannot answer now (its database is down or every connection is busy): retry later."""

    retry_after_s = 5


class QueryTimeout(StoreUnavailable):
    """A query ran past the configured time limit and was cancelled."""

    retry_after_s = 1


class FeatureStore(Protocol):
    """What the API needs from a backend. Geometries in and out are CRS84."""

    def query(self, q: Query) -> FeaturePage:
        """Return one page of the features matching q, and the total count."""
        ...

    def get(self, collection: str, feature_id: str) -> gpd.GeoDataFrame:
        """Return the one-row frame of a feature (empty when there is none)."""
        ...

    async def feature_positions(self, collection: str, feature_id: str) -> np.ndarray | None:
        """Return the positions in the catalog's frame of the rows with this id (empty when there is
        none), or None when this store's rows are not the catalog's (then use get). Async: the API's
        single-feature path awaits it on the event loop."""
        ...

    def nearest(self, collection: str, point: Point, k: int | None,
                max_distance_m: float | None, q: Query | None = None) -> gpd.GeoDataFrame:
        """Return features ordered by true distance (column distance_m), k of them or all within
        max_distance_m, optionally restricted by the filters of q."""
        ...

    def covering(self, collection: str, point: Point) -> gpd.GeoDataFrame:
        """Return the features whose geometry contains (or touches) the point."""
        ...

    async def check(self) -> str | None:
        """Return why the store cannot answer now (e.g. its database is unreachable), or None."""
        ...

    async def aclose(self) -> None:
        """Release what the store opened on the running event loop (called at the app's shutdown)."""
        ...
