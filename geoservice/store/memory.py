"""The embedded store: GeoDataFrames in memory, a spatial index per layer, vectorised queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pypinyin import lazy_pinyin
from pypinyin.constants import RE_HANS
from pyproj import Geod
from shapely.geometry import Point

from geoservice import filters
from geoservice.catalog import Catalog, Collection
from geoservice.query import FeaturePage, Query, QueryError
from geoservice.vocab import normalise

SEARCH_COLUMNS = ("name_zh", "name_en", "title_zh", "title_en", "name")
# Runs of Han characters: pypinyin segments words within a run, so a name's pinyin is the pinyin of
# its pieces, and a run shared by many names ("合成企业" of a million firms) is converted once.
_HAN_RUNS = re.compile("(" + RE_HANS.pattern[len("^(?:"):-len(")+$")] + "+)")


@lru_cache(maxsize=1 << 16)
def _run_pinyin(run: str) -> tuple[str, ...]:
    """Return the pinyin syllables of one run of Han characters."""
    return tuple(lazy_pinyin(run))


def pinyin(text: str) -> list[str]:
    """Return lazy_pinyin(text), converting each run of Han characters once."""
    out: list[str] = []
    for i, piece in enumerate(_HAN_RUNS.split(text)):
        if piece:
            out.extend(_run_pinyin(piece) if i % 2 else lazy_pinyin(piece))
    return out


def _fold_names(names: list[str]) -> str:
    """Fold one feature's names (in SEARCH_COLUMNS order) and the pinyin of the Chinese one."""
    zh = names[0] or names[2]
    syllables = pinyin(zh) if zh else []
    return normalise(" | ".join([*names, "".join(syllables), " ".join(syllables)]))


def search_key(row: pd.Series) -> str:
    """Fold a feature's names (and the pinyin of the Chinese one) into one search string."""
    return _fold_names([str(row.get(c) or "") for c in SEARCH_COLUMNS])


def search_keys(frame: pd.DataFrame) -> list[str]:
    """Return search_key of every row, column-wise (no per-row Series)."""
    n = len(frame)
    columns = [frame[c].tolist() if c in frame.columns else [None] * n for c in SEARCH_COLUMNS]
    return [_fold_names([str(v or "") for v in names]) for names in zip(*columns)]


@dataclass
class _Layer:
    """One collection prepared for querying."""

    collection: Collection

    @property
    def frame(self) -> gpd.GeoDataFrame:
        return self.collection.frame

    @cached_property
    def geometry(self) -> np.ndarray:
        return np.asarray(self.frame.geometry.array, dtype=object)

    @cached_property
    def column_types(self) -> dict[str, str]:
        return {name: spec.get("type", "string") for name, spec in self.collection.properties.items()}

    @cached_property
    def search_keys(self) -> np.ndarray:
        return np.array(search_keys(self.frame), dtype=object) if len(self.frame) else np.array([], dtype=object)

    @cached_property
    def all_points(self) -> bool:
        """Return whether every row is a point (then a box query needs no geometric predicate)."""
        return len(self.geometry) > 0 and bool(np.all(shapely.get_type_id(self.geometry) == 0))

    def bbox_hits(self, area) -> np.ndarray:
        """Return the rows intersecting a query geometry; for points and a rectangle, the index alone is exact."""
        if self.all_points and area.geom_type == "Polygon" and area.equals(area.envelope):
            return self.frame.sindex.query(area)
        return self.frame.sindex.query(area, predicate="intersects")

    @cached_property
    def id_index(self) -> tuple[dict[str, int], dict[str, list[int]]]:
        """Map each feature id (as text) to its first row, and ids on several rows to all of them
        (built with dict(zip): 0.4 s for a million ids, a third of a per-row loop)."""
        ids = self.frame["id"].astype(str).tolist() if "id" in self.frame.columns else []
        first = dict(zip(reversed(ids), range(len(ids) - 1, -1, -1)))
        repeated: dict[str, list[int]] = {}
        if len(first) < len(ids):
            for i, value in enumerate(ids):
                if first[value] != i or value in repeated:
                    repeated.setdefault(value, [first[value]]).append(i)
        return first, repeated

    def id_rows(self, feature_id: str) -> list[int]:
        """Return the row positions of a feature id (none, one, or several)."""
        first, repeated = self.id_index
        if feature_id in repeated:
            return repeated[feature_id]
        return [first[feature_id]] if feature_id in first else []

    @cached_property
    def text_codes(self) -> dict[str, tuple[np.ndarray, dict[str, int]]]:
        """Per text column compared so far: its values as codes, and each distinct text's code."""
        return {}

    @cached_property
    def filter_columns(self) -> dict:
        """CQL2 operand columns over all rows, made once per property (see filters.Context.columns)."""
        return {}

    def text_equals(self, name: str, value: str) -> np.ndarray:
        """Return column.astype(str) == value, from codes computed once per column."""
        if name not in self.text_codes:
            codes, uniques = pd.factorize(self.frame[name].astype(str))
            self.text_codes[name] = (codes, {u: i for i, u in enumerate(uniques)})
        codes, where = self.text_codes[name]
        code = where.get(value)
        return codes == code if code is not None else np.zeros(len(codes), dtype=bool)

    @cached_property
    def sector_sets(self) -> list[frozenset]:
        column = self.frame["sectors"] if "sectors" in self.frame.columns else pd.Series([[]] * len(self.frame))
        return [frozenset(v) if isinstance(v, (list, tuple, np.ndarray)) else frozenset() for v in column]


