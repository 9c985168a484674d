"""The PostGIS store answers every query exactly as the memory store does (ids, order, counts, values)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from geoservice import crs as crs_module
from geoservice.filters import FilterError, parse
from geoservice.geojson import features
from geoservice.query import Query
from geoservice.store.memory import MemoryStore

PLAN = "yantai-biomed-1p3x"
HEALTH = "yantai-health-2345"
YANTAI = box(120.5, 36.5, 122.0, 38.0)


@pytest.fixture(scope="module")
def stores(catalog, loaded_postgis_url):
    """Return (memory, postgis) stores over the same catalog."""
    from geoservice.store.postgis import PostGISStore

    pg = PostGISStore(catalog, loaded_postgis_url)
    yield MemoryStore(catalog), pg
    pg.close()


def same_frames(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    """Assert two result frames render to the same GeoJSON, with the same index."""
    assert list(a.columns) == list(b.columns)
    assert list(a.index) == list(b.index)
    assert features(a) == features(b)


def text(filter_text: str, **kw) -> dict:
    """Parse a CQL2 text filter."""
    return parse(filter_text, "cql2-text")


QUERIES = [
    Query(collection=PLAN),  # first page, row order
    Query(collection=PLAN, limit=7, offset=5),  # paging
    Query(collection=PLAN, offset=80),  # a short last page
    Query(collection=PLAN, offset=500),  # past the end
    Query(collection="boundaries", bbox=YANTAI, limit=100),  # bbox
    Query(collection=PLAN, equals=(("kind", "park"),)),  # simple filter
    Query(collection=PLAN, equals=(("districts", "370602"),), limit=50),  # list membership
    Query(collection=HEALTH, equals=(("planned_area_km2", "3.5"),)),  # numeric simple filter
    Query(collection=PLAN, sectors=frozenset({"bio.tcm", "bio.innovative-drugs"}), limit=50),  # sectors
    Query(collection=PLAN, text="yantai", limit=50),  # text: English / pinyin
    Query(collection=PLAN, text="烟台", limit=50),  # text: Chinese
    Query(collection=PLAN, text="50%_", limit=50),  # LIKE metacharacters are literal
    Query(collection=PLAN, sortby=(("name_zh", False),), limit=100),  # sort text desc
    Query(collection=HEALTH, sortby=(("planned_area_km2", True), ("name_en", True)), limit=100),  # nulls last
    Query(collection=HEALTH, sortby=(("planned_area_km2", False),), limit=100),
    Query(collection=PLAN, sortby=(("sectors", True),), limit=100),  # lists sort by their text
    Query(collection="incentives", sortby=(("amount", False),), limit=200),  # objects too
    Query(collection="boundaries", sortby=(("parent_adcode", True),), limit=100, offset=3),
]

FILTERS = [
    "kind = 'park' AND planned_area_km2 > 1",
    "kind <> 'park'",
    "name_en LIKE '%Park%'",
    "name_en LIKE 'Yantai_%'",
    "casei(name_en) LIKE '%park%'",
    "accenti(casei(name_en)) = casei('Yantai City')",
    "kind IN ('park', 'hospital', 'nope')",
    "kind IN (1, 2)",
    "planned_area_km2 BETWEEN 1 AND 50",
    "planned_area_km2 * 2 + 1 > 10",
    "planned_area_km2 % 3 < 1",
    "role_zh IS NULL",
    "role_zh IS NOT NULL OR planned_area_km2 < 5",
    "NOT (kind = 'park')",
    "name_zh = 5",
    "name_zh > 'm'",
    "S_INTERSECTS(geom, POLYGON((121.2 37.3, 121.6 37.3, 121.6 37.6, 121.2 37.6, 121.2 37.3)))",
    "S_WITHIN(geom, BBOX(120.5, 36.5, 122.0, 38.0))",
    "S_CONTAINS(geom, POINT(121.45 37.46))",
    "S_DISJOINT(geom, POINT(121.45 37.46))",
    "A_CONTAINS(sectors, ('bio.tcm'))",
    "A_OVERLAPS(sectors, ('bio.tcm', 'health.medicine'))",
    "A_CONTAINEDBY(districts, ('370602', '370611', '370613'))",
    "A_EQUALS(districts, ('370602'))",
    "T_BEFORE(TIMESTAMP('2020-01-01T00:00:00Z'), DATE('2021-01-01'))",
    "T_INTERSECTS(INTERVAL('2020-01-01', '..'), DATE('2021-01-01'))",
    "T_AFTER(name_en, DATE('2021-01-01'))",
    "name_zh = 'x' AND 1 = 1",
    "amount = 'x'",
    "amount IS NULL AND cap IS NOT NULL",
    "title_en LIKE '%grant%' OR conditions_en LIKE '%Yantai%'",
    "sectors = 'bio.tcm'",
    "A_OVERLAPS(stages, ('phase I clinical trial completed'))",
    "kind = 'park' OR kind IS NULL",
    "planned_area_km2 / 0 > 1",
    "-planned_area_km2 div 2 < -1",
    "S_INTERSECTS(geom, POINT(200 100))",
    "true",
]


@pytest.mark.parametrize("q", QUERIES, ids=range(len(QUERIES)))
def test_queries_match(stores, q):
    memory, pg = stores
    a, b = memory.query(q), pg.query(q)
    assert a.number_matched == b.number_matched
    same_frames(a.frame, b.frame)


@pytest.mark.parametrize("slack", [0.01, 1, 4, 10_000])
@pytest.mark.parametrize("offset", [0, 5, 40, 55])
def test_filtered_pages_are_exact_however_far_the_walk_goes(stores, monkeypatch, slack, offset):
    """A filtered page walks the row order a bounded distance, else falls back to the planner: the
    page is the same whether the walk is cut short (slack 0.01), just enough or unbounded."""
    from geoservice.store import postgis

    memory, pg = stores
    monkeypatch.setattr(postgis, "WALK_SLACK", slack)
    walks = []
    original = pg._walked_page
    monkeypatch.setattr(pg, "_walked_page", lambda *a: walks.append(original(*a)) or walks[-1])
    for q in [Query(collection="boundaries", equals=(("level", "district"),), limit=10, offset=offset),
              Query(collection=PLAN, filter=parse("kind <> 'firm'", "cql2-text"), limit=7, offset=offset)]:
        a, b = memory.query(q), pg.query(q)
        assert a.number_matched == b.number_matched
        same_frames(a.frame, b.frame)
    if slack == 0.01:
        assert walks and all(w is None for w in walks)  # every walk too short: the planner's page
    if slack == 10_000:
        assert walks and all(w is not None for w in walks)  # every walk long enough


@pytest.mark.parametrize("filter_text", FILTERS)
@pytest.mark.parametrize("collection", [PLAN, HEALTH, "incentives"])
def test_cql2_filters_match(stores, collection, filter_text):
    """Each filter selects the same rows on both stores, or is refused (400) by both."""
    memory, pg = stores
    q = Query(collection=collection, filter=parse(filter_text, "cql2-text"), limit=200)
    try:
        a = memory.query(q)
    except FilterError:
        with pytest.raises(FilterError):
            pg.query(q)
        return
    b = pg.query(q)
    assert a.number_matched == b.number_matched, filter_text
    same_frames(a.frame, b.frame)


def test_cql2_json_and_filter_crs_match(stores):
    """A CQL2 JSON filter with its geometry in Web Mercator (filter-crs) selects the same rows."""
    memory, pg = stores
    corners = crs_module.from_crs84(np.array([Point(121.2, 37.3), Point(121.6, 37.6)]), crs_module.resolve("EPSG:3857"))
    (x0, y0), (x1, y1) = [(p.x, p.y) for p in corners]
    tree = parse('{"op": "s_intersects", "args": [{"property": "geom"}, {"bbox": [%r, %r, %r, %r]}]}' % (x0, y0, x1, y1),
                 "cql2-json")
    q = Query(collection=PLAN, filter=tree, filter_crs=crs_module.resolve("EPSG:3857"), limit=100)
    a, b = memory.query(q), pg.query(q)
    assert a.number_matched == b.number_matched > 0
    same_frames(a.frame, b.frame)


def test_lookup_matches(stores, catalog):
    memory, pg = stores
    some = catalog[PLAN].frame["id"].iloc[17]
    same_frames(memory.get(PLAN, some), pg.get(PLAN, some))
    assert pg.get(PLAN, "no-such-id").empty and memory.get(PLAN, "no-such-id").empty


@pytest.mark.parametrize("k, within_m", [(5, None), (1, None), (40, None), (1000, 30_000.0), (None, 5_000.0)])
def test_nearest_and_within_match(stores, k, within_m):
    memory, pg = stores
    origin = Point(121.45, 37.46)
    a = memory.nearest(HEALTH, origin, k, within_m)
    b = pg.nearest(HEALTH, origin, k, within_m)
    assert list(a["id"]) == list(b["id"])
    assert list(a["distance_m"]) == list(b["distance_m"])
    same_frames(a, b)


def test_nearest_with_restriction_matches(stores):
    memory, pg = stores
    restrict = Query(collection=PLAN, equals=(("kind", "park"),))
    a = memory.nearest(PLAN, Point(121.0, 37.0), 3, None, restrict)
    b = pg.nearest(PLAN, Point(121.0, 37.0), 3, None, restrict)
    assert list(a["id"]) == list(b["id"]) and len(a) == 3


def test_covering_matches(stores):
    memory, pg = stores
    point = Point(121.45, 37.46)
    a, b = memory.covering("boundaries", point), pg.covering("boundaries", point)
    assert sorted(a["id"]) == sorted(b["id"]) and len(a) == 3
