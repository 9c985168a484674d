"""Domain queries through HTTP: sectors, cross-plan search, place lookup, nearest and within."""

from __future__ import annotations

import pytest
from pyproj import Geod

from geoservice import chinese_datums

GEOD = Geod(ellps="WGS84")
ZHIFU = (121.39, 37.54)  # a point in 芝罘区, Yantai


def test_sectors_lists_the_vocabulary_in_both_languages(client) -> None:
    body = client.get("/sectors").json()
    codes = {s["code"]: s for s in body["sectors"]}
    assert codes["nuc.radiopharma"]["name_zh"] == "放射性药物"
    assert codes["bio.cell-gene-therapy"]["name_en"] == "Cell and gene therapy"
    assert {"bio", "health", "nuc", "iso", "sd"} <= set(body["schemes"])
    assert {k["code"] for k in body["kinds"]} >= {"park", "zone", "belt", "pole", "chain_link"}


@pytest.mark.parametrize("label", ["nuc.radiopharma", "放射性药物", "Radiopharmaceuticals", "核药"])
def test_sector_resolves_any_label(client, label: str) -> None:
    body = client.get(f"/sectors/{label}").json()
    assert "nuc.radiopharma" in body["codes"]


def test_unknown_sector_label_is_404(client) -> None:
    assert client.get("/sectors/不存在的产业").status_code == 404


def test_search_radiopharma_parks_across_yantai_and_sichuan(client, catalog) -> None:
    body = client.get("/search", params={"sector": "放射性药物", "kind": "园区"}).json()
    found = {f["id"] for f in body["features"]}
    assert {"sichuan-nuclear-medicine.tianfu-biotown", "sichuan-nuclear-medicine.chengdu-medical-city"} <= found
    assert any(fid.startswith("yantai-") for fid in found)
    assert all(f["properties"]["kind"] == "park" for f in body["features"])
    assert all("nuc.radiopharma" in f["properties"]["sectors"] for f in body["features"])


def test_search_by_english_text_and_district(client) -> None:
    by_text = client.get("/search", params={"q": "Tianfu"}).json()
    assert "sichuan-nuclear-medicine.tianfu-biotown" in {f["id"] for f in by_text["features"]}
    by_district = client.get("/search", params={"district": "370682"}).json()  # 莱阳市
    assert by_district["numberMatched"] > 0
    assert all("370682" in f["properties"]["districts"] for f in by_district["features"])


def test_search_needs_a_criterion(client) -> None:
    assert client.get("/search").status_code == 400
    assert client.get("/search", params={"kind": "no-such-kind"}).status_code == 400


def test_lookup_names_the_admin_units_plan_elements_and_nearest(client) -> None:
    body = client.get("/lookup", params={"point": f"{ZHIFU[0]},{ZHIFU[1]}"}).json()
    assert body["covered"] is True
    assert body["province"] == {"adcode": "370000", "name_zh": "山东省", "name_en": "Shandong Province"}
    assert body["city"]["name_zh"] == "烟台市"
    assert body["district"] == {"adcode": "370602", "name_zh": "芝罘区", "name_en": "Zhifu District"}
    health = {e["id"] for e in body["plans"]["yantai-health-2345"]}
    assert {e["name_zh"] for e in body["plans"]["yantai-health-2345"]} >= {"芝罘区"}  # one of the 两区
    assert "shandong-biomed-st-2025.shandong" in {e["id"] for e in body["plans"]["shandong-biomed-st-2025"]}
    assert health
    distances = [n["distance_m"] for n in body["nearest"]]
    assert len(distances) == 5 and distances == sorted(distances)
    assert body["incentives"]["count"] > 0


def test_lookup_accepts_gcj02_points(client) -> None:
    gx, gy = (float(v) for v in chinese_datums.wgs84_to_gcj02(*ZHIFU))
    body = client.get("/lookup", params={"point": f"{gx},{gy}", "crs": "GCJ-02"}).json()
    assert body["point"] == pytest.approx(list(ZHIFU), abs=1e-9)
    assert body["district"]["adcode"] == "370602"


def test_lookup_outside_the_regions_answers_plainly(client) -> None:
    response = client.get("/lookup", params={"point": "2.35,48.85"})  # Paris
    assert response.status_code == 200
    body = response.json()
    assert body["covered"] is False and body["district"] is None and "outside" in body["message"]


@pytest.mark.parametrize("point", ["121", "a,b", "200,10", "121,95", "nan,1"])
def test_bad_points_are_400(client, point: str) -> None:
    assert client.get("/lookup", params={"point": point}).status_code == 400


def test_nearest_gives_true_distances_in_order(client) -> None:
    body = client.get("/collections/yantai-biomed-1p3x/nearest",
                      params={"point": f"{ZHIFU[0]},{ZHIFU[1]}", "k": 5, "kind": "hospital"}).json()
    assert body["numberReturned"] == min(5, body["numberMatched"]) > 0
    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        geodesic = GEOD.inv(ZHIFU[0], ZHIFU[1], lon, lat)[2]
        assert feature["properties"]["distance_m"] == pytest.approx(geodesic, abs=0.5)
        assert feature["properties"]["kind"] == "hospital"
    distances = [f["properties"]["distance_m"] for f in body["features"]]
    assert distances == sorted(distances)


def test_within_returns_everything_inside_the_radius(client, catalog) -> None:
    body = client.get("/collections/yantai-health-2345/within",
                      params={"point": f"{ZHIFU[0]},{ZHIFU[1]}", "distance_km": 10}).json()
    assert body["numberMatched"] > 0
    assert all(f["properties"]["distance_m"] <= 10_000 for f in body["features"])
    frame = catalog["yantai-health-2345"].frame
    points = frame[frame.geometry.notna() & (frame.geometry.geom_type == "Point")]
    expected = {row.id for row in points.itertuples()
                if GEOD.inv(ZHIFU[0], ZHIFU[1], row.geometry.x, row.geometry.y)[2] <= 10_000}
    got = {f["id"] for f in body["features"] if f["geometry"]["type"] == "Point"}
    assert got == expected


@pytest.mark.parametrize("params", [{"k": 0}, {"k": 1000}, {"point": "x,y"}])
def test_nearest_rejects_bad_input(client, params: dict) -> None:
    query = {"point": "121.39,37.54", **params}
    assert client.get("/collections/yantai-isotopes/nearest", params=query).status_code == 400


@pytest.mark.parametrize("distance", [-1, 1e9, "far"])
def test_within_rejects_bad_distance(client, distance) -> None:
    query = {"point": "121.39,37.54", "distance_km": distance}
    assert client.get("/collections/yantai-isotopes/within", params=query).status_code == 400
