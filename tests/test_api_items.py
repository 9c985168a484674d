"""Items through HTTP: paging, bbox, CRS, properties, sorting, simple filters, formats, caching."""

from __future__ import annotations

import csv
import io

import pytest
from pyproj import Transformer

from geoservice import chinese_datums
from geoservice.query import DEFAULT_LIMIT, MAX_LIMIT

ITEMS = "/collections/yantai-health-2345/items"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
GCJ02 = "urn:geoservice:def:crs:GCJ-02"
BD09 = "urn:geoservice:def:crs:BD-09"


def _ids(body: dict) -> list[str]:
    return [f["id"] for f in body["features"]]


def test_default_page_is_geojson_with_counts(client, catalog) -> None:
    response = client.get(ITEMS)
    assert response.headers["content-type"] == "application/geo+json"
    assert response.headers["content-crs"] == f"<{CRS84}>"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberReturned"] == DEFAULT_LIMIT == len(body["features"])
    assert body["numberMatched"] == len(catalog["yantai-health-2345"].frame)


def test_paging_links_walk_the_whole_collection(client, catalog) -> None:
    seen, url = [], f"{ITEMS}?limit=50"
    while url:
        body = client.get(url).json()
        seen += _ids(body)
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert seen == list(catalog["yantai-health-2345"].frame["id"])


def test_prev_link_goes_back(client) -> None:
    body = client.get(f"{ITEMS}?limit=5&offset=10").json()
    prev = next(link["href"] for link in body["links"] if link["rel"] == "prev")
    assert "offset=5" in prev


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1, "ten"])
def test_limit_out_of_range_is_400(client, limit) -> None:
    response = client.get(f"{ITEMS}?limit={limit}")
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidParameterValue"


def test_bbox_selects_features_that_intersect(client) -> None:
    # Around Yangma Island (养马岛), Muping.
    body = client.get(f"{ITEMS}?bbox=121.55,37.42,121.70,37.50&limit=1000").json()
    assert body["numberMatched"] >= 1
    for feature in body["features"]:
        if feature["geometry"]["type"] == "Point":
            lon, lat = feature["geometry"]["coordinates"]
            assert 121.55 <= lon <= 121.70 and 37.42 <= lat <= 37.50


def test_bbox_crs_epsg4326_is_latitude_first(client) -> None:
    lon_lat = client.get(f"{ITEMS}?bbox=121.55,37.42,121.70,37.50&limit=1000").json()
    lat_lon = client.get(f"{ITEMS}?bbox=37.42,121.55,37.50,121.70&bbox-crs={EPSG4326}&limit=1000").json()
    assert _ids(lon_lat) == _ids(lat_lon)


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "121,38,122,37", "0,-91,1,0", "1,2,3,nan"])
def test_malformed_bbox_is_400(client, bbox: str) -> None:
    assert client.get(f"{ITEMS}?bbox={bbox}").status_code == 400


def _first_point(client, crs: str | None = None) -> tuple[list[float], dict]:
    """Return the first point feature's coordinates in the given CRS, and the response headers."""
    url = "/collections/yantai-biomed-1p3x/items?filter=kind='hospital'&limit=1"
    response = client.get(url + (f"&crs={crs}" if crs else ""))
    return response.json()["features"][0]["geometry"]["coordinates"], response.headers


@pytest.mark.parametrize("crs", [EPSG3857, EPSG4326, "http://www.opengis.net/def/crs/EPSG/0/4490", GCJ02, BD09])
def test_output_crs_transforms_coordinates_and_says_so(client, crs: str) -> None:
    (lon, lat), _ = _first_point(client)
    coords, headers = _first_point(client, crs)
    assert headers["content-crs"] == f"<{crs}>"
    if crs == EPSG3857:
        expected = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
        assert coords == pytest.approx(expected, abs=0.01)
    elif crs in (EPSG4326, "http://www.opengis.net/def/crs/EPSG/0/4490"):
        assert coords == pytest.approx([lat, lon], abs=1e-6)  # latitude first, CGCS2000 ≈ WGS84
    else:
        forward = chinese_datums.wgs84_to_gcj02 if crs == GCJ02 else chinese_datums.wgs84_to_bd09
        assert coords == pytest.approx([float(v) for v in forward(lon, lat)], abs=1e-6)
        assert abs(coords[0] - lon) > 1e-3  # hundreds of metres, not a no-op


def test_gcj02_bbox_finds_what_the_wgs84_bbox_finds(client) -> None:
    x0, y0 = (float(v) for v in chinese_datums.wgs84_to_gcj02(121.55, 37.42))
    x1, y1 = (float(v) for v in chinese_datums.wgs84_to_gcj02(121.70, 37.50))
    shifted = client.get(f"{ITEMS}?bbox={x0},{y0},{x1},{y1}&bbox-crs={GCJ02}&limit=1000").json()
    plain = client.get(f"{ITEMS}?bbox=121.55,37.42,121.70,37.50&limit=1000").json()
    assert _ids(shifted) == _ids(plain)


