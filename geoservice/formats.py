"""Features for desktop tools: CSV for Excel, Excel workbooks and GeoPackages (bytes or files).

Plain functions over GeoDataFrames (CRS84); the API's downloads and `geoservice export` use them.
"""

from __future__ import annotations

import io
import math
import re
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import pyogrio
import shapely

from geoservice import tables

CSV = "text/csv"
GPKG = "application/geopackage+sqlite3"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSIONS = {"csv": CSV, "gpkg": GPKG, "xlsx": XLSX}

# Without a BOM Excel reads UTF-8 CSV in the local code page (GBK on Chinese Windows): mojibake.
LIST_SEPARATOR = "; "
EXCEL_CELL_MAX = 32_767  # characters Excel keeps in one cell
_ILLEGAL_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters xlsx cannot hold

# Columns added to a workbook for the geometry (which a cell cannot hold in full).
GEOMETRY_FIELDS = {
    "geometry_type": {
        "title": "Geometry type (Point, Polygon, …; empty: no site given)",
        "type": "string",
    },
    "lon": {
        "title": "Longitude (x in the download's CRS, WGS84 by default) of the point, or of a "
        "point inside the area or on the line",
        "type": "number",
    },
    "lat": {"title": "Latitude (y), as lon", "type": "number"},
}


def _structured(value: Any) -> bool:
    return isinstance(value, (list, tuple, dict, np.ndarray))


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def structured_columns(frame: pd.DataFrame) -> list[str]:
    """Return the columns holding lists or objects (targets, sectors, source, …)."""
    return [
        name
        for name in frame.columns
        if frame[name].dtype == object and frame[name].map(_structured).any()
    ]


