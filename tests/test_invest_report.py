"""The site report with the real places of issue 9: which zones, clauses and isotopes apply where."""

from __future__ import annotations

import re

import pytest

MUPING = "121.62,37.35"     # 牟平区, Yantai
LESHAN = "103.76,29.55"     # 市中区, 乐山市
JINAN = "117.00,36.65"      # 济南市 (no district polygons: city and province only)
BEIJING = "116.40,39.90"


def report(client, **params) -> dict:
    response = client.get("/report", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_muping_cell_and_gene_therapy_gets_the_core_zone_and_yantai_and_shandong_clauses(client):
    body = report(client, point=MUPING, sector="细胞与基因治疗")
    assert body["district"]["name_zh"] == "牟平区" and body["city"]["adcode"] == "370600"
    core = {e["id"]: e for e in body["covering"]}["yantai-biomed-1p3x.core-zone"]
    assert core["sector_fit"] == "exact" and core["name_zh"] == "生命科学创新引领核心区"
    plans = {c["plan"] for c in body["incentives"]}
    assert {"yantai-biomed-1p3x", "shandong-biomed-st-2025"} <= plans
    assert not any(c["plan"].startswith("sichuan") for c in body["incentives"])
    jurisdictions = {c["jurisdiction"]["adcode"] for c in body["incentives"]}
    assert jurisdictions <= {"370000", "370600", "370612"}
    # a clause for other sectors only is left out; one for every sector is in and marked so
    assert all(c["sector_match"] in ("sector", "all_sectors") for c in body["incentives"])
    ids = {c["id"] for c in body["incentives"]}
    assert "yantai-biomed-1p3x.inc.fsmp-health-food" not in ids
    assert any(c["sector_match"] == "all_sectors" for c in body["incentives"])
    assert body["isotopes"] is None and body["message"] is None
    assert {c["topic"] for c in body["caveats"]} >= {"over_cover"}


def test_leshan_radiopharmaceuticals_gets_sichuan_clauses_only_and_isotopes(client):
    body = report(client, point=LESHAN, sector="放射性药物")
    assert body["city"]["name_zh"] == "乐山市"
    assert body["incentives"] and {c["plan"] for c in body["incentives"]} == {"sichuan-nuclear-medicine"}
    isotopes = {i["nuclide"]: i for i in body["isotopes"]}
    reaching = {s["id"] for s in isotopes["Lu-177"]["reaching_sites"]}
    assert "sichuan-nuclear-medicine.minjiang-test-reactor" in reaching
    assert all(s["distance_m"] <= s["reach_m"] for i in body["isotopes"] for s in i["reaching_sites"])


def test_jinan_gets_shandong_provincial_clauses_only(client):
    body = report(client, point=JINAN, sector="C2761")
    assert body["city"]["name_zh"] == "济南市" and body["district"] is None
    assert body["incentives"]
    assert {c["plan"] for c in body["incentives"]} == {"shandong-biomed-st-2025"}
    assert {c["jurisdiction"]["adcode"] for c in body["incentives"]} == {"370000"}


def test_beijing_gets_nothing_and_a_message(client):
    body = report(client, point=BEIJING, sector="生物药品制造")
    assert body["covered"] is False and body["province"] is None
    assert body["covering"] == [] and body["incentives"] == []
    assert "outside" in body["message"]["en"] and body["message"]["zh"]
    assert all(rows == [] for rows in body["nearby"].values())


def test_nearby_distances_are_ordered_and_say_how_sites_were_placed(client):
    body = report(client, point=MUPING, sector="C2761")
    for rows in body["nearby"].values():
        distances = [r["distance_m"] for r in rows]
        assert distances == sorted(distances)
        assert all(r["location_precision"] for r in rows)
    enterprises = body["nearby"]["enterprises"]
    codes = client.app.state.service.catalog.sectors.resolve("C2761")
    assert all(set(e["sectors"]) & codes for e in enterprises)


def test_a_drawn_polygon_and_a_gcj02_point(client):
    square = "POLYGON((121.55 37.30,121.70 37.30,121.70 37.40,121.55 37.40,121.55 37.30))"
    body = report(client, polygon=square, sector="细胞与基因治疗")
    assert body["site"]["type"] == "Polygon"
    assert "yantai-biomed-1p3x.core-zone" in {e["id"] for e in body["covering"]}
    gcj = report(client, point="121.6255,37.3488", crs="GCJ-02")
    assert gcj["district"]["name_zh"] == "牟平区"


@pytest.mark.parametrize("point, sector, place, codes", [
    (LESHAN, "放射性药物", "四川", ("nuc.", "sichuan-nuclear-medicine.")),
    (MUPING, "细胞与基因治疗", "牟平区", ("bio.", "yantai-biomed-1p3x.")),  # clauses with tiers, no fixed amount
])
def test_the_html_report_is_printable_and_shows_names_only(client, point, sector, place, codes):
    response = client.get("/report", params={"point": point, "sector": sector, "f": "html"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "@page { size: A4" in page and "/maps/assets/leaflet.js" in page and "https://" not in page
    text = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", page, flags=re.DOTALL)
    assert place in text
    for leak in ("None", "nan", "['", *codes):
        assert leak not in text, leak


@pytest.mark.parametrize("params", [
    {"point": "121"}, {"point": "200,10"}, {"point": "121.6,37.3", "crs": "EPSG:99999"},
    {"point": "121.6,37.3", "sector": "细胞治了"}, {},
    {"point": "121.6,37.3", "polygon": "POLYGON((0 0,1 0,1 1,0 0))"},
    {"polygon": "POINT(1 2)"}, {"polygon": "POLYGON((0 0"}, {"polygon": "POLYGON((0 0,1 1,1 0,0 1,0 0))"},
])
def test_bad_input_is_a_400(client, params):
    response = client.get("/report", params=params)
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidParameterValue"