@pytest.mark.parametrize("param", ["crs", "bbox-crs"])
def test_unknown_crs_is_400(client, param: str) -> None:
    extra = "&bbox=1,2,3,4" if param == "bbox-crs" else ""
    response = client.get(f"{ITEMS}?{param}=EPSG:99999{extra}")
    assert response.status_code == 400 and "unsupported CRS" in response.json()["description"]


def test_properties_selects_fields(client) -> None:
    body = client.get(f"{ITEMS}?properties=name_zh,kind&limit=3").json()
    for feature in body["features"]:
        assert set(feature["properties"]) == {"name_zh", "kind"}


def test_unknown_property_is_400(client) -> None:
    for url in (f"{ITEMS}?properties=nope", f"{ITEMS}?sortby=nope", f"{ITEMS}?nope=1"):
        response = client.get(url)
        assert response.status_code == 400, url


def test_sortby_orders_both_ways(client) -> None:
    up = client.get("/collections/yantai-biomed-1p3x/items?sortby=planned_area_km2&filter=planned_area_km2 IS NOT NULL").json()
    down = client.get("/collections/yantai-biomed-1p3x/items?sortby=-planned_area_km2&filter=planned_area_km2 IS NOT NULL").json()
    areas = [f["properties"]["planned_area_km2"] for f in up["features"]]
    assert areas == sorted(areas) and len(areas) >= 4
    assert _ids(down) == list(reversed(_ids(up))) or [f["properties"]["planned_area_km2"] for f in down["features"]] == sorted(areas, reverse=True)


def test_simple_property_filters(client, catalog) -> None:
    frame = catalog["yantai-health-2345"].frame
    parks = client.get(f"{ITEMS}?kind=park&limit=1000").json()
    assert parks["numberMatched"] == int((frame["kind"] == "park").sum())
    tcm = client.get(f"{ITEMS}?sectors=health.tcm&limit=1000").json()  # membership in a list property
    assert tcm["numberMatched"] == int(frame["sectors"].map(lambda s: "health.tcm" in s).sum()) > 0


@pytest.mark.parametrize("label", ["health.tourism", "康养旅游", "health tourism", "旅"])
def test_sector_parameter_accepts_code_name_or_synonym(client, label: str) -> None:
    body = client.get(f"{ITEMS}?sector={label}&limit=1000").json()
    assert body["numberMatched"] > 0
    assert all("health.tourism" in f["properties"]["sectors"] for f in body["features"])


def test_unknown_sector_is_400(client) -> None:
    assert client.get(f"{ITEMS}?sector=no-such-sector").status_code == 400


@pytest.mark.parametrize("text", ["蓝色药谷", "Blue Pharma Valley", "lanseyaogu", "lan se yao gu", "BLUE PHARMA"])
def test_text_search_in_chinese_english_and_pinyin(client, text: str) -> None:
    body = client.get(f"{ITEMS}?q={text}").json()
    assert "yantai-health-2345.blue-valley" in _ids(body)
    assert all("蓝色药谷" in f["properties"]["name_zh"] for f in body["features"])


def test_single_feature_with_links(client) -> None:
    response = client.get("/collections/yantai-biomed-1p3x/items/yantai-biomed-1p3x.core-zone")
    assert response.headers["content-type"] == "application/geo+json"
    feature = response.json()
    assert feature["type"] == "Feature" and feature["id"] == "yantai-biomed-1p3x.core-zone"
    assert feature["properties"]["source"]["doc"] == "烟政发〔2021〕9号"
    assert {"self", "collection"} <= {link["rel"] for link in feature["links"]}


def test_csv_output(client) -> None:
    response = client.get(f"{ITEMS}?f=csv&limit=5")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 5 and rows[0]["name_zh"] and "wkt" in rows[0]


def test_queryables_are_a_json_schema_with_the_geometry(client) -> None:
    body = client.get("/collections/yantai-health-2345/queryables").json()
    assert body["type"] == "object" and body["$schema"].startswith("https://json-schema.org/")
    assert body["properties"]["geom"]["format"] == "geometry-any"
    assert body["properties"]["sectors"]["type"] == "array"
    assert body["properties"]["planned_area_km2"]["type"] == "number"


def test_etag_and_conditional_get(client) -> None:
    first = client.get(f"{ITEMS}?limit=3")
    tag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    again = client.get(f"{ITEMS}?limit=3", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""


def test_gzip_when_asked(client) -> None:
    response = client.get(f"{ITEMS}?limit=100", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["numberReturned"] == 100  # the client decodes it


def test_cors_headers(client) -> None:
    response = client.get("/collections", headers={"Origin": "https://map.example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "Content-Crs" in response.headers["access-control-expose-headers"]


def test_single_feature_equals_the_same_feature_in_a_page(client) -> None:
    fid = "yantai-health-2345.blue-valley"
    single = client.get(f"{ITEMS}/{fid}").json()
    in_page = next(f for f in client.get(f"{ITEMS}?limit=1000").json()["features"] if f["id"] == fid)
    in_3857 = client.get(f"{ITEMS}/{fid}?crs={EPSG3857}").json()
    assert {k: v for k, v in single.items() if k != "links"} == in_page
    assert in_3857["properties"] == in_page["properties"] and in_3857["geometry"] != in_page["geometry"]
