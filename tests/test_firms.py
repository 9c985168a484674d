"""Firm-level data: the synthetic layer, validated firm lists, bulk assignment (library, CLI, HTTP)."""

from __future__ import annotations

import io

import numpy as np
import orjson
import pandas as pd
import pytest
import shapely

from geoservice import firms
from geoservice.catalog import BOUNDARIES_ID
from geoservice.cli import main

YANTAI_ZHIFU = (121.40, 37.54)  # 芝罘区, Yantai
CHENGDU = (104.07, 30.66)  # central Chengdu
BEIJING = (116.40, 39.90)  # outside the catalog's regions


def test_synthetic_firms_are_labelled_reproducible_and_inside_their_district(catalog):
    a = firms.synthesize(catalog, 2000, seed=7)
    b = firms.synthesize(catalog, 2000, seed=7)
    assert len(a) == 2000 and a["id"].is_unique
    assert a.geometry.equals(b.geometry) and a["sectors"].tolist() == b["sectors"].tolist()
    assert a["synthetic"].all() and a["location_source"].str.startswith("SYNTHETIC").all()
    assert set(a["size"]) <= set(firms.SIZES)
    assert set(code for s in a["sectors"] for code in s) <= set(catalog.sectors.terms)
    bounds = catalog[BOUNDARIES_ID].frame.set_index("adcode")
    polygons = bounds.loc[a["district"], "geometry"].to_numpy()
    assert shapely.intersects(polygons, a.geometry.to_numpy()).all()


def test_a_small_layer_leaves_some_districts_empty(catalog):
    assert len(firms.synthesize(catalog, 5, seed=1)) == 5


def test_geopackage_keeps_lists_as_lists(catalog, tmp_path):
    """Sectors are written as JSON declared in gpkg_data_columns, so every reader gets lists back."""
    from geoservice.extra import load_extra_collections

    layer = firms.synthesize(catalog, 300, seed=3)
    firms.write(layer, tmp_path / "firms.gpkg")
    (tmp_path / "extra.yaml").write_text("- {id: firms, title: firms, path: firms.gpkg}\n")
    served = load_extra_collections(tmp_path / "extra.yaml")[0]
    assert served.frame["sectors"].tolist() == layer["sectors"].tolist()
    assert served.properties["sectors"]["type"] == "array"


def test_assignment_finds_district_city_and_plan_elements(catalog):
    frame = firms.read_table(f"name,lon,lat\nA,{YANTAI_ZHIFU[0]},{YANTAI_ZHIFU[1]}\n"
                           f"B,{CHENGDU[0]},{CHENGDU[1]}\nC,{BEIJING[0]},{BEIJING[1]}\n".encode())
    out = firms.assign(frame, catalog)
    assert out.loc[0, "district_adcode"] == "370602" and out.loc[0, "city_adcode"] == "370600"
    assert out.loc[0, "province_adcode"] == "370000"
    assert "yantai-biomed-1p3x.yantai" in out.loc[0, "plan_elements"]
    assert out.loc[1, "city_adcode"] == "510100"
    assert pd.isna(out.loc[2, "district_adcode"]) and out.loc[2, "plan_elements"] == []


def test_assignment_agrees_with_a_plain_spatial_join(catalog):
    """The vectorised join matches geopandas' sjoin on synthetic firms (the oracle)."""
    import geopandas as gpd

    points = firms.synthesize(catalog, 3000, seed=3)
    out = firms.assign(points, catalog)
    bounds = catalog[BOUNDARIES_ID].frame
    districts = bounds[bounds["level"] == "district"][["adcode", "geometry"]]
    joined = gpd.sjoin(points[["id", "geometry"]], districts, predicate="intersects").groupby(level=0)["adcode"].first()
    assert (out.loc[joined.index, "district_adcode"] == joined).all()
    assert (out["district_adcode"] == out["district"]).all()


def test_bad_rows_are_reported_by_line_and_field():
    text = "id,name,lon,lat\n1,ok,121.4,37.5\n2,bad lon,abc,37.5\n3,empty lat,121.4,\n1,dup,121.4,37.5\n5,far,200,37\n"
    with pytest.raises(firms.FirmDataError) as info:
        firms.read_table(text.encode())
    found = {(p.line, p.field) for p in info.value.problems}  # lines as an editor numbers them
    assert found == {(3, "lon"), (4, "lat"), (5, "id"), (6, "lon")}
    assert "line 3: field lon: 'abc' is not a number" in str(info.value)
    assert "line 5: field id: '1' repeats line 2" in str(info.value)


def test_missing_coordinate_columns_are_named():
    with pytest.raises(firms.FirmDataError, match="no longitude column"):
        firms.read_table(b"name,x_coord,y_coord\nA,1,2\n")


def test_geojson_firm_lists_are_validated():
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "a", "geometry": {"type": "Point", "coordinates": [121.4, 37.5]}, "properties": {}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "properties": {"id": "b"}},
    ]}
    with pytest.raises(firms.FirmDataError) as info:
        firms.read_geojson(orjson.dumps(doc))
    assert [(p.line, p.field) for p in info.value.problems] == [(2, "geometry")]
    assert str(info.value.problems[0]).startswith("feature 2: field geometry")
    doc["features"].pop()
    assert firms.read_geojson(orjson.dumps(doc))["id"].tolist() == ["a"]


def test_gcj02_input_is_converted(catalog):
    from geoservice.chinese_datums import wgs84_to_gcj02

    lon, lat = (float(v[0]) for v in wgs84_to_gcj02(np.array([121.40]), np.array([37.54])))
    frame = firms.read_table(f"lon,lat\n{lon},{lat}\n".encode(), datum="GCJ-02")
    assert frame.geometry.x[0] == pytest.approx(121.40, abs=1e-7)


def test_cli_synth_then_assign(tmp_path, capsys):
    out = tmp_path / "firms.csv"
    assert main(["firms", "synth", "--n", "500", "--seed", "1", "--out", str(out)]) == 0
    assigned = tmp_path / "assigned.csv"
    assert main(["firms", "assign", str(out), "--out", str(assigned)]) == 0
    table = pd.read_csv(assigned, dtype=str, encoding="utf-8-sig")
    assert len(table) == 500 and (table["district_adcode"] == table["district"]).all()
    bad = tmp_path / "bad.csv"
    bad.write_text("lon,lat\n121,37\nx,37\n")
    assert main(["firms", "assign", str(bad), "--out", str(tmp_path / "x.csv")]) == 1
    assert "line 3: field lon" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_http_upload_returns_the_assignments(client):
    body = f"name,lon,lat\nA,{YANTAI_ZHIFU[0]},{YANTAI_ZHIFU[1]}\n".encode()
    r = client.post("/firms/assign", content=body, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = pd.read_csv(io.BytesIO(r.content), dtype=str)
    assert table.loc[0, "district_adcode"] == "370602" and "yantai-biomed-1p3x.yantai" in table.loc[0, "plan_elements"]
    bad = client.post("/firms/assign", content=b"name,lon,lat\nA,x,37\n", headers={"Content-Type": "text/csv"})
    assert bad.status_code == 400 and "line 2: field lon" in bad.json()["description"]
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "f1", "geometry": {"type": "Point", "coordinates": list(CHENGDU)}, "properties": {}}]}
    r = client.post("/firms/assign", content=orjson.dumps(doc), headers={"Content-Type": "application/geo+json"})
    assert r.status_code == 200 and r.json()["features"][0]["properties"]["city_adcode"] == "510100"
