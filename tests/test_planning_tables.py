"""The targets table and the sector × place matrix: analyses and their JSON, CSV and HTML routes."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from fastapi.testclient import TestClient

from geoservice.analysis.matrix import MatrixError, sector_matrix
from geoservice.analysis.targets import all_targets, filter_targets, load_families
from geoservice.api.app import create_app
from geoservice.settings import Settings
from tests.conftest import DATA_DIR

CORE = "yantai-biomed-1p3x.core-zone"
MUPING, LAISHAN, YANTAI = "370612", "370613", "370600"


@pytest.fixture(scope="module")
def memory_client(catalog):
    """An HTTP client over the committed data (memory store: these routes read the catalog)."""
    with TestClient(create_app(Settings(data_dir=DATA_DIR), catalog)) as client:
        yield client


def _csv_rows(response) -> list[dict]:
    """Parse a CSV response, checking it opens in Excel with its Chinese intact (UTF-8 BOM)."""
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _no_python_values(html: str) -> None:
    """An HTML page shows names, never Python values."""
    text = re.sub(r"<[^>]+>", " ", html)
    for word in ("nan", "None", "NaN", "['", "<NA>"):
        assert not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text), word


# --- targets -------------------------------------------------------------------------------


def test_every_target_of_every_plan_and_feature_is_a_row(catalog):
    table = all_targets(catalog, load_families(DATA_DIR))
    expected = sum(len(p.targets) for p in catalog.plans.values())
    expected += sum(len(ts) for c in catalog.plan_collections() for ts in c.frame["targets"])
    assert len(table) == expected
    assert set(table["level"]) <= {"province", "city", "district", "zone", "park"}
    core = table[table["feature"] == CORE]
    assert set(core["level"]) == {"zone"}
    revenue = core[core["unit"] == "亿元"].iloc[0]
    assert (revenue["value"], revenue["year"], revenue["family"]) == (500, 2023, "money")
    assert revenue["citation"]["section"].startswith("二(四)")  # the zone's clause, as its target has none
    plan_wide = table[(table["plan"] == "yantai-biomed-1p3x") & table["feature"].isna()]
    assert set(plan_wide["level"]) == {"city"}
    assert all(
        c["quote"] for c in plan_wide["citation"]
    )  # each plan-wide target cites its own clause


def test_targets_filter_by_place_code_name_metric_and_year(catalog):
    table = all_targets(catalog, load_families(DATA_DIR))
    in_muping = filter_targets(table, catalog, place=MUPING)
    assert CORE in set(in_muping["feature"])
    assert set(filter_targets(table, catalog, place="牟平区")["feature"]) == set(
        in_muping["feature"]
    )
    assert set(filter_targets(table, catalog, place="Muping")["feature"]) == set(
        in_muping["feature"]
    )
    revenue = filter_targets(table, catalog, metric="REVENUE", year=2023)
    assert len(revenue) and (revenue["year"] == 2023).all()
    assert revenue["metric_en"].str.contains("revenue", case=False).all()
    one_plan = filter_targets(table, catalog, plan="yantai-isotopes")
    assert set(one_plan["plan"]) == {"yantai-isotopes"}


def test_targets_route_json_csv_html(memory_client):
    data = memory_client.get("/targets", params={"plan": "yantai-biomed-1p3x"}).json()
    assert data["numberMatched"] == len(data["targets"]) > 10
    row = next(t for t in data["targets"] if t["feature"] == CORE and t["unit"] == "亿元")
    assert row["metric_zh"] == "生物医药产业主营业务收入" and row["level"] == "zone"
    assert row["citation"]["quote"]
    assert memory_client.get(row["href"]).json()["id"] == CORE
    rows = _csv_rows(
        memory_client.get("/targets", params={"plan": "yantai-biomed-1p3x", "f": "csv"})
    )
    assert len(rows) == data["numberMatched"]
    assert any(r["metric_zh"] == "生物医药产业主营业务收入" and r["value"] == "500.0" for r in rows)
    page = memory_client.get("/targets", params={"f": "html"}).text
    assert page.count("<svg") >= 5  # a chart per metric family present
    assert "产值与收入" in page and "Revenue and output" in page
    assert "生命科学创新引领核心区" in page
    _no_python_values(page)


@pytest.mark.parametrize("params", [{"plan": "nope"}, {"year": "soon"}, {"f": "xml"}])
def test_targets_bad_parameters_are_400(memory_client, params):
    response = memory_client.get("/targets", params=params)
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidParameterValue"


# --- matrix --------------------------------------------------------------------------------


def _expected_elements(catalog, plan: str, district: str, covers: frozenset) -> set[str]:
    """Independently: the plan's features listing the district (zones through their hosts)."""
    frame = catalog[plan].frame
    return {
        fid
        for fid, codes, sectors in zip(frame["id"], frame["districts"], frame["sectors"])
        if district in catalog.boundaries.hosts(tuple(codes))[0] and covers & set(sectors)
    }


