"""`geoservice validate`: every check the curated data must pass, one line per problem."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
from pyproj import CRS

from geoservice.catalog import Catalog, build_catalog
from geoservice.fidelity import check_fidelity
from geoservice.incentive_checks import check_incentives
from geoservice.problems import DataError, Problem
from geoservice.sources import citations, fold, load_plan_texts, quote_fragments
from geoservice.yamlfile import read_yaml

# A point may lie this far outside its declared districts: boundary polygons are generalised
# (AMap, ~100 m) and approximate points are right to within a few km by definition.
POINT_TOLERANCE_M = 1000.0
INVENTORY_FILE = "data/inventory.yaml"


def validate(data_dir: Path) -> tuple[list[Problem], Catalog | None]:
    """Run every check; return the problems and the catalog (None if it could not load)."""
    try:
        catalog = build_catalog(data_dir)
    except DataError as exc:
        return exc.problems, None
    problems = check_geometries(catalog) + check_points_in_districts(catalog)
    problems += check_sources(catalog, data_dir) + check_inventory(catalog, data_dir)
    problems += check_incentives(catalog, data_dir) + check_investor_vocab(catalog, data_dir)
    problems += check_fidelity(catalog, data_dir) + check_geometry_files(catalog)
    return problems, catalog


def check_investor_vocab(catalog: Catalog, data_dir: Path) -> list[Problem]:
    """Check that industry classes map to known sectors and that isotopes.yaml names known sector
    codes and existing features, sited as it says."""
    from geoservice.analysis.isotopes import load_isotopes

    problems = [Problem("data/vocab/industry_codes.yaml", f"unknown sector code {code!r}", c.code, "sectors")
                for c in catalog.sectors.industry for code in c.sectors if code not in catalog.sectors]
    path = data_dir / "vocab" / "isotopes.yaml"
    if not path.exists():
        return problems
    frames = [c.frame for c in catalog.plan_collections()]
    sited = {fid: geom is not None and geom.geom_type == "Point"
             for f in frames for fid, geom in zip(f["id"], f.geometry)}
    for iso in load_isotopes(path).isotopes.values():
        where = "data/vocab/isotopes.yaml"
        if iso.code not in catalog.sectors:
            problems.append(Problem(where, f"unknown sector code {iso.code!r}", iso.nuclide, "code"))
        for site in iso.sites:
            if site.feature not in sited:
                problems.append(Problem(where, f"unknown feature id {site.feature!r}", iso.nuclide, "sites"))
            elif sited[site.feature] != site.sited:
                problems.append(Problem(where, f"{site.feature!r} is {'' if sited[site.feature] else 'not '}"
                                        "sited as a point in its plan; fix `sited`", iso.nuclide, "sites"))
    return problems


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


def check_sources(catalog: Catalog, data_dir: Path) -> list[Problem]:
    """Every plan has its text in data/sources, its header agrees with the plan file, and every
    citation's quote occurs in it (ellipses split fragments). A missing text is a problem, never
    a silently skipped check."""
    texts, missing = load_plan_texts(data_dir / "sources", catalog.plans)
    problems = [Problem(_file(plan_id), reason, "", "source text") for plan_id, reason in missing.items()]
    for plan_id, text in texts.items():
        header = catalog.plans[plan_id].plan
        expected = {"plan": plan_id, "title": header.title_zh, "doc_number": header.doc_number or None,
                    "date": header.date, "status": header.status}
        problems += [
            Problem(f"data/sources/{plan_id}.txt", f"header {key}: {text.meta.get(key)!r} differs from "
                    f"the plan file's {value!r}", "", key)
            for key, value in expected.items() if text.meta.get(key) != value
        ]
    for cited in citations(catalog.plans):
        text = texts.get(cited.plan_id)
        if text is not None and text.locate(cited.quote) is None:
            missing_fragment = next(f for f in quote_fragments(cited.quote) if not text.contains(f))
            problems.append(Problem(_file(cited.plan_id), "quote not found in the plan's text: "
                                    f"{missing_fragment[:40]!r}", cited.record_id, "source.quote"))
    return problems


def check_inventory(catalog: Catalog, data_dir: Path) -> list[Problem]:
    """Every element data/inventory.yaml requires is a feature (by exact name_zh) of its plan."""
    path = data_dir / "inventory.yaml"
    if not path.exists():
        return [Problem(INVENTORY_FILE, "not found: cannot check that every named element is a feature")]
    required = read_yaml(path).get("required_elements") or {}
    problems = []
    for plan_id, names in required.items():
        if plan_id not in catalog.plans:
            problems.append(Problem(INVENTORY_FILE, f"no plan file {_file(plan_id)}", field=plan_id))
            continue
        have = {fold(n) for n in catalog[plan_id].frame["name_zh"]}
        problems += [
            Problem(_file(plan_id), f"inventory element {n!r} has no feature with that name_zh")
            for n in names if fold(n) not in have
        ]
    return problems
