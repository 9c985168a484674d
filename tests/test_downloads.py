"""Downloads for desktop tools, read back as those tools read them: CSV with a BOM (as Excel does),
Excel through openpyxl, GeoPackage through GDAL (pyogrio), and the QGIS styles of the export."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import geopandas as gpd
import openpyxl
import orjson
import pyogrio
import pytest
import shapely

from geoservice.maps.qml import rgba
from geoservice.maps.styles import Styles
from tests.conftest import DATA_DIR

PLAN = "yantai-biomed-1p3x"
ITEMS = f"/collections/{PLAN}/items"
GPKG = "application/geopackage+sqlite3"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LAISHAN = "121.45,37.46"  # a point in 莱山区, Yantai


def read_gpkg(content: bytes, tmp_path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    path = tmp_path / "download.gpkg"
    path.write_bytes(content)
    return pyogrio.read_dataframe(path, layer=layer)


def read_xlsx(content: bytes) -> tuple[list[dict], list[tuple]]:
    """Return the feature rows as dicts and the rows of the fields sheet."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    assert book.sheetnames[1] == "fields"
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    fields = list(book["fields"].iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]], fields


def same_shape(geometry, geojson: dict) -> bool:
    """Return whether a geometry is the GeoJSON one (ring orientation and start aside)."""
    return geometry.normalize().equals_exact(shapely.geometry.shape(geojson).normalize(), 1e-6)


def filename(response) -> str:
    """Return the file name a browser saves the response as (RFC 6266 filename*)."""
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    return unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1))


