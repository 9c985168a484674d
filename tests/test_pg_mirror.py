"""PostGIS tables loaded from the catalog itself are answered from the catalog's rows ("mirrors").

The store then fetches only `_ord` and renders the catalog's pre-encoded features; these tests hold
that path to the rows-from-the-database path, and make sure a stale table is never mirrored.
"""

from __future__ import annotations

from types import MappingProxyType

import pytest

from geoservice.catalog import Catalog, Collection
from tests.test_store_parity import QUERIES, same_frames


@pytest.fixture(scope="module")
def pg_pair(catalog, loaded_postgis_url):
    """Return (mirroring store, store that decodes every row from the database)."""
    from geoservice.store.postgis import PostGISStore

    mirror = PostGISStore(catalog, loaded_postgis_url)
    rows = PostGISStore(catalog, loaded_postgis_url)
    rows._mirrors = set()
    yield mirror, rows
    mirror.close()
    rows.close()


def test_every_loaded_collection_is_a_mirror(catalog, pg_pair):
    """The fingerprint recorded by `db load` matches the catalog it was loaded from."""
    assert pg_pair[0]._mirrors == set(catalog.collections)


@pytest.mark.parametrize("q", QUERIES, ids=range(len(QUERIES)))
def test_mirror_pages_equal_database_rows(pg_pair, q):
    """Same rows, index, values and count; the mirror page carries the catalog positions."""
    mirror, rows = pg_pair
    a, b = mirror.query(q), rows.query(q)
    assert a.number_matched == b.number_matched
    same_frames(a.frame, b.frame)
    assert b.positions is None and list(a.positions) == list(a.frame.index)


def test_mirror_get_equals_database_row(catalog, pg_pair):
    """A single feature is the same either way."""
    mirror, rows = pg_pair
    some = catalog["yantai-health-2345"].frame["id"].iloc[3]
    same_frames(mirror.get("yantai-health-2345", some), rows.get("yantai-health-2345", some))


def test_changed_collection_is_not_mirrored(catalog, loaded_postgis_url):
    """A catalog that differs from what was loaded is answered from the database rows only."""
    from geoservice.store.postgis import PostGISStore

    bounds = catalog["boundaries"]
    fewer = Collection(bounds.id, bounds.title, bounds.description, bounds.frame.iloc[:-1])
    changed = Catalog(MappingProxyType({**catalog.collections, bounds.id: fewer}), catalog.sectors, catalog.kinds,
                      catalog.boundaries, catalog.plans)
    store = PostGISStore(changed, loaded_postgis_url)
    try:
        assert "boundaries" not in store._mirrors and "incentives" in store._mirrors
    finally:
        store.close()


def test_mirror_feature_positions_equal_memory(catalog, pg_pair):
    """The async id lookup of a mirror gives the memory store's positions; a table that is not a
    mirror says None (the API then renders the database row)."""
    import asyncio

    from geoservice.store.memory import MemoryStore

    mirror, rows = pg_pair
    memory = MemoryStore(catalog)
    frame = catalog["yantai-health-2345"].frame

    async def lookups():
        out = []
        for fid in [*frame["id"].iloc[[0, 3, -1]], "no-such-id"]:
            out.append((await memory.feature_positions("yantai-health-2345", fid),
                        await mirror.feature_positions("yantai-health-2345", fid),
                        await rows.feature_positions("yantai-health-2345", fid)))
        await mirror.aclose()
        return out

    for in_memory, in_mirror, in_rows in asyncio.run(lookups()):
        assert list(in_memory) == list(in_mirror) and in_rows is None
    assert list(in_memory) == []  # the unknown id


def test_single_feature_from_database_rows_equals_memory(catalog, loaded_postgis_url):
    """Over HTTP, a feature of a table that is not a mirror is the same document as from memory."""
    from fastapi.testclient import TestClient

    from geoservice.api.app import create_app
    from geoservice.settings import Settings

    fid = catalog["yantai-health-2345"].frame["id"].iloc[3]
    path = f"/collections/yantai-health-2345/items/{fid}"
    with TestClient(create_app(Settings(), catalog)) as memory_client:
        expected = memory_client.get(path).json()
    app = create_app(Settings(database_url=loaded_postgis_url), catalog)
    app.state.service.store._mirrors = set()
    try:
        with TestClient(app) as client:
            assert client.get(path).json() == expected
            assert client.get(path + "x").status_code == 404
    finally:
        app.state.service.store.close()
