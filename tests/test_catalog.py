"""The catalog: every collection loads as a cited, indexed GeoDataFrame in EPSG:4326."""

from __future__ import annotations

import pytest

from geoservice.catalog import BOUNDARIES_ID, INCENTIVES_ID, Catalog

PLANS = ("yantai-biomed-1p3x", "yantai-health-2345", "yantai-isotopes",
         "sichuan-nuclear-medicine", "shandong-biomed-st-2025")
PRECISIONS = {"admin_boundary", "surveyed", "approximate", "district_centroid", "schematic", "unsited"}
# Geometry type each precision must produce.
GEOMETRY_OF = {
    "admin_boundary": {"Polygon", "MultiPolygon"},
    "surveyed": {"Point"}, "approximate": {"Point"}, "district_centroid": {"Point"},
    "schematic": {"LineString", "MultiLineString"},
}


def test_every_plan_and_the_shared_layers_are_collections(catalog: Catalog) -> None:
    assert set(PLANS) | {BOUNDARIES_ID, INCENTIVES_ID} <= set(catalog.collections)


@pytest.mark.parametrize("cid", [*PLANS, BOUNDARIES_ID, INCENTIVES_ID])
def test_collection_is_wgs84_indexed_and_described(catalog: Catalog, cid: str) -> None:
    c = catalog[cid]
    assert c.frame.crs.to_epsg() == 4326
    assert c.frame.has_sindex
    assert c.title and c.description
    assert c.frame["id"].is_unique
    assert "id" in c.properties


@pytest.mark.parametrize("cid", PLANS)
def test_every_feature_is_cited_and_says_how_it_was_located(catalog: Catalog, cid: str) -> None:
    frame = catalog[cid].frame
    for row in frame.itertuples():
        assert row.source["section"] and row.source["quote"] and row.source["title"], row.id
        assert row.location_precision in PRECISIONS, row.id
        if row.location_precision != "unsited":
            assert row.location_source, row.id


@pytest.mark.parametrize("cid", PLANS)
def test_geometry_matches_the_stated_precision(catalog: Catalog, cid: str) -> None:
    for row in catalog[cid].frame.itertuples():
        if row.location_precision == "unsited":
            assert row.geometry is None, row.id
        else:
            assert row.geometry.geom_type in GEOMETRY_OF[row.location_precision], row.id


def test_functional_zone_geometry_is_marked_as_derived(catalog: Catalog) -> None:
    frame = catalog["yantai-biomed-1p3x"].frame
    core = frame.set_index("id").loc["yantai-biomed-1p3x.core-zone"]
    assert "fz.yantai-hitech" in core["districts"]
    assert core["geometry_basis"] == "host_districts"


def test_zones_shared_by_two_plans_are_linked_both_ways(catalog: Catalog) -> None:
    biomed = catalog["yantai-biomed-1p3x"].frame.set_index("id")
    health = catalog["yantai-health-2345"].frame.set_index("id")
    for a, b in [("yantai-biomed-1p3x.core-zone", "yantai-health-2345.core-park"),
                 ("yantai-biomed-1p3x.api-zone", "yantai-health-2345.api-park")]:
        assert b in biomed.at[a, "related"]
        assert a in health.at[b, "related"]


def test_sichuan_chain_links_run_between_poles(catalog: Catalog) -> None:
    frame = catalog["sichuan-nuclear-medicine"].frame.set_index("id")
    links = frame[frame["kind"] == "chain_link"]
    assert len(links) >= 3
    poles = set(frame.index[frame["kind"] == "pole"])
    assert len(poles) == 4
    assert set(links["link_from"]) | set(links["link_to"]) <= poles
    assert frame.loc[frame["kind"] == "chain"].geometry.iloc[0].geom_type == "MultiLineString"


def test_unsited_elements_are_kept_as_records(catalog: Catalog) -> None:
    frame = catalog["yantai-isotopes"].frame
    reactor = frame[frame["name_zh"] == "小型医用同位素生产专用反应堆"]
    assert len(reactor) == 1 and reactor.geometry.iloc[0] is None


def test_boundaries_have_the_yantai_districts(catalog: Catalog) -> None:
    frame = catalog[BOUNDARIES_ID].frame
    yantai = frame[(frame["parent_adcode"] == "370600") & (frame["level"] == "district")]
    assert set(yantai["name_zh"]) == {"芝罘区", "福山区", "牟平区", "莱山区", "蓬莱区", "龙口市",
                                      "莱阳市", "莱州市", "招远市", "栖霞市", "海阳市"}
    with_districts = set(frame.loc[frame["level"] == "district", "parent_adcode"])
    assert with_districts == {"370600", "510100", "510700", "510500", "511100"}  # Yantai + the 四极
    assert frame.geometry.is_valid.all()


def test_incentives_are_cited_records_with_a_jurisdiction(catalog: Catalog) -> None:
    frame = catalog[INCENTIVES_ID].frame
    plans = set(frame["plan"])
    assert {"yantai-biomed-1p3x", "shandong-biomed-st-2025"} <= plans
    assert frame["jurisdiction"].isin(catalog[BOUNDARIES_ID].frame["adcode"]).all()
    assert all(s["quote"] for s in frame["source"])