def test_matrix_by_district_counts_each_plan_element_where_it_lies(catalog):
    result = sector_matrix(catalog, "district", sectors=["创新药物"])
    covers = result.sectors[0].covers
    cells = result.cells.set_index(["place", "plan"])
    for district in (
        MUPING,
        LAISHAN,
    ):  # the core zone lists 牟平区 and the Hi-tech Zone (in 莱山区)
        cell = cells.loc[(district, "yantai-biomed-1p3x")]
        assert set(cell["elements"]) == _expected_elements(
            catalog, "yantai-biomed-1p3x", district, covers
        )
        assert CORE in cell["elements"] and cell["count"] == len(cell["elements"])
    core_area = cells.loc[(MUPING, "yantai-biomed-1p3x")]["area_km2"]
    assert core_area >= 22.6


def test_matrix_by_city_and_by_zone(catalog):
    by_city = sector_matrix(catalog, "city", plans=["yantai-biomed-1p3x"])
    assert YANTAI in set(by_city.places["place"])
    assert (
        CORE in by_city.cells[by_city.cells["sector"] == "bio.innovative-drugs"]["elements"].iloc[0]
    )
    by_zone = sector_matrix(catalog, "zone", plans=["yantai-biomed-1p3x"])
    in_core = by_zone.cells[by_zone.cells["place"] == CORE]
    assert len(in_core) and CORE not in {e for es in in_core["elements"] for e in es}
    assert "yantai-biomed-1p3x.blue-valley" in {e for es in in_core["elements"] for e in es}


@pytest.mark.parametrize(
    "kwargs", [{"rows": "street"}, {"plans": ["nope"]}, {"sectors": ["nothing"]}]
)
def test_matrix_rejects_unknown_choices(catalog, kwargs):
    with pytest.raises(MatrixError):
        sector_matrix(catalog, **kwargs)


def test_matrix_route_json_csv_html(memory_client):
    data = memory_client.get(
        "/matrix", params={"rows": "district", "sectors": "bio.innovative-drugs"}
    ).json()
    assert [s["code"] for s in data["sectors"]] == ["bio.innovative-drugs"]
    muping = [c for c in data["cells"] if c["place"] == MUPING]
    assert muping and muping[0]["place_zh"] == "牟平区" and CORE in muping[0]["elements"]
    core_href = muping[0]["hrefs"][muping[0]["elements"].index(CORE)]
    assert memory_client.get(core_href).json()["id"] == CORE
    rows = _csv_rows(
        memory_client.get("/matrix", params={"sectors": "bio.innovative-drugs", "f": "csv"})
    )
    assert len(rows) == len(data["cells"]) and rows[0]["sector_zh"] == "创新药物"
    page = memory_client.get("/matrix", params={"f": "html"}).text
    assert "牟平区" in page and "/maps/sector/bio.innovative-drugs" in page
    assert "/collections/yantai-biomed-1p3x/items/yantai-biomed-1p3x.core-zone?f=html" in page
    _no_python_values(page)
    zones = memory_client.get("/matrix", params={"rows": "zone", "f": "html"}).text
    assert "生命科学创新引领核心区" in zones
    bad = memory_client.get("/matrix", params={"rows": "street"})
    assert bad.status_code == 400 and bad.json()["code"] == "InvalidParameterValue"


def test_sector_map_is_a_bilingual_offline_choropleth(memory_client):
    response = memory_client.get("/maps/sector/创新药物", params={"basemap": "offline"})
    assert response.status_code == 200
    page = response.text
    assert "创新药物" in page and "Innovative drugs" in page
    assert json.dumps("牟平区")[1:-1] in page or "牟平区" in page  # folium writes JSON \u escapes
    assert "Muping District" in page
    scripts = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert scripts and all(s.startswith("/maps/assets/") or s.startswith("data:") for s in scripts)
    english = memory_client.get("/maps/sector/创新药物", params={"basemap": "offline", "lang": "en"}).text
    # the sector is named in English (element names stay Chinese: 精准医疗创新药物研发平台 …)
    assert "Innovative drugs" in english and json.dumps("创新药物：")[1:-1] not in english
    assert "None" not in english and "None" not in page
    missing = memory_client.get("/maps/sector/no-such-sector")
    assert missing.status_code == 404 and missing.json()["code"] == "NotFound"
