"""Ranking candidate zones and parks, and comparing regions."""

from __future__ import annotations

import pytest


def rank(client, **params) -> dict:
    response = client.get("/rank", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_rank_shows_every_component_and_sums_them(client):
    body = rank(client, sector="细胞与基因治疗")
    assert body["candidates"] and body["weights"]["sector_fit"] > 0
    scores = [c["score"] for c in body["candidates"]]
    assert scores == sorted(scores, reverse=True)
    for c in body["candidates"]:
        parts = [p for p in c["components"].values() if p["score"] is not None]
        expected = 100 * sum(p["weight"] * p["score"] for p in parts) / sum(p["weight"] for p in parts)
        assert c["score"] == pytest.approx(expected, abs=0.05)
        assert c["components"]["sector_fit"]["value"] in ("exact", "narrower", "broader")
        assert c["components"]["isotopes"]["score"] is None  # not a nuclear sector
    assert "yantai-biomed-1p3x.core-zone" in {c["id"] for c in body["candidates"]}


def test_weights_can_be_overridden(client):
    only_clinical = rank(client, sector="C2761", weights="sector_fit:0,incentives:0,cluster:0,plan_status:0")
    clinical = [c["components"]["clinical"]["score"] for c in only_clinical["candidates"]]
    assert clinical == sorted(clinical, reverse=True)
    assert only_clinical["weights"]["clinical"] == 2.0 and only_clinical["weights"]["incentives"] == 0


def test_nuclear_sector_counts_isotope_reach_and_region_filters(client):
    body = rank(client, sector="放射性药物")
    assert body["isotopes_considered"]
    assert all(c["components"]["isotopes"]["score"] is not None for c in body["candidates"])
    sichuan = rank(client, sector="放射性药物", region="510000")
    assert sichuan["candidates"] and all(c["units"]["province"]["adcode"] == "510000"
                                         for c in sichuan["candidates"])
    assert client.get("/rank", params={"sector": "放射性药物", "f": "html"}).status_code == 200


def test_compare_regions_side_by_side(client):
    body = client.get("/compare", params={"regions": "370600,510100", "sector": "放射性药物"}).json()
    yantai, chengdu = body["regions"]
    assert yantai["region"]["name_zh"] == "烟台市" and chengdu["region"]["name_zh"] == "成都市"
    assert "yantai-isotopes" in {p["id"] for p in yantai["plans"]}
    assert {p["id"] for p in chengdu["plans"]} == {"sichuan-nuclear-medicine"}
    assert {z["id"] for z in chengdu["zones"]} >= {"sichuan-nuclear-medicine.pole-chengdu"}
    assert yantai["incentives"]["count"] > 0 and yantai["targets"]
    assert set(chengdu["incentives"]["by_plan"]) == {"sichuan-nuclear-medicine"}
    page = client.get("/compare", params={"regions": "370600,510100", "f": "html"})
    assert page.status_code == 200 and "None" not in page.text


@pytest.mark.parametrize("path", [
    "/rank", "/rank?sector=细胞治了", "/rank?sector=C2761&weights=speed:1", "/rank?sector=C2761&weights=clinical:x",
    "/rank?sector=C2761&weights=sector_fit:0,incentives:0,clinical:0,cluster:0,isotopes:0,plan_status:0",
    "/rank?sector=C2761&region=123", "/rank?sector=C2761&limit=0", "/compare?regions=", "/compare?regions=370600,42",
    "/compare?regions=370600&sector=nope",
])
def test_bad_input_is_400(client, path):
    assert client.get(path).status_code == 400
