"""Database-only collections: with a database URL, an extra collection's rows stay in PostGIS (the
worker reads only the schema `db load` recorded) and every endpoint answers as the memory store does."""

from __future__ import annotations

import urllib.parse

import pytest
from fastapi.testclient import TestClient

from geoservice.settings import Settings
from tests.conftest import DATA_DIR

FIRMS = "firms_small"
N = 3000
CQL2 = "size = 'large' AND employees > 500"


@pytest.fixture(scope="module")
def extra(catalog, tmp_path_factory, loaded_postgis_url):
    """A synthetic firm layer written to a GeoPackage, listed in an extra-collections file, loaded."""
    from geoservice.extra import load_extra_collections
    from geoservice.firms import synthesize, write
    from geoservice.store.pgload import load

    folder = tmp_path_factory.mktemp("extra")
    write(synthesize(catalog, N, seed=7), folder / "firms.gpkg")
    config = folder / "extra.yaml"
    config.write_text(f"- id: {FIRMS}\n  title: SYNTHETIC firms\n  path: firms.gpkg\n")
    load(loaded_postgis_url, load_extra_collections(config))
    return config


@pytest.fixture(scope="module")
def clients(catalog, extra, loaded_postgis_url):
    """(memory store with the layer read from its file, database-only PostGIS store)."""
    from geoservice.api.app import create_app

    memory = create_app(Settings(data_dir=DATA_DIR, extra_collections=extra), catalog)
    database = create_app(Settings(data_dir=DATA_DIR, extra_collections=extra, database_url=loaded_postgis_url),
                          catalog)
    with TestClient(memory) as a, TestClient(database) as b:
        yield a, b


def test_rows_are_not_held_in_the_worker(clients) -> None:
    collection = clients[1].app.state.service.catalog[FIRMS]
    assert len(collection.frame) == 0 and collection.number_of_features == N
    assert FIRMS not in clients[1].app.state.service.store._mirrors


def some_id(clients) -> str:
    return clients[0].get(f"/collections/{FIRMS}/items?offset=1234&limit=1").json()["features"][0]["id"]


@pytest.mark.parametrize("path", [
    f"/collections/{FIRMS}", f"/collections/{FIRMS}/queryables",
    f"/collections/{FIRMS}/items?limit=50", f"/collections/{FIRMS}/items?limit=20&offset=2900",
    f"/collections/{FIRMS}/items?bbox=121.30,37.40,121.50,37.56&limit=100",
    f"/collections/{FIRMS}/items?size=large&limit=100",
    f"/collections/{FIRMS}/items?filter-lang=cql2-text&filter={urllib.parse.quote(CQL2)}&limit=100",
    f"/collections/{FIRMS}/items?sortby=-employees&limit=30",
    f"/collections/{FIRMS}/items?limit=10&crs=http://www.opengis.net/def/crs/EPSG/0/3857",
    f"/collections/{FIRMS}/nearest?point=121.45,37.46&k=5",
    f"/collections/{FIRMS}/tiles/WebMercatorQuad",
    "/lookup?point=121.45,37.46", "/search?sector=bio.innovative-drugs",
])
def test_same_answers_as_the_memory_store(clients, path) -> None:
    a, b = (c.get(path) for c in clients)
    assert a.status_code == b.status_code == 200, b.text
    assert a.json() == b.json()
    assert list(a.json()) == list(b.json())  # same keys in the same order


def test_single_feature_and_formats(clients) -> None:
    fid = some_id(clients)
    for suffix in ("", "?f=html"):
        a, b = (c.get(f"/collections/{FIRMS}/items/{fid}{suffix}") for c in clients)
        assert a.status_code == b.status_code == 200
        assert a.text == b.text  # same properties in the same order
    assert clients[1].get(f"/collections/{FIRMS}/items/no-such-firm").status_code == 404
    a, b = (c.get(f"/collections/{FIRMS}/items?limit=20&f=csv") for c in clients)
    assert a.text == b.text


def test_tiles_come_from_postgis(clients) -> None:
    response = clients[1].get(f"/collections/{FIRMS}/tiles/WebMercatorQuad/10/857/396")
    assert response.status_code == 200 and response.content


def test_assign_answers(clients) -> None:
    body = "name,lon,lat\n示例企业,121.45,37.46\n".encode()
    a, b = (c.post("/firms/assign", content=body, headers={"Content-Type": "text/csv"}) for c in clients)
    assert a.status_code == b.status_code == 200 and a.text == b.text
