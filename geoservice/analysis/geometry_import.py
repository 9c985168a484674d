"""Bring a planner's own boundaries in: read a GIS file, convert it to WGS84, check each shape
against its feature, write data/geometry/<plan>/<id>.geojson and record the new precision and
source in the plan file.

Reads anything GDAL reads through pyogrio (GeoPackage, Shapefile, GeoJSON, KML, CSV points).
A file in GCJ-02 (AMap, Tencent) or BD-09 (Baidu) carries no CRS saying so: the planner names the
datum, and the report says how far converting moved each shape, and warns when that move crossed
a district line (a wrong datum shows up there).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from geoservice.catalog import Catalog
from geoservice.chinese_datums import TO_WGS84, transform_geometry
from geoservice.own_geometry import display, geometry_path, write_geometry
from geoservice.plans import parse_plan_file

DATUMS = ("WGS84", "CGCS2000", "GCJ-02", "BD-09")
# A shape may reach this far outside its declared districts: the district polygons are
# generalised (AMap, ~100 m) and a park boundary may follow a road on the district line.
DISTRICT_TOLERANCE_M = 1000.0
# The imported area may differ this much from planned_area_km2 before the report warns.
AREA_TOLERANCE = 0.25
# A district counts as crossed into when it holds at least this share of a shape's area.
OVERLAP_SHARE = 0.01
CSV_COORDINATES = {
    "X_POSSIBLE_NAMES": "lon,lng,longitude,x,经度",
    "Y_POSSIBLE_NAMES": "lat,latitude,y,纬度",
    "KEEP_GEOM_COLUMNS": "NO",
}
_GEOD = Geod(ellps="WGS84")


class GeometryImportError(ValueError):
    """The file cannot be imported at all (unreadable, no such layer, no matching feature)."""


@dataclass
class ShapeReport:
    """What importing one shape found: errors stop it being written, warnings do not."""

    feature: str
    name_zh: str
    geometry: BaseGeometry
    shift_m: float = 0.0
    area_km2: float | None = None
    planned_area_km2: float | None = None
    outside_m: float = 0.0
    districts_before: tuple[str, ...] = ()
    districts_after: tuple[str, ...] = ()
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: str = ""

    def lines(self) -> list[str]:
        """Return the report as lines for a person."""
        out = [f"{self.feature} ({self.name_zh}): {self.geometry.geom_type}"]
        if self.area_km2 is not None:
            planned = f" (planned {self.planned_area_km2:g} km²)" if self.planned_area_km2 else ""
            out.append(f"  area {self.area_km2:.2f} km²{planned}")
        out.append(f"  datum conversion moved it {self.shift_m:,.0f} m")
        out.append(
            f"  lies in {', '.join(self.districts_after) or 'no district of the catalog'}"
            + (
                f"; reaches {self.outside_m:,.0f} m outside its declared districts"
                if self.outside_m > 0
                else "; within its declared districts"
            )
        )
        out += [f"  warning: {w}" for w in self.warnings]
        out += [f"  error: {e}" for e in self.errors]
        if self.written:
            out.append(f"  written: {self.written}")
        return out


def read_shapes(
    path: Path, layer: str | None, datum: str
) -> tuple[gpd.GeoSeries, gpd.GeoSeries, gpd.GeoDataFrame]:
    """Read a file's features: (as read in lon/lat, converted to WGS84, the attribute table).

    A file with a CRS is first brought to lon/lat with pyproj; a GCJ-02 or BD-09 datum is then
    removed with the exact inverse of geoservice.chinese_datums. A file without a CRS is taken
    as lon/lat in the given datum."""
    if datum not in DATUMS:
        raise GeometryImportError(f"datum {datum!r} is not one of {', '.join(DATUMS)}")
    options = CSV_COORDINATES if path.suffix.lower() == ".csv" else {}
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, **options)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise GeometryImportError(f"cannot read {path}: {exc}") from None
    if "geometry" not in frame or frame.geometry.isna().all():
        raise GeometryImportError(f"{path}: no geometry (a CSV needs lon/lat or x/y columns)")
    if frame.crs is None:
        frame = frame.set_crs(4490 if datum == "CGCS2000" else 4326)
    lonlat = frame.geometry.to_crs(4326)
    convert = TO_WGS84.get(datum)
    wgs84 = (
        lonlat
        if convert is None
        else gpd.GeoSeries(transform_geometry(lonlat.values, convert), index=lonlat.index, crs=4326)
    )
    return lonlat, wgs84, frame


def select_features(
    catalog: Catalog, frame: gpd.GeoDataFrame, feature: str | None, match: str | None
) -> dict[str, list[int]]:
    """Return feature id → the file's rows that make its shape.

    --feature ID: every row of the file is that feature's shape (several rows are unioned).
    --match FIELD: each row names its feature in FIELD, by id or by its Chinese name."""
    features = catalog.plan_features
    if feature is not None:
        if feature not in features.index:
            raise GeometryImportError(f"no plan feature {feature!r}")
        return {feature: list(range(len(frame)))}
    if match not in frame.columns:
        raise GeometryImportError(
            f"no field {match!r} in the file; fields: {', '.join(map(str, frame.columns[:-1]))}"
        )
    by_name = {name: fid for fid, name in zip(features.index, features["name_zh"])}
    chosen: dict[str, list[int]] = {}
    unknown = []
    for i, value in enumerate(frame[match].astype(str).str.strip()):
        fid = value if value in features.index else by_name.get(value)
        if fid is None:
            unknown.append(value)
        else:
            chosen.setdefault(fid, []).append(i)
    if unknown:
        raise GeometryImportError(
            f"field {match!r}: no plan feature with id or name {', '.join(map(repr, unknown))}"
        )
    return chosen


def metric_area_km2(geometry: BaseGeometry) -> float:
    """Return the geodesic area of a lon/lat shape in km²."""
    return abs(_GEOD.geometry_area_perimeter(geometry)[0]) / 1e6


def shift_m(before: BaseGeometry, after: BaseGeometry) -> float:
    """Return how far a shape's centroid moved, in metres."""
    a, b = before.centroid, after.centroid
    return float(_GEOD.inv(a.x, a.y, b.x, b.y)[2])


