"""OGC API – Features Part 1 core through HTTP: landing, conformance, API definition, collections."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

PLANS = ("yantai-biomed-1p3x", "yantai-health-2345", "yantai-isotopes",
         "sichuan-nuclear-medicine", "shandong-biomed-st-2025")


def test_landing_page_links_the_standard_resources(client) -> None:
    body = client.get("/").json()
    rels = {link["rel"]: link for link in body["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"


def test_conformance_declares_core_geojson_crs_and_filtering(client) -> None:
    classes = set(client.get("/conformance").json()["conformsTo"])
    for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                 "ogcapi-features-1/1.0/conf/oas30", "ogcapi-features-2/1.0/conf/crs",
                 "ogcapi-features-3/1.0/conf/filter", "ogcapi-features-3/1.0/conf/features-filter",
                 "cql2/1.0/conf/cql2-text", "cql2/1.0/conf/cql2-json",
                 "cql2/1.0/conf/basic-spatial-functions", "cql2/1.0/conf/array-functions"):
        assert f"http://www.opengis.net/spec/{part}" in classes


def test_api_document_is_valid_openapi_30(client) -> None:
    response = client.get("/api")
    assert response.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    doc = response.json()
    assert doc["openapi"].startswith("3.0")
    validate(doc)
    assert "/collections/{collection_id}/items" in doc["paths"]


def test_api_html_view_uses_local_assets(client) -> None:
    page = client.get("/api.html").text
    assert "/api-assets/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert client.get("/api-assets/swagger-ui-bundle.js").status_code == 200


def test_collections_lists_every_layer_with_links_and_crs(client) -> None:
    body = client.get("/collections").json()
    ids = {c["id"] for c in body["collections"]}
    assert set(PLANS) | {"boundaries", "incentives"} <= ids
    for c in body["collections"]:
        rels = {link["rel"] for link in c["links"]}
        assert {"self", "items"} <= rels
        assert "http://www.opengis.net/def/crs/OGC/1.3/CRS84" in c["crs"]
        assert "urn:geoservice:def:crs:GCJ-02" in c["crs"] and "urn:geoservice:def:crs:BD-09" in c["crs"]


@pytest.mark.parametrize("cid", PLANS)
def test_collection_has_extent_and_storage_crs(client, cid: str) -> None:
    body = client.get(f"/collections/{cid}").json()
    assert body["id"] == cid and body["itemType"] == "feature"
    west, south, east, north = body["extent"]["spatial"]["bbox"][0]
    assert 97 < west < east < 125 and 25 < south < north < 39  # Sichuan to Shandong
    assert body["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@pytest.mark.parametrize("path", ["/", "/collections", "/collections/yantai-isotopes",
                                  "/collections/yantai-isotopes/items", "/conformance",
                                  "/collections/yantai-isotopes/items/yantai-isotopes.life-island"])
def test_html_views_for_people(client, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text


def test_landing_html_links_to_the_maps(client) -> None:
    assert 'href="http://testserver/maps"' in client.get("/?f=html").text  # under the root path


@pytest.mark.parametrize(("path", "status"), [
    ("/collections/no-such-collection", 404),
    ("/collections/no-such-collection/items", 404),
    ("/collections/yantai-isotopes/items/no-such-feature", 404),
    ("/no/such/path", 404),
    ("/collections?f=xml", 400),
])
def test_errors_are_ogc_exceptions(client, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    body = response.json()
    assert set(body) >= {"code", "description"} and body["description"]


@pytest.mark.parametrize("path", ["/", "/collections/yantai-isotopes/items?limit=2",
                                  "/collections/yantai-isotopes/items/no-such-feature"])
def test_head_answers_like_get_without_a_body(client, path: str) -> None:
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code and head.content == b""
    for name in ("content-type", "etag", "content-length"):
        assert head.headers.get(name) == get.headers.get(name)
