"""GeoDataFrame → GeoJSON (RFC 7946): one fast path shared by the export, the API and the maps."""

from __future__ import annotations

import math
from typing import Any, Iterable

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

COORDINATE_DECIMALS = 7  # ~1 cm; RFC 7946 §11.2 advises no more than needed


def plain(value: Any) -> Any:
    """Make a cell JSON-ready: numpy scalars and arrays to Python, NaN to null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return plain(value.item())
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def geometries(frame: gpd.GeoDataFrame, decimals: int = COORDINATE_DECIMALS) -> list[dict | None]:
    """Return the geometries as GeoJSON dicts, rounded, counter-clockwise shells (RFC 7946 §3.1.6)."""
    geoms = frame.geometry.values
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out: list[dict | None] = [None] * len(geoms)
    if present.any():
        ok = shapely.orient_polygons(shapely.set_precision(geoms[present], 10.0**-decimals, mode="pointwise"))
        texts = shapely.to_geojson(ok)
        for i, text in zip(np.flatnonzero(present), texts):
            out[i] = orjson.loads(text)
    return out


def features(frame: gpd.GeoDataFrame, columns: Iterable[str] | None = None,
             decimals: int = COORDINATE_DECIMALS) -> list[dict]:
    """Return GeoJSON Feature dicts, with `id` lifted out of the properties' id column."""
    geom_name = frame.geometry.name
    names = [c for c in (columns if columns is not None else frame.columns) if c != geom_name]
    records = frame[names].to_dict(orient="records") if names else [{}] * len(frame)
    ids = frame["id"].tolist() if "id" in frame.columns else list(range(len(frame)))
    return [
        {"type": "Feature", "id": plain(fid), "geometry": geom,
         "properties": {k: plain(v) for k, v in rec.items() if k != "id"}}
        for fid, geom, rec in zip(ids, geometries(frame, decimals), records)
    ]


def feature_collection(frame: gpd.GeoDataFrame, **extra: Any) -> dict:
    """Return a FeatureCollection dict."""
    return {"type": "FeatureCollection", "features": features(frame), **extra}


def encode_features(frame: gpd.GeoDataFrame) -> list[bytes]:
    """Return each feature serialised once (CRS84, all properties): responses join these bytes."""
    return [orjson.dumps(f, option=orjson.OPT_SERIALIZE_NUMPY) for f in features(frame)]