class MemoryStore:
    """Answer queries from the catalog's GeoDataFrames."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._layers: Mapping[str, _Layer] = {cid: _Layer(c) for cid, c in catalog.collections.items()}
        for layer in self._layers.values():  # before the first request, not during it (2 s for 1M rows)
            layer.id_index, layer.frame.sindex

    def _layer(self, collection: str) -> _Layer:
        return self._layers[collection]

    def _mask(self, layer: _Layer, q: Query) -> np.ndarray:
        """Return the rows matching every condition of q."""
        frame = layer.frame
        n = len(frame)
        mask = np.ones(n, dtype=bool)
        if q.bbox is not None:
            hits = layer.bbox_hits(q.bbox)
            mask = np.zeros(n, dtype=bool)
            mask[hits] = True
        for name, value in q.equals:
            mask &= self._equals(layer, name, value)
        if q.sectors is not None:
            mask &= np.fromiter((not s.isdisjoint(q.sectors) for s in layer.sector_sets), bool, n)
        if q.text:
            needle = normalise(q.text)
            mask &= np.fromiter((needle in k for k in layer.search_keys), bool, n)
        if q.filter is not None and mask.any():
            rows = np.flatnonzero(mask)
            if len(rows) == n:  # every row: no copy, and operand columns made once per layer
                ctx = filters.Context(frame, layer.geometry, q.filter_crs, layer.column_types, layer.filter_columns)
            else:
                ctx = filters.Context(frame.iloc[rows], layer.geometry[rows], q.filter_crs, layer.column_types)
            selected = filters.evaluate(q.filter, ctx)
            mask[rows[~selected]] = False
        return mask

    @staticmethod
    def _equals(layer: _Layer, name: str, value: str) -> np.ndarray:
        """Match a simple property filter: equality, or membership for list properties."""
        column = layer.frame[name]
        kind = layer.column_types.get(name)
        if kind == "array":
            return np.fromiter((isinstance(v, (list, tuple, np.ndarray)) and value in list(v) for v in column), bool, len(column))
        if kind in ("number", "integer"):
            try:
                target = float(value)
            except ValueError:
                raise QueryError(f"property {name!r} is numeric; {value!r} is not a number") from None
            return (pd.to_numeric(column, errors="coerce") == target).to_numpy()
        if kind == "boolean":
            return (column.astype(str).str.lower() == value.lower()).to_numpy()
        return layer.text_equals(name, value)

    def query(self, q: Query) -> FeaturePage:
        """Return one page of matches and their total count."""
        layer = self._layer(q.collection)
        rows = np.flatnonzero(self._mask(layer, q))
        if q.sortby:
            keys = layer.frame.iloc[rows]
            order = keys.sort_values(
                [name for name, _ in q.sortby], ascending=[asc for _, asc in q.sortby],
                kind="stable", na_position="last",
                key=lambda col: col.map(sort_key) if col.dtype == object else col,
            ).index
            rows = layer.frame.index.get_indexer(order)
        page = rows[q.offset: q.offset + q.limit]
        return FeaturePage(layer.frame.iloc[page], int(len(rows)), page)

    def get(self, collection: str, feature_id: str) -> gpd.GeoDataFrame:
        """Return the one-row frame of a feature, or an empty frame."""
        layer = self._layer(collection)
        return layer.frame.iloc[layer.id_rows(str(feature_id))]

    async def feature_positions(self, collection: str, feature_id: str) -> np.ndarray:
        """Return the row positions of a feature id (a dict lookup: the layer is the catalog's frame)."""
        return np.asarray(self._layer(collection).id_rows(str(feature_id)), dtype=np.int64)

    async def aclose(self) -> None:
        """Nothing to release: the store holds no connections."""

    async def check(self) -> str | None:
        """Always ready: the data is in this process."""
        return None

    def nearest(self, collection: str, point: Point, k: int | None,
                max_distance_m: float | None, q: Query | None = None) -> gpd.GeoDataFrame:
        """Return features by true distance from point (azimuthal equidistant projection)."""
        layer = self._layer(collection)
        mask = self._mask(layer, q) if q is not None else np.ones(len(layer.frame), dtype=bool)
        mask &= ~(shapely.is_missing(layer.geometry) | shapely.is_empty(layer.geometry))
        rows = np.flatnonzero(mask)
        distances = geodesic_distances(point, layer.geometry[rows])
        order = np.argsort(distances, kind="stable")
        if max_distance_m is not None:
            order = order[distances[order] <= max_distance_m]
        if k is not None:
            order = order[:k]
        result = layer.frame.iloc[rows[order]].copy()
        result["distance_m"] = np.round(distances[order], 1)
        return result

    def covering(self, collection: str, point: Point) -> gpd.GeoDataFrame:
        """Return the features whose geometry intersects the point, in row order (as PostGIS answers;
        the spatial index returns them in its tree's order)."""
        frame = self._layer(collection).frame
        return frame.iloc[np.sort(frame.sindex.query(point, predicate="intersects"))]


def sort_key(value: object) -> object:
    """Sort lists and dicts by their text, leave scalars alone."""
    return str(value) if isinstance(value, (list, dict, np.ndarray)) else value


def geodesic_distances(origin: Point, geoms: np.ndarray) -> np.ndarray:
    """Return distances in metres on the WGS84 ellipsoid from origin to each geometry.

    Points: the exact geodesic (pyproj.Geod, vectorised). Lines and polygons: 0 when they
    contain the origin; otherwise the nearest point is found in a local equirectangular frame
    around the origin and the geodesic to that point is measured exactly.
    """
    n = len(geoms)
    if n == 0:
        return np.array([], dtype=float)
    targets = np.empty((n, 2))
    points = shapely.get_type_id(geoms) == 0
    targets[points] = shapely.get_coordinates(geoms[points])
    others = np.flatnonzero(~points)
    inside = np.zeros(n, dtype=bool)
    if len(others):
        inside[others] = shapely.intersects(geoms[others], origin)
        far = others[~inside[others]]
        if len(far):
            scale = np.cos(np.radians(origin.y))
            local = shapely.transform(geoms[far], lambda xy: (xy - [origin.x, origin.y]) * [scale, 1.0])
            nearest = shapely.get_coordinates(shapely.shortest_line(Point(0, 0), local)).reshape(-1, 2, 2)[:, 1]
            targets[far] = nearest / [scale, 1.0] + [origin.x, origin.y]
        targets[others[inside[others]]] = [origin.x, origin.y]
    lon0 = np.full(n, origin.x)
    lat0 = np.full(n, origin.y)
    distances = _GEOD.inv(lon0, lat0, targets[:, 0], targets[:, 1])[2]
    return np.where(inside, 0.0, distances)


_GEOD = Geod(ellps="WGS84")
