"""CQL2 filtering (Part 3) on the plan layers, in text and JSON, with its guards."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geoservice.filters import MAX_FILTER_CHARS, MAX_FILTER_VERTICES

BIOMED = "/collections/yantai-biomed-1p3x/items"
SICHUAN = "/collections/sichuan-nuclear-medicine/items"
MUPING_BOX = "POLYGON((121.4 37.2, 121.9 37.2, 121.9 37.6, 121.4 37.6, 121.4 37.2))"


def matched(client, url: str, **params) -> dict:
    """GET items with a filter; assert success; return the body."""
    response = client.get(url, params={"limit": 10000, **params})
    assert response.status_code == 200, response.text
    return response.json()


def ids(body: dict) -> set[str]:
    return {f["id"] for f in body["features"]}


def count_where(catalog, cid: str, predicate) -> int:
    """Count features of a collection satisfying a Python predicate over a row."""
    return int(sum(1 for row in catalog[cid].frame.itertuples() if predicate(row)))


@pytest.mark.parametrize(("text", "predicate"), [
    ("kind = 'park'", lambda r: r.kind == "park"),
    ("kind <> 'park'", lambda r: r.kind != "park"),
    ("planned_area_km2 > 12", lambda r: r.planned_area_km2 == r.planned_area_km2 and r.planned_area_km2 > 12),
    ("planned_area_km2 BETWEEN 10 AND 15.5", lambda r: r.planned_area_km2 == r.planned_area_km2 and 10 <= r.planned_area_km2 <= 15.5),
    ("name_zh LIKE '%产业园'", lambda r: r.name_zh.endswith("产业园")),
    ("name_zh LIKE '烟台%'", lambda r: r.name_zh.startswith("烟台")),
    ("kind IN ('hospital', 'university')", lambda r: r.kind in ("hospital", "university")),
    ("role_zh IS NULL", lambda r: pd.isna(r.role_zh)),
    ("role_zh IS NOT NULL AND kind = 'zone'", lambda r: not pd.isna(r.role_zh) and r.kind == "zone"),
    ("kind = 'park' OR kind = 'base'", lambda r: r.kind in ("park", "base")),
    ("NOT (kind = 'park')", lambda r: r.kind != "park"),
    ("location_precision = 'unsited'", lambda r: r.location_precision == "unsited"),
    ("A_CONTAINS(sectors, ('bio.cell-gene-therapy'))", lambda r: "bio.cell-gene-therapy" in r.sectors),
    ("A_OVERLAPS(sectors, ('bio.tcm', 'bio.medical-aesthetics'))", lambda r: bool({"bio.tcm", "bio.medical-aesthetics"} & set(r.sectors))),
    ("CASEI(name_en) LIKE CASEI('%PARK%')", lambda r: "park" in r.name_en.lower()),
])
def test_cql2_text_matches_a_python_oracle(client, catalog, text: str, predicate) -> None:
    body = matched(client, BIOMED, filter=text)
    assert body["numberMatched"] == count_where(catalog, "yantai-biomed-1p3x", predicate), text


def test_cql2_json_equals_cql2_text(client) -> None:
    text = matched(client, BIOMED, filter="kind = 'park' AND planned_area_km2 IS NULL")
    tree = {"op": "and", "args": [{"op": "=", "args": [{"property": "kind"}, "park"]},
                                  {"op": "isNull", "args": [{"property": "planned_area_km2"}]}]}
    as_json = matched(client, BIOMED, filter=json.dumps(tree), **{"filter-lang": "cql2-json"})
    assert ids(text) == ids(as_json) and text["numberMatched"] > 0


def test_spatial_predicates(client) -> None:
    inside = matched(client, BIOMED, filter=f"S_INTERSECTS(geom, {MUPING_BOX})")
    within = matched(client, BIOMED, filter=f"S_WITHIN(geom, {MUPING_BOX})")
    disjoint = matched(client, BIOMED, filter=f"S_DISJOINT(geom, {MUPING_BOX})")
    total = matched(client, BIOMED, filter="location_precision <> 'unsited'")["numberMatched"]
    assert within["numberMatched"] > 0
    assert ids(within) <= ids(inside)
    assert inside["numberMatched"] + disjoint["numberMatched"] == total  # null geometries are unknown
    contains = matched(client, BIOMED, filter="S_CONTAINS(geom, POINT(121.6 37.4))")
    assert "yantai-biomed-1p3x.yantai" in ids(contains)


def test_filter_crs_lets_a_client_send_gcj02_geometry(client) -> None:
    from geoservice.chinese_datums import wgs84_to_gcj02

    wgs = matched(client, BIOMED, filter=f"S_INTERSECTS(geom, {MUPING_BOX})")
    corners = [(121.4, 37.2), (121.9, 37.2), (121.9, 37.6), (121.4, 37.6), (121.4, 37.2)]
    shifted = ", ".join(f"{float(x)} {float(y)}" for x, y in (wgs84_to_gcj02(a, b) for a, b in corners))
    gcj = matched(client, BIOMED, filter=f"S_INTERSECTS(geom, POLYGON(({shifted})))",
                  **{"filter-crs": "urn:geoservice:def:crs:GCJ-02"})
    assert ids(gcj) == ids(wgs)


def test_chain_links_are_filterable_by_their_ends(client) -> None:
    body = matched(client, SICHUAN, filter="link_from = 'sichuan-nuclear-medicine.pole-leshan'")
    assert body["numberMatched"] >= 1
    assert all(f["geometry"]["type"] == "LineString" for f in body["features"])


@pytest.mark.parametrize(("params", "code"), [
    ({"filter": "kind = "}, "InvalidFilter"),                                # unparsable text
    ({"filter": "{not json", "filter-lang": "cql2-json"}, "InvalidFilter"),  # unparsable JSON
    ({"filter": "no_such_property = 1"}, "InvalidFilter"),                   # unknown property
    ({"filter": "kind = 'park'", "filter-lang": "cql3"}, "InvalidParameterValue"),
    ({"filter": "kind = 'park'", "filter-crs": "EPSG:0"}, "InvalidParameterValue"),
    ({"filter": "x" * (MAX_FILTER_CHARS + 1)}, "InvalidFilter"),             # filter too long
])
def test_bad_filters_are_400(client, params: dict, code: str) -> None:
    response = client.get(BIOMED, params=params)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_filter_geometry_vertex_cap(client) -> None:
    n = MAX_FILTER_VERTICES + 10
    ring = ", ".join(f"{121 + i / n:.4f} 37" for i in range(n)) + ", 121.5 38, 121 37"
    tree = {"op": "s_intersects", "args": [{"property": "geom"},
                                          {"type": "Polygon", "coordinates": [[[float(v) for v in p.split()] for p in ring.split(", ")]]}]}
    response = client.get(BIOMED, params={"filter": json.dumps(tree), "filter-lang": "cql2-json"})
    assert response.status_code == 400
    assert "vertices" in response.json()["description"]
