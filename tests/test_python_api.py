"""The Python API: docs/python.md's worked example runs as written, and the atlas answers what the
HTTP API answers (one implementation of search and lookup)."""

from __future__ import annotations

import re

import folium
import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
from fastapi.testclient import TestClient

import geoservice
from geoservice.query import QueryError
from geoservice.settings import PACKAGE_ROOT

DOC = PACKAGE_ROOT / "docs" / "python.md"


@pytest.fixture(scope="module")
def atlas():
    return geoservice.open()


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> dict:
    """Run every ```python block of docs/python.md in order, in one namespace (in a temp folder:
    the example saves a map page)."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 4
    namespace: dict = {}
    folder = tmp_path_factory.mktemp("notebook")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), namespace)
    namespace["saved"] = sorted(p.name for p in folder.glob("*.html"))
    namespace["folder"] = folder
    return namespace


def test_the_documented_example_runs_and_gives_what_it_says(example) -> None:
    assert (
        example["atlas"].collections[0] == "boundaries"
        and "incentives" in example["atlas"].collections
    )
    plans = example["plans"]
    assert plans.loc["yantai-biomed-1p3x", "doc_number"] == "烟政发〔2021〕9号"
    assert (plans["features"] > 0).all()
    biomed = example["biomed"]
    assert isinstance(biomed, gpd.GeoDataFrame) and biomed.crs.to_epsg() == 4326
    assert (biomed["plan"] == "yantai-biomed-1p3x").all()
    assert (example["zones_km2"] > 1).all()  # areas of the zones, km², in a metric CRS
    parks = example["parks"]
    assert len(parks) and (parks["kind"] == "park").all()
    assert parks["sectors"].map(lambda codes: "bio.innovative-drugs" in codes).all()
    assert example["district"] == "莱山区"
    assert isinstance(example["m"], folium.Map) and example["saved"] == ["yantai-biomed.html"]
    folder = example["folder"]
    book = openpyxl.load_workbook(folder / "parks.xlsx", read_only=True)
    assert book.sheetnames == ["parks", "fields"] and book["parks"].max_row == len(parks) + 1
    gpkg = pyogrio.read_dataframe(folder / "parks.gpkg")
    assert gpkg["sectors"].tolist() == parks["sectors"].tolist()  # lists, not their JSON text
    assert (folder / "near.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_the_readme_example_runs() -> None:
    readme = (PACKAGE_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python"):]
    block = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert len(namespace["parks"]) and namespace["place"].covered


def test_layers_are_copies_in_wgs84(atlas) -> None:
    frame = atlas["yantai-isotopes"]
    frame["name_zh"] = "changed"
    assert (atlas["yantai-isotopes"]["name_zh"] != "changed").all()
    assert atlas.boundaries.crs.to_epsg() == 4326
    assert set(atlas.boundaries["level"]) == {"province", "city", "district"}
    assert atlas.incentives.geometry.isna().all() and atlas.incentives["jurisdiction"].notna().all()
    with pytest.raises(KeyError, match="one of"):
        atlas["no-such-plan"]


def test_search_is_the_api_search(atlas, catalog) -> None:
    from geoservice.api.app import create_app
    from geoservice.settings import Settings

    client = TestClient(create_app(Settings(data_dir=PACKAGE_ROOT / "data"), catalog))
    for criteria in (
        {"sector": "核药"},
        {"kind": "hospital"},
        {"q": "yantai"},
        {"district": "370613"},
    ):
        over_http = [
            f["id"]
            for f in client.get("/search", params={**criteria, "limit": 10000}).json()["features"]
        ]
        assert atlas.search(**criteria)["id"].tolist() == over_http and over_http
    with pytest.raises(QueryError, match="no known code, name or synonym; closest known labels"):
        atlas.search(sector="不存在的产业")


def test_lookup_is_the_api_lookup_and_takes_gcj02(atlas, catalog) -> None:
    from geoservice import chinese_datums
    from geoservice.api.app import create_app
    from geoservice.settings import Settings

    client = TestClient(create_app(Settings(data_dir=PACKAGE_ROOT / "data"), catalog))
    body = client.get("/lookup", params={"point": "121.45,37.46"}).json()
    place = atlas.lookup(121.45, 37.46)
    assert place.covered and place.unit("city")["name_zh"] == body["city"]["name_zh"] == "烟台市"
    assert place.nearest["id"].tolist() == [n["id"] for n in body["nearest"]]
    assert sorted(place.incentives["id"]) == sorted(body["incentives"]["ids"])
    assert {p: h["id"].tolist() for p, h in place.plans.items()} == {
        p: [f["id"] for f in hits] for p, hits in body["plans"].items()
    }
    gcj = chinese_datums.wgs84_to_gcj02(121.45, 37.46)
    shifted = atlas.lookup(*map(float, gcj), crs="GCJ-02")
    assert shifted.point.distance(place.point) < 1e-5
    assert not atlas.lookup(116.4, 39.9).covered  # Beijing: outside the plans' regions


def test_explore_embeds_its_scripts(atlas) -> None:
    html = atlas.explore("yantai-isotopes", basemap="offline")._repr_html_()
    assert "cdn.jsdelivr" not in html and "__PAGE_BYTES__" not in html
    assert "data:text/javascript;base64," in html and "Atlas.init" in html
    with pytest.raises(KeyError, match="overview"):
        atlas.explore("nowhere")


def test_plans_table_has_one_row_per_plan(atlas, catalog) -> None:
    plans = atlas.plans
    assert isinstance(plans, pd.DataFrame) and list(plans.index) == list(catalog.plans)
    assert {"title_zh", "title_en", "issuer_zh", "date", "status", "region"} <= set(plans.columns)
