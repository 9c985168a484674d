"""`geoservice validate`: every check the curated data must pass, one line per problem."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import geopandas as gpd
import shapely
from pyproj import CRS

from geoservice.catalog import Catalog, build_catalog
from geoservice.plans import clean_text
from geoservice.problems import DataError, Problem

# A point may lie this far outside its declared districts: boundary polygons are generalised
# (AMap, ~100 m) and approximate points are right to within a few km by definition.
POINT_TOLERANCE_M = 1000.0
INVENTORY_FILE = "../shared/INVENTORY.md"


def validate(data_dir: Path, shared_dir: Path | None) -> tuple[list[Problem], Catalog | None]:
    """Run every check; return the problems and the catalog (None if it could not load)."""
    try:
        catalog = build_catalog(data_dir)
    except DataError as exc:
        return exc.problems, None
    problems = check_geometries(catalog) + check_points_in_districts(catalog)
    problems += check_geometry_files(catalog)
    if shared_dir is not None:
        problems += check_quotes(catalog, shared_dir / "seeds")
        problems += check_inventory(catalog, shared_dir / "INVENTORY.md")
    return problems, catalog


def _file(plan_id: str) -> str:
    """Return the display path of a plan file."""
    return f"data/plans/{plan_id}.yaml"


def check_geometries(catalog: Catalog) -> list[Problem]:
    """Every non-null geometry is valid and non-empty."""
    problems = []
    for c in catalog.collections.values():
        geoms = c.frame.geometry
        bad = geoms.notna() & (~geoms.is_valid | geoms.is_empty)
        for fid, geom in zip(c.frame.loc[bad, "id"], geoms[bad]):
            reason = shapely.is_valid_reason(geom) if geom is not None else "empty"
            problems.append(Problem(_file(c.plan) if c.plan else c.id, f"invalid geometry: {reason}", fid, "geometry"))
    return problems


def _utm(lon: float, lat: float) -> CRS:
    """Return the UTM zone CRS of a position (for metric distances)."""
    zone = int((lon + 180) // 6) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def check_points_in_districts(catalog: Catalog) -> list[Problem]:
    """Every point lies inside the union of its declared districts (within POINT_TOLERANCE_M)."""
    problems = []
    for c in catalog.plan_collections():
        frame = c.frame
        points = frame[frame.geometry.notna() & (frame.geometry.geom_type == "Point")]
        for row in points.itertuples():
            if not row.districts:
                problems.append(Problem(_file(c.plan), "a point needs its districts", row.id, "districts"))
                continue
            area = catalog.boundaries.union(catalog.boundaries.hosts(tuple(row.districts))[0])
            if area.contains(row.geometry):
                continue
            crs = _utm(row.geometry.x, row.geometry.y)
            pair = gpd.GeoSeries([row.geometry, area], crs="EPSG:4326").to_crs(crs)
            distance = pair.iloc[0].distance(pair.iloc[1])
            if distance > POINT_TOLERANCE_M:
                problems.append(Problem(
                    _file(c.plan), f"point lies {distance / 1000:.1f} km outside its districts "
                    f"{row.districts} (tolerance {POINT_TOLERANCE_M:.0f} m)", row.id, "location.point"))
    return problems


def check_geometry_files(catalog: Catalog) -> list[Problem]:
    """Shapes imported into data/geometry/ pass the checks of `geoservice data import-geometry`
    again: valid, within their declared districts (an area far from planned_area_km2 is only
    reported by the import: a plan's figure may count land the boundary leaves out)."""
    from geoservice.analysis.geometry_import import check_shape

    problems = []
    for c in catalog.plan_collections():
        imported = c.frame[c.frame["geometry_basis"] == "geometry_file"]
        for fid, geom in zip(imported["id"], imported.geometry):
            report = check_shape(catalog, fid, geom)
            problems += [Problem(_file(c.plan), f"geometry file: {m}", fid, "location")
                         for m in report.errors]
    return problems


def _fold(text: str) -> str:
    """Fold text for quote matching: NFKC, no whitespace, one kind of quote mark."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[“”\"「」『』‘’']", '"', text)
    return re.sub(r"\s+", "", text)


def check_quotes(catalog: Catalog, seeds_dir: Path) -> list[Problem]:
    """Every citation's quote appears in its plan's seed text (ellipses split fragments)."""
    problems: list[Problem] = []
    texts: dict[str, str | None] = {}
    for plan_id, plan in catalog.plans.items():
        path = seeds_dir / plan.plan.seed
        texts[plan_id] = _fold(clean_text(path.read_text(encoding="utf-8"))) if path.exists() else None
        if texts[plan_id] is None:
            problems.append(Problem(_file(plan_id), f"seed text {path} not found", "", "plan.seed"))
    cited = [
        (fid, plan_id, source)
        for c in catalog.collections.values() if {"source", "plan"} <= set(c.frame.columns)
        for fid, plan_id, source in zip(c.frame["id"], c.frame["plan"], c.frame["source"])
    ]
    cited += [
        (f"targets[{i}]", plan_id, {"quote": t.source.quote})
        for plan_id, plan in catalog.plans.items() for i, t in enumerate(plan.targets) if t.source
    ]
    for fid, plan_id, source in cited:
        text = texts.get(plan_id)
        if not text:
            continue
        fragments = [f for f in re.split(r"…+|\.\.\.+|⋯+", _fold(clean_text(source["quote"]))) if f]
        missing = [f for f in fragments if f not in text]
        if missing:
            problems.append(Problem(_file(plan_id), f"quote not found in the seed text: {missing[0][:40]!r}", fid, "source.quote"))
    return problems


def inventory_names(path: Path) -> dict[str, list[str]]:
    """Parse INVENTORY.md: seed prefix (e.g. '002') → element names of its tables."""
    names: dict[str, list[str]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        header = re.match(r"^##\s.*?\((\d{3})\b", line)
        if header:
            current = header.group(1)
            names.setdefault(current, [])
            continue
        cell = re.match(r"^\|\s*([^|]+?)\s*\|", line)
        if current and cell and not set(cell.group(1)) <= set("-: ") and cell.group(1) != "name_zh":
            names[current] += [n.strip() for n in re.split(r"[,，]\s*", cell.group(1)) if n.strip()]
    return names


def check_inventory(catalog: Catalog, path: Path) -> list[Problem]:
    """Every element named in INVENTORY.md is a feature of the plan its section covers."""
    if not path.exists():
        return [Problem(INVENTORY_FILE, f"not found at {path}: cannot check the inventory")]
    by_seed = {plan.plan.seed[:3]: plan_id for plan_id, plan in catalog.plans.items()}
    problems = []
    for seed, names in inventory_names(path).items():
        plan_id = by_seed.get(seed)
        if plan_id is None:
            problems.append(Problem(INVENTORY_FILE, f"no plan file cites seed {seed}_*.txt"))
            continue
        have = {_fold(n) for n in catalog[plan_id].frame["name_zh"]}
        problems += [
            Problem(_file(plan_id), f"INVENTORY element {n!r} has no feature with that name_zh")
            for n in names if _fold(n) not in have
        ]
    return problems
