"""`geoservice data import-geometry`: every format and datum, the checks, the plan-file edit, and
the catalog, lookups and `geoservice validate` using the imported shape (on a copy of data/)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import orjson
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import Point, box

from geoservice.analysis.geometry_import import GeometryImportError, import_geometry, set_location
from geoservice.api.app import create_app
from geoservice.catalog import build_catalog
from geoservice.chinese_datums import FROM_WGS84, transform_geometry
from geoservice.settings import PACKAGE_ROOT, Settings

CORE = "yantai-biomed-1p3x.core-zone"
PLAN_FILE = "plans/yantai-biomed-1p3x.yaml"
# A small block of Muping District (WGS84), well inside the district, and a point 300 m east of it.
BLOCK = box(121.585, 37.385, 121.600, 37.395)
JUST_OUTSIDE = Point(121.6035, 37.390)
INSIDE = Point(121.5925, 37.390)


def _in_datum(geometry, datum: str):
    """Return a WGS84 shape as a file in that datum would hold it."""
    func = FROM_WGS84.get(datum)
    return geometry if func is None else transform_geometry(geometry, func)


def _write(folder: Path, fmt: str, geometry, datum: str = "WGS84", name: str = CORE) -> Path:
    """Write one shape in a format, with the coordinates of a datum (CGCS2000: EPSG:4490)."""
    crs = 4490 if datum == "CGCS2000" else 4326
    frame = gpd.GeoDataFrame({"feature": [name]}, geometry=[_in_datum(geometry, datum)], crs=crs)
    if fmt == "csv":
        path = folder / "points.csv"
        pts = (
            frame.geometry.representative_point()
            if geometry.geom_type != "Point"
            else frame.geometry
        )
        path.write_text(
            "feature,lon,lat\n" + "".join(f"{name},{p.x:.9f},{p.y:.9f}\n" for p in pts),
            encoding="utf-8",
        )
        return path
    suffix, driver = {
        "gpkg": (".gpkg", "GPKG"),
        "shp": (".shp", "ESRI Shapefile"),
        "geojson": (".geojson", "GeoJSON"),
        "kml": (".kml", "KML"),
    }[fmt]
    path = folder / f"shape{suffix}"
    frame.to_file(
        path, driver=driver, engine="pyogrio", **({"layer": "zones"} if fmt == "gpkg" else {})
    )
    return path


def _same(a, b, tolerance_deg: float) -> bool:
    """Tell whether two shapes have the same vertices to a tolerance (any ring start and order)."""
    return a.normalize().equals_exact(b.normalize(), tolerance_deg)


def _written(data: Path, fid: str = CORE):
    """Return the shape written for a feature."""
    path = data / "geometry" / fid.split(".")[0] / f"{fid}.geojson"
    return shapely.from_geojson(
        orjson.dumps(orjson.loads(path.read_bytes())["features"][0]["geometry"])
    )


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson", "kml"])
def test_each_format_is_read_converted_and_written(data_copy, catalog, tmp_path, fmt):
    path = _write(tmp_path, fmt, BLOCK)
    reports = import_geometry(
        catalog, data_copy, path, feature=CORE, layer="zones" if fmt == "gpkg" else None
    )
    assert [r.errors for r in reports] == [[]]
    assert reports[0].written == f"data/geometry/yantai-biomed-1p3x/{CORE}.geojson"
    assert _same(_written(data_copy), BLOCK, 1e-7)
    assert reports[0].area_km2 == pytest.approx(1.47, abs=0.05)  # 1.3 km × 1.1 km
    assert any("differs from planned_area_km2 22.6" in w for w in reports[0].warnings)


def test_csv_points_are_matched_by_field(data_copy, catalog, tmp_path):
    """CSV points: each row names its feature by id or Chinese name; a point feature is surveyed."""
    site = catalog["yantai-biomed-1p3x"].frame.set_index("id").loc["yantai-biomed-1p3x.blue-valley"]
    target = Point(site.geometry.x + 0.001, site.geometry.y + 0.001)
    path = _write(tmp_path, "csv", target, name="烟台蓝色药谷")
    reports = import_geometry(catalog, data_copy, path, match="feature", precision="surveyed")
    assert [(r.feature, r.errors) for r in reports] == [("yantai-biomed-1p3x.blue-valley", [])]
    assert _written(data_copy, "yantai-biomed-1p3x.blue-valley").equals_exact(target, 1e-7)
    rebuilt = build_catalog(data_copy)["yantai-biomed-1p3x"].frame.set_index("id")
    assert rebuilt.loc["yantai-biomed-1p3x.blue-valley", "location_precision"] == "surveyed"
    assert rebuilt.loc["yantai-biomed-1p3x.blue-valley", "geometry_basis"] == "geometry_file"


@pytest.mark.parametrize(
    "datum, moved_m",
    [("WGS84", (0, 0)), ("CGCS2000", (0, 0)), ("GCJ-02", (300, 700)), ("BD-09", (700, 1500))],
)
def test_each_datum_comes_back_to_wgs84(data_copy, catalog, tmp_path, datum, moved_m):
    path = _write(tmp_path, "gpkg", BLOCK, datum)
    (report,) = import_geometry(catalog, data_copy, path, feature=CORE, datum=datum)
    back = _written(data_copy)
    # to 1e-6° (≈ 0.1 m): GCJ-02/BD-09 by the exact inverse, CGCS2000 by pyproj (same frame)
    assert _same(back, BLOCK, 1e-6)
    assert moved_m[0] <= report.shift_m <= moved_m[1]


def test_a_wrong_datum_shows_how_far_it_moved_and_the_district_line_it_crossed(
    data_copy, catalog, tmp_path
):
    """A WGS84 block 230 m east of the 牟平区/莱山区 line, declared GCJ-02 by mistake: converting
    moves it ~470 m west, into 莱山区; the report says so."""
    bounds = catalog.boundaries.frame
    border = bounds.loc["370612", "geometry"].intersection(bounds.loc["370613", "geometry"])
    p = border.interpolate(0.5, normalized=True)
    block = box(p.x + 0.0021, p.y - 0.0004, p.x + 0.0031, p.y + 0.0004)
    frame = gpd.GeoDataFrame(geometry=[block], crs=4326)
    frame.to_file(tmp_path / "wrong.geojson", driver="GeoJSON", engine="pyogrio")
    (report,) = import_geometry(
        catalog, data_copy, tmp_path / "wrong.geojson", feature=CORE, datum="GCJ-02"
    )
    assert report.districts_before == ("牟平区",)
    assert "莱山区" in report.districts_after
    assert 400 < report.shift_m < 600
    text = "\n".join(report.lines())
    assert "moved it 4" in text and "across a district line" in text


def test_a_shape_outside_its_districts_is_refused_and_nothing_changes(data_copy, catalog, tmp_path):
    before = (data_copy / PLAN_FILE).read_bytes()
    path = _write(
        tmp_path, "geojson", box(121.30, 37.50, 121.32, 37.52)
    )  # 芝罘区 / sea, not 牟平 or 莱山
    (report,) = import_geometry(catalog, data_copy, path, feature=CORE)
    assert report.errors and "outside its declared districts" in report.errors[0]
    assert not report.written and (data_copy / PLAN_FILE).read_bytes() == before
    assert not (data_copy / "geometry").exists()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"feature": "yantai-biomed-1p3x.nope"}, "no plan feature"),
        ({"match": "missing_field"}, "no field"),
        ({"feature": CORE, "datum": "Xian80"}, "datum"),
    ],
)
def test_bad_requests_are_explained(data_copy, catalog, tmp_path, kwargs, message):
    path = _write(tmp_path, "geojson", BLOCK)
    with pytest.raises(GeometryImportError, match=message):
        import_geometry(catalog, data_copy, path, **kwargs)


def test_the_plan_file_changes_in_the_location_line_only(data_copy, tmp_path):
    path = data_copy / PLAN_FILE
    before = path.read_text(encoding="utf-8").splitlines()
    set_location(path, CORE, "official", 'their GIS, "2024" edition')
    after = path.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(before) == len(after) and len(changed) == 1
    assert (
        changed[0][1]
        == '    location: {precision: official, source: "their GIS, \\"2024\\" edition"}'
    )


def _lookup_plan_ids(data_dir: Path, point: Point) -> set[str]:
    """Return the yantai-biomed-1p3x features /lookup lists at a point, on an app over data_dir."""
    with TestClient(create_app(Settings(data_dir=data_dir))) as client:
        body = client.get("/lookup", params={"point": f"{point.x},{point.y}"}).json()
    return {f["id"] for f in body["plans"]["yantai-biomed-1p3x"]}


def test_import_moves_lookup_answers_and_reverting_the_plan_file_undoes_it(
    data_copy, catalog, tmp_path
):
    """The issue's check: a small GCJ-02 GeoPackage polygon for the core zone. Before, the zone is
    the whole of 牟平区 and 莱山区, so a point just outside the block is in it; after the import it
    is not (the block itself still is); reverting the plan file brings the old answer back."""
    assert catalog.boundaries.frame.loc["370612", "geometry"].contains(JUST_OUTSIDE)
    assert CORE in _lookup_plan_ids(data_copy, JUST_OUTSIDE)
    original = (data_copy / PLAN_FILE).read_bytes()
    path = _write(tmp_path, "gpkg", BLOCK, "GCJ-02")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "geoservice.cli",
            "--data-dir",
            str(data_copy),
            "data",
            "import-geometry",
            str(path),
            "--layer",
            "zones",
            "--feature",
            CORE,
            "--datum",
            "GCJ-02",
            "--source",
            "市规划局 GIS",
        ],
        capture_output=True,
        text=True,
        cwd=PACKAGE_ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "datum conversion moved it" in result.stdout and "written: data/geometry/" in result.stdout
    )
    assert CORE not in _lookup_plan_ids(data_copy, JUST_OUTSIDE)
    assert CORE in _lookup_plan_ids(data_copy, INSIDE)
    zone = build_catalog(data_copy)["yantai-biomed-1p3x"].frame.set_index("id").loc[CORE]
    assert (zone["location_precision"], zone["location_source"]) == ("official", "市规划局 GIS")
    (data_copy / PLAN_FILE).write_bytes(original)  # revert the plan file
    assert CORE in _lookup_plan_ids(data_copy, JUST_OUTSIDE)


def test_validate_rechecks_imported_shapes(data_copy, catalog, tmp_path):
    import_geometry(catalog, data_copy, _write(tmp_path, "geojson", BLOCK), feature=CORE)
    validate = [sys.executable, "-m", "geoservice.cli", "--data-dir", str(data_copy), "validate"]
    ok = subprocess.run(validate, capture_output=True, text=True, cwd=PACKAGE_ROOT, timeout=120)
    assert ok.returncode == 0, ok.stdout
    shape_file = data_copy / "geometry" / "yantai-biomed-1p3x" / f"{CORE}.geojson"
    doc = orjson.loads(shape_file.read_bytes())
    doc["features"][0]["geometry"] = shapely.geometry.mapping(box(121.30, 37.50, 121.32, 37.52))
    shape_file.write_bytes(orjson.dumps(doc))
    bad = subprocess.run(validate, capture_output=True, text=True, cwd=PACKAGE_ROOT, timeout=120)
    assert bad.returncode == 1
    assert f"feature {CORE}: field location: geometry file: reaches" in bad.stdout
    shutil.rmtree(data_copy / "geometry")
    missing = subprocess.run(
        validate, capture_output=True, text=True, cwd=PACKAGE_ROOT, timeout=120
    )
    assert missing.returncode == 1 and "needs a geometry file" in missing.stdout


def test_a_block_style_location_is_replaced_whole(data_copy):
    """A location written over several lines (point, source) becomes one line; the lines around
    it, the comment after it included, stay."""
    path = data_copy / "plans" / "yantai-isotopes.yaml"
    before = path.read_text(encoding="utf-8").splitlines()
    set_location(path, "yantai-isotopes.yantaishan-hospital", "surveyed", "医院总平面图")
    after = path.read_text(encoding="utf-8").splitlines()
    assert len(after) == len(before) - 3
    at = before.index("  - id: yantai-isotopes.yantaishan-hospital")
    block = next(i for i in range(at, len(before)) if before[i] == "    location:")
    assert after[block] == '    location: {precision: surveyed, source: "医院总平面图"}'
    assert after[:block] == before[:block] and after[block + 1:] == before[block + 4:]
