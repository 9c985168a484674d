"""Vector tiles: TileJSON, MVT from both stores (the same features), empty and invalid tiles."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import pytest

from geoservice.store.tiles import MVT, MemoryTiles

PLAN = "yantai-health-2345"
YANTAI_Z8 = morecantile.tms.get("WebMercatorQuad").tile(121.4, 37.5, 8)


def ids(data: bytes, layer: str) -> list[str]:
    """Return the ids of the features of one layer of a tile."""
    decoded = mapbox_vector_tile.decode(data) if data else {}
    return [f["properties"].get("id") for f in decoded.get(layer, {}).get("features", [])]


def test_tilejson_describes_the_layer(client):
    body = client.get(f"/collections/{PLAN}/tiles/WebMercatorQuad").json()
    assert body["tilejson"] == "3.0.0" and body["vector_layers"][0]["id"] == PLAN
    assert body["tiles"][0].endswith(f"/collections/{PLAN}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}")
    assert "sectors" in body["vector_layers"][0]["fields"]
    listing = client.get(f"/collections/{PLAN}/tiles").json()
    assert listing["tilesets"][0]["dataType"] == "vector"
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in client.get("/conformance").json()["conformsTo"]


def test_a_tile_holds_the_collections_features(client, catalog):
    t = YANTAI_Z8
    r = client.get(f"/collections/{PLAN}/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}")
    assert r.status_code == 200 and r.headers["content-type"] == MVT
    found = ids(r.content, PLAN)
    assert len(found) > 10 and set(found) <= set(catalog[PLAN].frame["id"])
    props = mapbox_vector_tile.decode(r.content)[PLAN]["features"][0]["properties"]
    assert props["plan"] == PLAN and props["sectors"].startswith("[")


def test_empty_and_invalid_tiles(client):
    assert client.get(f"/collections/{PLAN}/tiles/WebMercatorQuad/8/0/0").status_code == 204
    assert client.get(f"/collections/{PLAN}/tiles/WebMercatorQuad/3/8/0").status_code == 400
    assert client.get(f"/collections/{PLAN}/tiles/WebMercatorQuad/23/0/0").status_code == 400
    assert client.get(f"/collections/{PLAN}/tiles/WorldCRS84Quad/0/0/0").status_code == 404
    assert client.get("/collections/nope/tiles/WebMercatorQuad/0/0/0").status_code == 404


# From zoom 5 on; at lower zooms the two encoders may drop different sub-pixel polygons.
@pytest.mark.parametrize("z, x, y", [(5, 26, 12), (tuple(YANTAI_Z8)[2], YANTAI_Z8.x, YANTAI_Z8.y), (12, 3429, 1572)])
@pytest.mark.parametrize("collection", [PLAN, "boundaries", "sichuan-nuclear-medicine"])
def test_both_stores_draw_the_same_features(catalog, loaded_postgis_url, collection, z, x, y):
    from geoservice.store.postgis import PostGISStore

    pg = PostGISStore(catalog, loaded_postgis_url)
    try:
        a, b = MemoryTiles(catalog).tile(collection, z, x, y), pg.tile(collection, z, x, y)
    finally:
        pg.close()
    assert sorted(ids(a, collection)) == sorted(ids(b, collection))


def test_points_on_one_pixel_are_drawn_once(catalog):
    """A low-zoom tile of many firms keeps one point per occupied pixel."""
    from geoservice import firms

    layer = firms.synthesize(catalog, 20_000, seed=5)
    from geoservice.catalog import Collection

    extended = catalog.with_collections([Collection("firms", "Synthetic firms", "", layer)])
    data = MemoryTiles(extended).tile("firms", 0, 0, 0)
    drawn = ids(data, "firms")
    assert 0 < len(drawn) < 20_000 and len(set(drawn)) == len(drawn)