def test_csv_has_a_bom_and_reads_back_as_the_geojson(client) -> None:
    geojson = client.get(ITEMS, params={"limit": 20}).json()["features"]
    response = client.get(ITEMS, params={"limit": 20, "f": "csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf") and filename(response) == f"{PLAN}.csv"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert [r["id"] for r in rows] == [f["id"] for f in geojson]
    for row, feature in zip(rows, geojson):
        assert row["name_zh"] == feature["properties"]["name_zh"]  # Chinese intact
        assert orjson.loads(row["sectors"]) == feature["properties"]["sectors"]
        if feature["geometry"] is None:
            assert row["wkt"] == ""
        else:
            assert same_shape(shapely.from_wkt(row["wkt"]), feature["geometry"])


def test_excel_has_one_row_per_feature_readable_cells_and_field_titles(client) -> None:
    geojson = client.get(ITEMS, params={"limit": 200}).json()["features"]
    response = client.get(ITEMS, params={"limit": 200, "f": "xlsx"})
    assert response.headers["content-type"] == XLSX and filename(response) == f"{PLAN}.xlsx"
    rows, fields = read_xlsx(response.content)
    assert [r["id"] for r in rows] == [f["id"] for f in geojson]
    for row, feature in zip(rows, geojson):
        props = feature["properties"]
        assert row["name_zh"] == props["name_zh"]
        assert row["sectors"] == ("; ".join(props["sectors"]) or None)  # lists joined, not ['…']
        for value in row.values():
            assert not (
                isinstance(value, str) and re.search(r"\[|\{|'\w+':|\bnan\b|\bNone\b", value)
            ), value
        if feature["geometry"] is None:
            assert row["lon"] is None and row["geometry_type"] is None
        else:
            assert (
                shapely.geometry.shape(feature["geometry"])
                .buffer(1e-6)
                .contains(shapely.Point(row["lon"], row["lat"]))
            )
    core = next(r for r in rows if r["id"] == f"{PLAN}.core-zone")
    assert "metric: " in core["targets"] and "quote: " in core["source"]
    titles = {name: title for name, title, _ in fields[1:]}
    queryables = client.get(f"/collections/{PLAN}/queryables").json()["properties"]
    assert all(titles[name] == queryables[name]["title"] for name in rows[0] if name in queryables)
    assert set(rows[0]) <= set(titles) and titles["lon"].startswith("Longitude")


def test_formula_like_text_stays_text_in_csv_and_excel() -> None:
    """A name Excel would run (=cmd|calc) is neutralised in CSV and stored as text in xlsx; numbers stay numbers."""
    from shapely.geometry import Point

    from geoservice import formats

    frame = gpd.GeoDataFrame({"id": ["a"], "name_zh": ["=cmd|calc"], "n": [-3]}, geometry=[Point(121.4, 37.5)],
                             crs="EPSG:4326")
    row = next(csv.DictReader(io.StringIO(formats.to_csv(frame).decode("utf-8-sig"))))
    assert row["name_zh"] == "'=cmd|calc" and row["n"] == "-3"
    sheet = openpyxl.load_workbook(io.BytesIO(formats.to_xlsx(frame))).active
    cells = {sheet.cell(1, i + 1).value: sheet.cell(2, i + 1) for i in range(sheet.max_column)}
    assert (cells["name_zh"].value, cells["name_zh"].data_type) == ("=cmd|calc", "s")
    assert cells["n"].value == -3


def test_geopackage_reads_back_through_gdal(client, tmp_path: Path) -> None:
    geojson = client.get(ITEMS, params={"limit": 200}).json()["features"]
    response = client.get(ITEMS, params={"limit": 200, "f": "gpkg"})
    assert response.headers["content-type"] == GPKG and filename(response) == f"{PLAN}.gpkg"
    frame = read_gpkg(response.content, tmp_path)
    assert frame.crs.to_epsg() == 4326
    assert frame["id"].tolist() == [f["id"] for f in geojson]
    for (_, row), feature in zip(frame.iterrows(), geojson):
        assert (
            list(row["sectors"]) == feature["properties"]["sectors"]
        )  # JSON columns come back as lists
        if feature["geometry"] is not None:
            assert same_shape(row.geometry, feature["geometry"])


def test_downloads_in_another_crs_state_it(client, tmp_path: Path) -> None:
    wgs84 = read_gpkg(client.get(ITEMS, params={"limit": 5, "f": "gpkg"}).content, tmp_path)
    response = client.get(
        ITEMS, params={"limit": 5, "f": "gpkg", "crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}
    )
    mercator = read_gpkg(response.content, tmp_path)
    assert mercator.crs.to_epsg() == 3857 and response.headers["content-crs"].endswith("/3857>")
    assert mercator.geometry.geom_equals_exact(wgs84.to_crs(3857).geometry, 1e-3).all()
    gcj = client.get(
        ITEMS, params={"limit": 50, "f": "xlsx", "crs": "urn:geoservice:def:crs:GCJ-02"}
    )
    plain, _ = read_xlsx(client.get(ITEMS, params={"limit": 50, "f": "xlsx"}).content)
    shifted, _ = read_xlsx(gcj.content)
    moved = [abs(a["lon"] - b["lon"]) for a, b in zip(plain, shifted) if a["lon"] is not None]
    assert moved and all(
        0.001 < m < 0.02 for m in moved
    )  # GCJ-02 moves points by a few hundred metres


def test_search_downloads_are_named_after_the_search(client, tmp_path: Path) -> None:
    ids = [
        f["id"]
        for f in client.get("/search", params={"sector": "创新药", "kind": "park"}).json()[
            "features"
        ]
    ]
    response = client.get("/search", params={"sector": "创新药", "kind": "park", "f": "xlsx"})
    assert filename(response) == "search-创新药-park.xlsx"
    assert 'filename="search-chuangxinyao-park.xlsx"' in response.headers["content-disposition"]
    rows, _ = read_xlsx(response.content)
    assert [r["id"] for r in rows] == ids and {r["kind"] for r in rows} == {"park"}
    frame = read_gpkg(
        client.get("/search", params={"sector": "创新药", "kind": "park", "f": "gpkg"}).content,
        tmp_path,
    )
    assert frame["id"].tolist() == ids
    empty = client.get("/search", params={"q": "不存在的名字", "f": "xlsx"})
    assert empty.status_code == 200 and read_xlsx(empty.content)[0] == []


def test_lookup_downloads_list_the_areas_and_the_nearest_sites(client, tmp_path: Path) -> None:
    answer = client.get("/lookup", params={"point": LAISHAN}).json()
    areas = [f["id"] for hits in answer["plans"].values() for f in hits]
    nearest = [f["id"] for f in answer["nearest"]]
    geojson = client.get("/lookup", params={"point": LAISHAN, "f": "geojson"}).json()
    assert (
        geojson["type"] == "FeatureCollection"
        and [f["id"] for f in geojson["features"]] == areas + nearest
    )
    frame = read_gpkg(
        client.get("/lookup", params={"point": LAISHAN, "f": "gpkg"}).content, tmp_path
    )
    assert frame["id"].tolist() == areas + nearest
    assert frame["match"].tolist() == ["area_containing_point"] * len(areas) + [
        "nearest_site"
    ] * len(nearest)
    assert frame["distance_m"].tolist()[len(areas) :] == [
        f["distance_m"] for f in answer["nearest"]
    ]
    response = client.get("/lookup", params={"point": LAISHAN, "f": "csv"})
    assert filename(response) == "lookup-121.45000-37.46000.csv"
    csv.field_size_limit(sys.maxsize)  # the WKT of a whole city (Excel users: take xlsx or gpkg)
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["id"] for r in rows] == areas + nearest


def test_formats_are_advertised_and_negotiated(client) -> None:
    links = client.get(ITEMS, params={"limit": 1}).json()["links"]
    assert {"text/csv", GPKG, XLSX} <= {
        link["type"] for link in links if link["rel"] == "alternate"
    }
    collection = client.get(f"/collections/{PLAN}").json()["links"]
    assert {GPKG, XLSX} <= {link["type"] for link in collection if link["rel"] == "items"}
    assert (
        client.get(ITEMS, params={"limit": 1}, headers={"Accept": GPKG}).headers["content-type"]
        == GPKG
    )
    assert client.get(ITEMS, params={"f": "shp"}).status_code == 400
    assert client.get("/lookup", params={"point": LAISHAN, "f": "html5"}).status_code == 400
    paths = client.get("/api", headers={"Accept": "application/json"}).json()["paths"]
    for path in ("/collections/{collection_id}/items", "/search", "/lookup"):
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert {"text/csv", GPKG, XLSX} <= set(content), path


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """`geoservice export --format gpkg`, run as a user runs it."""
    path = tmp_path_factory.mktemp("export") / "plans.gpkg"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "geoservice",
            "--data-dir",
            str(DATA_DIR),
            "export",
            "--format",
            "gpkg",
            "--out",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return path


def test_export_geopackage_holds_every_collection(exported: Path, catalog) -> None:
    layers = dict(pyogrio.list_layers(exported))
    assert (
        layers["boundaries"] == "MultiPolygon" and layers["incentives"] is None
    )  # a table: no geometry
    for collection in catalog.plan_collections():
        parts = [name for name in layers if name.startswith(f"{collection.id}_")]
        frames = [pyogrio.read_dataframe(exported, layer=name) for name in parts]
        ids = sorted(i for frame in frames for i in frame["id"])
        assert ids == sorted(collection.frame["id"])  # every feature once, the unsited ones too
        for name, frame in zip(parts, frames):
            suffix = name.rsplit("_", 1)[1]
            if suffix == "unsited":  # a table: the plan names no place
                assert layers[name] is None and (frame["location_precision"] == "unsited").all()
                continue
            family = {"points": ("Point",), "lines": ("LineString", "MultiLineString"),
                      "areas": ("Polygon", "MultiPolygon")}[suffix]
            assert set(frame.geometry.geom_type) <= set(family) and frame.geometry.notna().all()
    incentives = pyogrio.read_dataframe(exported, layer="incentives")
    assert len(incentives) == len(catalog["incentives"].frame)


def test_export_geopackage_carries_the_pages_styles_for_qgis(exported: Path, catalog) -> None:
    styles = Styles.load(DATA_DIR)
    with sqlite3.connect(exported) as db:
        rows = db.execute(
            "SELECT f_table_name, f_geometry_column, styleQML, useAsDefault FROM layer_styles"
        ).fetchall()
        geometry_columns = dict(db.execute(
            "SELECT table_name, column_name FROM gpkg_geometry_columns"))
        registered = dict(db.execute("SELECT table_name, data_type FROM gpkg_contents"))
    db.close()
    assert registered["layer_styles"] == "attributes"  # else GDAL, hence QGIS, does not see it
    assert {r[0] for r in rows} == set(geometry_columns) and all(r[3] == 1 for r in rows)
    for layer, geometry_column, qml, _ in rows:
        assert geometry_column == geometry_columns[layer]  # QGIS matches table and column
        root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
        renderer = root.find("renderer-v2")
        assert renderer.get("type") == "categorizedSymbol"
        categories = {c.get("value"): c.get("symbol") for c in renderer.iter("category")}
        symbols = {s.get("name"): s for s in renderer.find("symbols")}
        frame = pyogrio.read_dataframe(exported, layer=layer)
        if layer == "boundaries":
            assert renderer.get("attr") == "level" and set(categories) == set(frame["level"])
            continue
        assert renderer.get("attr") == "kind" and set(categories) == set(frame["kind"])
        for kind, symbol in categories.items():
            first, *more = symbols[symbol].findall("layer")  # the disc, line or fill; then the icon
            options = {
                o.get("name"): o.get("value") for o in first.iter("Option") if o.get("value")
            }
            colour = rgba(styles.kind(kind)["colour"])
            assert options.get("color", options.get("line_color", "")).startswith(
                colour[: colour.rfind(",")]
            )
            if layer.endswith("_points"):
                icon = {o.get("name"): o.get("value") for o in more[0].iter("Option")}
                assert icon["chr"] == styles.kind(kind)["icon_zh"]
                assert (
                    "location_precision" in options["expression"]
                )  # hollow, dashed: approximate sites


# Run by Debian's python3 with QGIS's own bindings: open each layer as QGIS does (its default style
# comes from layer_styles), report the renderer, each category's symbol, the fill colour QGIS
# computes for every point feature, and whether a rendered image shows anything.
QGIS_PROBE = r"""
import json, sys
from qgis.core import (QgsApplication, QgsExpressionContext, QgsExpressionContextUtils,
                       QgsMapRendererParallelJob, QgsMapSettings, QgsRectangle, QgsVectorLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

def probe(path, names, image):
    out, layers = {}, []
    for name in names:
        layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
        layers.append(layer)
        renderer = layer.renderer()
        categories = renderer.categories() if renderer.type() == "categorizedSymbol" else []
        report = {"valid": layer.isValid(), "renderer": renderer.type(), "categories": {},
                  "fills": []}
        report["attr"] = renderer.classAttribute() if categories else None
        for category in categories:
            symbol = category.symbol()
            last = symbol.symbolLayer(symbol.symbolLayerCount() - 1)
            report["categories"][str(category.value())] = {
                "colour": symbol.symbolLayer(0).color().name(),
                "layers": [symbol.symbolLayer(i).layerType()
                           for i in range(symbol.symbolLayerCount())],
                "char": last.character() if hasattr(last, "character") else None}
        if name.endswith("_points"):
            context = QgsExpressionContext()
            context.appendScopes(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
            symbols = {str(c.value()): c.symbol() for c in categories}
            for feature in layer.getFeatures():
                context.setFeature(feature)
                fill = symbols[feature["kind"]].symbolLayer(0).dataDefinedProperties().property(3)
                colour, ok = fill.valueAsColor(context)
                report["fills"].append([feature["kind"], feature["location_precision"],
                                        colour.name() if ok else None])
        out[name] = report
    settings = QgsMapSettings()
    settings.setLayers(list(reversed(layers)))
    settings.setBackgroundColor(QColor("white"))
    settings.setOutputSize(QSize(240, 180))
    extent = QgsRectangle()
    for layer in layers[1:]:
        extent.combineExtentWith(layer.extent())
    settings.setExtent(extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    picture = job.renderedImage()
    picture.save(image, "png")
    colours = {picture.pixelColor(x, y).name() for x in range(0, 240, 3) for y in range(0, 180, 3)}
    out["image_colours"] = len(colours)
    return out

app = QgsApplication([], False)
app.initQgis()
print(json.dumps(probe(sys.argv[1], sys.argv[3:], sys.argv[2])), flush=True)
app.exitQgis()
"""


def test_qgis_opens_the_export_styled_as_the_map_pages(exported: Path, tmp_path: Path) -> None:
    from tests.system import require_path

    require_path("/usr/lib/python3/dist-packages/qgis/core/__init__.py", "python3-qgis")
    layers = ["boundaries", f"{PLAN}_areas", f"{PLAN}_points"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path),
           "QT_QPA_PLATFORM": "offscreen"}
    image = str(tmp_path / "qgis.png")
    done = subprocess.run(["/usr/bin/python3", "-c", QGIS_PROBE, str(exported), image,
                           *layers], capture_output=True, text=True, env=env, timeout=300)
    assert done.stdout.strip(), done.stderr[-3000:]
    report = orjson.loads(done.stdout.strip().splitlines()[-1])  # QGIS may crash at its exit
    styles = Styles.load(DATA_DIR)
    assert report["boundaries"]["attr"] == "level"
    assert report["boundaries"]["categories"]["city"]["layers"] == ["SimpleFill"]
    for name in layers[1:]:
        layer = report[name]
        assert layer["valid"] and layer["renderer"] == "categorizedSymbol"
        assert layer["attr"] == "kind"
        for kind, symbol in layer["categories"].items():
            if name.endswith("_points"):
                assert symbol["layers"] == ["SimpleMarker", "FontMarker"]
                assert symbol["char"] == styles.kind(kind)["icon_zh"]
            assert symbol["colour"] == styles.kind(kind)["colour"]
    hollow = {p for p, v in styles.precision.items() if v.get("symbol") == "hollow"}
    fills = report[f"{PLAN}_points"]["fills"]
    assert {precision for _, precision, _ in fills} & hollow  # the plan has approximate sites
    for kind, precision, fill in fills:
        if precision in hollow:
            assert fill == "#ffffff", (kind, precision)  # drawn hollow, as on the pages
        elif precision == "surveyed":
            assert fill == styles.kind(kind)["colour"]
    assert report["image_colours"] > 5  # QGIS drew the layers in their colours
