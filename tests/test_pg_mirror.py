"""PostGIS tables loaded from the catalog itself are answered from the catalog's rows ("mirrors").

The store then fetches only `_ord` and renders the catalog's pre-encoded features; these tests hold
that path to the rows-from-the-database path, and make sure a stale table is never mirrored.
"""

from __future__ import annotations

import pytest

from types import MappingProxyType

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