def distance_outside_m(shape: BaseGeometry, area: BaseGeometry) -> float:
    """Return how far the part of a shape outside an area reaches from it, in metres (0: inside)."""
    outside = shape.difference(area)
    if outside.is_empty:
        return 0.0
    pair = gpd.GeoSeries([outside, area], crs=4326)
    part, host = pair.to_crs(pair.estimate_utm_crs()).values
    vertices = shapely.points(shapely.get_coordinates(part))
    return float(shapely.distance(vertices, host).max())


def districts_of(catalog: Catalog, geometry: BaseGeometry) -> tuple[str, ...]:
    """Return the county-level districts a shape lies in (a point: the one holding it; an area:
    each holding at least OVERLAP_SHARE of it), by Chinese name."""
    bounds = catalog.boundaries.frame
    districts = bounds[bounds["level"] == "district"]
    hits = districts.iloc[districts.sindex.query(geometry, predicate="intersects")]
    if geometry.geom_type in ("Polygon", "MultiPolygon") and geometry.area > 0:
        share = shapely.area(shapely.intersection(hits.geometry.values, geometry)) / geometry.area
        hits = hits[share >= OVERLAP_SHARE]
    return tuple(hits["name_zh"])


def check_shape(
    catalog: Catalog, feature_id: str, geometry: BaseGeometry, before: BaseGeometry | None = None
) -> ShapeReport:
    """Check one WGS84 shape for a feature: valid, within its declared districts (within
    DISTRICT_TOLERANCE_M), area against planned_area_km2; with `before` (the shape as read,
    before the datum conversion), how far converting moved it and whether that crossed a
    district line. `geoservice validate` runs the same checks on the files in data/geometry/."""
    row = catalog.plan_features.loc[feature_id]
    report = ShapeReport(
        feature_id, row["name_zh"], geometry, planned_area_km2=row["planned_area_km2"]
    )
    if geometry is None or geometry.is_empty:
        report.errors.append("empty geometry")
        return report
    if not geometry.is_valid:
        report.errors.append(f"invalid geometry: {shapely.is_valid_reason(geometry)}")
        return report
    report.districts_after = districts_of(catalog, geometry)
    if row["districts"]:
        area = catalog.boundaries.union(catalog.boundaries.hosts(tuple(row["districts"]))[0])
        report.outside_m = distance_outside_m(geometry, area)
        if report.outside_m > DISTRICT_TOLERANCE_M:
            names = "、".join(catalog.boundaries.name_zh(c) for c in row["districts"])
            report.errors.append(
                f"reaches {report.outside_m:,.0f} m outside its declared districts ({names}); "
                f"tolerance {DISTRICT_TOLERANCE_M:,.0f} m"
            )
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        report.area_km2 = metric_area_km2(geometry)
        planned = report.planned_area_km2
        if planned and abs(report.area_km2 - planned) > AREA_TOLERANCE * planned:
            report.warnings.append(
                f"area {report.area_km2:.2f} km² differs from planned_area_km2 {planned:g} "
                f"by {abs(report.area_km2 / planned - 1):.0%}"
            )
    if before is not None:
        report.shift_m = shift_m(before, geometry)
        report.districts_before = districts_of(catalog, before)
        if set(report.districts_before) != set(report.districts_after):
            report.warnings.append(
                "the datum conversion moved it across a district line: as read it lies in "
                f"{'、'.join(report.districts_before) or 'none'}, converted in "
                f"{'、'.join(report.districts_after) or 'none'} (check the datum)"
            )
    return report


