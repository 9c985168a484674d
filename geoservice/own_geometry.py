"""Geometry a planner brought in: data/geometry/<plan>/<feature id>.geojson, one WGS84 shape per
feature, written by `geoservice data import-geometry`. A feature with such a file takes its
geometry from it instead of deriving one from its districts or point."""

from __future__ import annotations

from pathlib import Path

import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from geoservice.problems import Problem

GEOMETRY_DIR = "geometry"
# Precisions a geometry file stands for; `official` needs one, `surveyed` has one or a point.
FILE_PRECISIONS = ("official", "surveyed")


def geometry_path(data_dir: Path, plan_id: str, feature_id: str) -> Path:
    """Return where the geometry file of a feature lives."""
    return data_dir / GEOMETRY_DIR / plan_id / f"{feature_id}.geojson"


def display(path: Path, data_dir: Path) -> str:
    """Return a geometry file's path as a planner sees it (data/geometry/…)."""
    return f"data/{path.relative_to(data_dir).as_posix()}"


def load_geometries(data_dir: Path) -> tuple[dict[str, BaseGeometry], list[Problem]]:
    """Read every geometry file: feature id → shape, plus a problem per unreadable file."""
    shapes, problems = {}, []
    for path in sorted((data_dir / GEOMETRY_DIR).glob("*/*.geojson")):
        try:
            doc = orjson.loads(path.read_bytes())
            features = doc["features"] if doc.get("type") == "FeatureCollection" else [doc]
            geoms = [shapely.from_geojson(orjson.dumps(f["geometry"])) for f in features]
        except (orjson.JSONDecodeError, KeyError, TypeError, shapely.errors.GEOSException) as exc:
            problems.append(Problem(display(path, data_dir), f"cannot read the geometry: {exc}"))
            continue
        shapes[path.stem] = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
    return shapes, problems


def write_geometry(path: Path, feature_id: str, geometry: BaseGeometry, properties: dict) -> None:
    """Write one shape as a GeoJSON FeatureCollection (WGS84, 7 decimals ≈ 1 cm)."""
    rounded = shapely.set_precision(geometry, 1e-7)
    feature = {
        "type": "Feature",
        "id": feature_id,
        "properties": {"id": feature_id, **properties},
        "geometry": orjson.loads(shapely.to_geojson(rounded)),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        orjson.dumps(
            {"type": "FeatureCollection", "features": [feature]}, option=orjson.OPT_INDENT_2
        )
        + b"\n"
    )
