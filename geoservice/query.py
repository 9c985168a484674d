"""The query model: what a request asks of a store, independent of HTTP and of the backend."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
from shapely.geometry.base import BaseGeometry

from geoservice.crs import CRS84, CRSInfo, resolve

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000


class QueryError(ValueError):
    """A request that is well-formed HTTP but asks for something invalid (a 400)."""


@dataclass(frozen=True)
class Query:
    """A features query. Geometries are CRS84; `crs` is only the output system."""

    collection: str
    bbox: BaseGeometry | None = None
    filter: dict | bool | None = None
    filter_crs: CRSInfo = field(default_factory=lambda: resolve(CRS84))
    equals: tuple[tuple[str, str], ...] = ()  # simple property filters: ?kind=park
    sectors: frozenset[str] | None = None  # any of these sector codes
    text: str | None = None  # substring of a name (zh/en/pinyin)
    sortby: tuple[tuple[str, bool], ...] = ()  # (property, ascending)
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    properties: tuple[str, ...] | None = None
    crs: CRSInfo = field(default_factory=lambda: resolve(CRS84))


@dataclass(frozen=True)
class FeaturePage:
    """One page of results: rows in CRS84 and the total count of matches."""

    frame: gpd.GeoDataFrame
    number_matched: int
    # Row positions in the collection's own frame, when the rows come straight from it: lets the
    # renderer reuse the collection's pre-encoded features (see Collection.encoded_features).
    positions: np.ndarray | None = None

    @property
    def number_returned(self) -> int:
        """Return how many features this page holds."""
        return len(self.frame)


@dataclass(frozen=True)
class Nearby:
    """Features ordered by distance from a point, with true distances in metres."""

    frame: gpd.GeoDataFrame  # has a distance_m column