def properties(frame: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """Return the attribute columns only (no geometry)."""
    if isinstance(frame, gpd.GeoDataFrame):
        return pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return pd.DataFrame(frame)


# ---- CSV -------------------------------------------------------------------------------------


def to_csv(frame: gpd.GeoDataFrame) -> bytes:
    """Return features as CSV for Excel and scripts: UTF-8 with a BOM, one row per feature, lists
    and objects as JSON, the geometry as WKT in the last column `wkt`."""
    table = properties(frame)
    for name in structured_columns(table):
        table[name] = table[name].map(lambda v: _json(v) if _structured(v) else v)
    geoms = (
        frame.geometry.values if isinstance(frame, gpd.GeoDataFrame) else np.full(len(table), None)
    )
    table["wkt"] = [None if g is None else g.wkt for g in geoms]
    return tables.to_csv(table)  # formula-like text cells neutralised, as for every CSV we write


# ---- Excel -----------------------------------------------------------------------------------


def cell_text(value: Any) -> Any:
    """Return a value as one readable cell: lists joined by "; ", objects as "key: value, …",
    numbers and text as they are, nothing for a missing value."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if _missing(value):
        return None
    if isinstance(value, (list, tuple)):
        text = LIST_SEPARATOR.join(str(cell_text(v)) for v in value if not _missing(v))
    elif isinstance(value, dict):
        text = ", ".join(f"{k}: {cell_text(v)}" for k, v in value.items() if not _missing(v))
    elif isinstance(value, (bool, int, float)):
        return value
    else:
        text = str(value)
    text = _ILLEGAL_IN_XML.sub("", text)
    return text if len(text) <= EXCEL_CELL_MAX else text[: EXCEL_CELL_MAX - 1] + "…"


def geometry_columns(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return geometry_type, lon and lat per row (a point inside areas and on lines)."""
    geoms = frame.geometry.values
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    xy = np.full((len(geoms), 2), np.nan)
    if present.any():
        xy[present] = shapely.get_coordinates(shapely.point_on_surface(geoms[present]))
    kinds = frame.geometry.geom_type.where(present, None)
    return pd.DataFrame(
        {"geometry_type": kinds, "lon": np.round(xy[:, 0], 7), "lat": np.round(xy[:, 1], 7)},
        index=frame.index,
    )


def describe(frame: gpd.GeoDataFrame) -> Mapping[str, Mapping[str, Any]]:
    """Return each column's title and JSON type, as a collection's queryables state them."""
    from geoservice.catalog import Collection  # the one derivation of titles and types

    return Collection("features", "", "", frame).properties


def to_xlsx(
    frame: gpd.GeoDataFrame | pd.DataFrame,
    fields: Mapping[str, Mapping[str, Any]] | None = None,
    sheet: str = "features",
) -> bytes:
    """Return an Excel workbook: one row per feature (lists joined, objects as key: value, the
    geometry as type and a lon/lat point), and a second sheet `fields` naming and describing each
    column (fields: column → {"title", "type"}, e.g. a collection's queryables; default: the
    titles the catalog gives its properties)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    table = properties(frame)
    described = dict(fields if fields is not None else describe(frame))
    if isinstance(frame, gpd.GeoDataFrame) and not frame.geometry.isna().all():
        table = pd.concat([table, geometry_columns(frame)], axis=1)
        described.update(GEOMETRY_FIELDS)
    cells = [[cell_text(v) for v in record] for record in table.itertuples(index=False)]
    book = Workbook()
    rows = book.active
    rows.title = _sheet_title(sheet)
    rows.append(list(table.columns))
    for record in cells:
        rows.append(record)
    for row in rows.iter_rows(min_row=2):  # text is text: openpyxl would store "=…" as a formula
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
    rows.freeze_panes = "A2"
    if cells:
        rows.auto_filter.ref = rows.dimensions
    for i, cell in enumerate(rows[1]):  # bold names; widths from the first rows' texts
        cell.font = Font(bold=True)
        widest = max((len(str(r[i])) for r in cells[:50] if r[i] is not None), default=0)
        rows.column_dimensions[cell.column_letter].width = min(60, max(10, widest, len(cell.value)))
    about = book.create_sheet("fields")
    about.append(["field", "title", "type"])
    for name in table.columns:
        spec = described.get(name, {})
        about.append([name, spec.get("title", name), spec.get("type", "")])
    for cell in about[1]:
        cell.font = Font(bold=True)
    about.column_dimensions["A"].width, about.column_dimensions["B"].width = 22, 70
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(text: str) -> str:
    """Return a valid sheet name: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", "_", text)[:31] or "features"


# ---- GeoPackage ------------------------------------------------------------------------------


# GeoPackage 1.2, not the 1.4 of recent GDAL: the QGIS and GDAL of current LTS distributions
# (Debian 12: QGIS 3.22, GDAL 3.6) read 1.4 files only with a "partially supported" warning.
GPKG_DATASET_OPTIONS = {"VERSION": "1.2"}


@dataclass(frozen=True)
class Layer:
    """One table of a GeoPackage: features (or attributes only) and, optionally, its QGIS style."""

    name: str
    frame: gpd.GeoDataFrame | pd.DataFrame
    qml: str | None = None
    description: str = ""


def write_gpkg(path: Path, layers: Iterable[Layer]) -> None:
    """Write layers into one GeoPackage: lists and objects as JSON text declared as JSON (so GDAL
    and QGIS give them back structured), styles in QGIS's `layer_styles` table (default style)."""
    if path.exists():
        path.unlink()
    styles = []
    for layer in layers:
        table = layer.frame.copy()
        listed = structured_columns(properties(table))
        for name in listed:
            table[name] = table[name].map(lambda v: _json(v) if _structured(v) else v)
        spatial = isinstance(table, gpd.GeoDataFrame) and not table.geometry.isna().all()
        if not spatial:
            table = properties(table)
        # geometry type inferred: Point, MultiPolygon (singles promoted), or GEOMETRY when mixed
        append = path.exists()
        pyogrio.write_dataframe(
            table,
            path,
            layer=layer.name,
            driver="GPKG",
            append=append,
            dataset_options=None if append else GPKG_DATASET_OPTIONS,
            layer_options={"DESCRIPTION": layer.description} if layer.description else None,
        )
        mark_json_columns(path, layer.name, listed)
        if layer.qml is not None and spatial:
            styles.append((layer.name, layer.qml))
    if styles:
        write_layer_styles(path, styles)


def to_gpkg(frame: gpd.GeoDataFrame, layer: str) -> bytes:
    """Return one layer as the bytes of a GeoPackage file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "download.gpkg"
        write_gpkg(path, [Layer(layer, frame)])
        return path.read_bytes()


def mark_json_columns(path: Path, table: str, columns: list[str]) -> None:
    """Declare text columns as JSON in a GeoPackage (Schema extension, mime_type application/json),
    so GDAL, QGIS and our own reader give lists back, not their JSON text."""
    if not columns:
        return
    with sqlite3.connect(path) as db:
        db.executescript(_GPKG_SCHEMA_EXTENSION)
        db.executemany(
            "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, mime_type) "
            "VALUES (?, ?, 'application/json')",
            [(table, c) for c in columns],
        )
    db.close()


_GPKG_SCHEMA_EXTENSION = """
CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT,
    extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
    CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
    name TEXT, title TEXT, description TEXT, mime_type TEXT, constraint_name TEXT,
    CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
    CONSTRAINT gdc_tn UNIQUE (table_name, name));
CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (constraint_name TEXT NOT NULL,
    constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN, max NUMERIC,
    max_is_inclusive BOOLEAN, description TEXT,
    CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
INSERT OR IGNORE INTO gpkg_extensions VALUES
    ('gpkg_data_columns', NULL, 'gpkg_schema',
     'http://www.geopackage.org/spec121/#extension_schema', 'read-write'),
    ('gpkg_data_column_constraints', NULL, 'gpkg_schema',
     'http://www.geopackage.org/spec121/#extension_schema', 'read-write');
"""

# QGIS's own table of layer styles (as QGIS creates it when saving a style into a GeoPackage):
# QGIS applies the row with useAsDefault when it opens the layer. QGIS reads it through GDAL,
# which sees only the tables gpkg_contents lists: it is registered there as an attributes table.
_LAYER_STYLES = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
    f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
    styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
    update_time DATETIME DEFAULT CURRENT_TIMESTAMP);
INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, last_change)
    VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles',
            strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
"""


def write_layer_styles(path: Path, styles: list[tuple[str, str]]) -> None:
    """Store (layer, QML) rows as the layers' default QGIS styles. QGIS finds a layer's style by
    table and geometry column name (GDAL names it `geom`), so the column is read from the file."""
    description = "The map pages' colours and icons (data/maps/styles.yaml)"
    with sqlite3.connect(path) as db:
        db.executescript(_LAYER_STYLES)
        db.executemany(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, "
            "update_time) SELECT '', '', table_name, column_name, table_name, ?, '', 1, ?, "
            "'geoservice', strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
            "FROM gpkg_geometry_columns WHERE table_name = ?",
            [(qml, description, name) for name, qml in styles],
        )
    db.close()


def save(frame: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write features to a file for another tool, by its suffix: .xlsx (Excel), .csv (UTF-8 with
    BOM), .gpkg (GeoPackage; lists kept as JSON, which GeoDataFrame.to_file cannot write) or
    .geojson (RFC 7946). Return the path."""
    from geoservice.geojson import feature_collection

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        path.write_bytes(to_xlsx(frame, sheet=path.stem))
    elif suffix == ".csv":
        path.write_bytes(to_csv(frame))
    elif suffix == ".gpkg":
        write_gpkg(path, [Layer(path.stem, frame)])
    elif suffix in (".geojson", ".json"):
        body = feature_collection(frame.to_crs(4326) if frame.crs is not None else frame)
        path.write_bytes(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY))
    else:
        raise ValueError(f"cannot write {path.name!r}: use .xlsx, .csv, .gpkg or .geojson")
    return path


# ---- HTTP ------------------------------------------------------------------------------------


def content_disposition(name: str, extension: str) -> str:
    """Return an attachment header with the file name (RFC 6266; non-ASCII names via filename*)."""
    from pypinyin import lazy_pinyin

    filename = f"{name}.{extension}"
    fallback = re.sub(
        r"[^A-Za-z0-9._-]+", "_", "".join(lazy_pinyin(filename))
    )  # 创新药 → chuangxinyao
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