def import_geometry(
    catalog: Catalog,
    data_dir: Path,
    path: Path,
    *,
    layer: str | None = None,
    feature: str | None = None,
    match: str | None = None,
    datum: str = "WGS84",
    source: str | None = None,
    precision: str = "official",
    force: bool = False,
) -> list[ShapeReport]:
    """Import the shapes of a file; write those without errors (all of them with force).

    Each written shape goes to data/geometry/<plan>/<id>.geojson and its feature's location in
    the plan file becomes {precision, source}; nothing else of the plan file changes."""
    if (feature is None) == (match is None):
        raise GeometryImportError("give either a feature id or a field to match features by")
    if precision not in ("official", "surveyed"):
        raise GeometryImportError(f"precision {precision!r}: official or surveyed")
    lonlat, wgs84, frame = read_shapes(path, layer, datum)
    reports = []
    for fid, rows in select_features(catalog, frame, feature, match).items():
        before = shapely.union_all(lonlat.iloc[rows].values)
        after = shapely.union_all(wgs84.iloc[rows].values)
        report = check_shape(catalog, fid, after, before if datum in ("GCJ-02", "BD-09") else None)
        if report.errors and not force:
            reports.append(report)
            continue
        plan_id = fid.split(".")[0]
        described = source or _default_source(path, layer, datum)
        target = geometry_path(data_dir, plan_id, fid)
        write_geometry(
            target,
            fid,
            after,
            {
                "source": described,
                "datum": datum,
                "file": path.name,
                "imported": dt.date.today().isoformat(),
            },
        )
        set_location(data_dir / "plans" / f"{plan_id}.yaml", fid, precision, described)
        report.written = display(target, data_dir)
        reports.append(report)
    return reports


def _default_source(path: Path, layer: str | None, datum: str) -> str:
    """Describe where an imported shape comes from when the planner gave no text."""
    where = f"{path.name}" + (f", layer {layer}" if layer else "")
    return f"imported from {where} ({datum}) on {dt.date.today().isoformat()}"


_ITEM = re.compile(r"^(\s*)- id:\s*(\S+)\s*$")


def set_location(plan_file: Path, feature_id: str, precision: str, source: str) -> None:
    """Replace one feature's `location:` in a plan file by {precision, source}, editing only
    those lines (comments, order and layout elsewhere stay as the planner wrote them)."""
    lines = plan_file.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if (m := _ITEM.match(line)) and m.group(2) == feature_id
        ),
        None,
    )
    if start is None:
        raise GeometryImportError(f"{plan_file.name}: no feature {feature_id!r}")
    item_indent = len(_ITEM.match(lines[start]).group(1))
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if lines[i].strip()
            and not lines[i].lstrip().startswith("#")
            and len(lines[i]) - len(lines[i].lstrip()) <= item_indent
        ),
        len(lines),
    )
    at = next((i for i in range(start + 1, end) if re.match(r"^\s+location:", lines[i])), None)
    if at is None:
        raise GeometryImportError(
            f"{plan_file.name}: feature {feature_id!r} has no location to replace"
        )
    indent = len(lines[at]) - len(lines[at].lstrip())
    stop = at + 1
    while stop < end and (
        not lines[stop].strip() or len(lines[stop]) - len(lines[stop].lstrip()) > indent
    ):
        stop += 1
    while stop > at + 1 and not lines[stop - 1].strip():
        stop -= 1  # keep blank lines after the block
    quoted = source.replace("\\", "\\\\").replace('"', '\\"')
    new = f'{" " * indent}location: {{precision: {precision}, source: "{quoted}"}}\n'
    text = "".join(lines[:at] + [new] + lines[stop:])
    _check_still_valid(plan_file, text)
    plan_file.write_text(text, encoding="utf-8")


def _check_still_valid(plan_file: Path, text: str) -> None:
    """Refuse an edit that would leave the plan file unparsable (nothing is written then)."""
    probe = plan_file.with_name(f".{plan_file.name}.check")
    probe.write_text(text, encoding="utf-8")
    try:
        _, problems = parse_plan_file(probe, plan_file.name)
    finally:
        probe.unlink()
    if problems:
        raise GeometryImportError(f"editing {plan_file.name} would break it: {problems[0]}")
