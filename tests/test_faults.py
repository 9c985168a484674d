"""Faults of the PostGIS store: the database stops while serving, comes back, or a query runs too long.

A throwaway cluster of its own (tests/pgcluster.py) that the test stops and starts again."""

from __future__ import annotations

import time

import psycopg
import pytest
from fastapi.testclient import TestClient

from geoservice.settings import Settings
from tests.conftest import DATA_DIR
from tests.pgcluster import Cluster, require_postgis

STATEMENT_TIMEOUT_S = 1.0
ANSWER_WITHIN_S = 2.0
RECOVER_WITHIN_S = 20.0
# One request of each kind that needs the database (the single feature runs on the async pool).
# /lookup is not one: it answers from the plan layers' site index, which every worker holds.
NEEDS_DATABASE = [
    "/collections/boundaries/items?limit=5",
    "/collections/boundaries/items?level=district&limit=5",
    "/collections/yantai-biomed-1p3x/items/yantai-biomed-1p3x.blue-valley",
    "/collections/boundaries/tiles/WebMercatorQuad/6/53/24",
    "/collections/yantai-biomed-1p3x/nearest?point=121.45,37.46&k=3",
    "/search?sector=bio.innovative-drugs",
]


@pytest.fixture(scope="module")
def cluster(catalog):
    """A cluster of this module only (stopping it must not disturb other tests), catalog loaded."""
    require_postgis()
    from geoservice.store.pgload import load_catalog

    cluster = Cluster()
    try:
        cluster.url = cluster.start()
        load_catalog(cluster.url, catalog)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def client(cluster, catalog):
    from geoservice.api.app import create_app

    settings = Settings(data_dir=DATA_DIR, database_url=cluster.url, statement_timeout_s=STATEMENT_TIMEOUT_S)
    with TestClient(create_app(settings, catalog)) as client:
        yield client


def timed_get(client, path: str):
    began = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - began


def test_database_stopped_then_back(cluster, client) -> None:
    for path in NEEDS_DATABASE + ["/ready"]:
        assert client.get(path).status_code == 200, path
    cluster.pause()
    try:
        for path in NEEDS_DATABASE * 2:  # the second round: no pooled connection left, new ones refused
            response, seconds = timed_get(client, path)
            assert response.status_code == 503, (path, response.text)
            assert seconds < ANSWER_WITHIN_S, (path, seconds)
            assert response.json()["code"] == "ServiceUnavailable"
            assert "unavailable" in response.json()["description"]
            assert int(response.headers["retry-after"]) > 0
        ready, seconds = timed_get(client, "/ready")
        assert ready.status_code == 503 and seconds < ANSWER_WITHIN_S
        assert client.get("/health").status_code == 200  # alive, just not ready
        assert client.get("/collections").status_code == 200  # needs no database
    finally:
        cluster.resume()
    deadline = time.monotonic() + RECOVER_WITHIN_S
    while client.get("/ready").status_code != 200 or client.get(NEEDS_DATABASE[0]).status_code != 200:
        assert time.monotonic() < deadline, "the service did not recover without a restart"
        time.sleep(0.5)
    for path in NEEDS_DATABASE:
        statuses = [client.get(path).status_code for _ in range(3)]
        assert statuses[-1] == 200, (path, statuses)  # a broken pooled connection may fail once


def test_query_over_the_time_limit_is_503_and_the_worker_is_free_again(cluster, client) -> None:
    path = NEEDS_DATABASE[1]
    assert client.get(path).status_code == 200
    with psycopg.connect(cluster.url) as blocker:  # holds a lock the query must wait for
        blocker.execute('LOCK TABLE geoservice."boundaries" IN ACCESS EXCLUSIVE MODE')
        response, seconds = timed_get(client, path)
        assert response.status_code == 503, response.text
        assert STATEMENT_TIMEOUT_S <= seconds < STATEMENT_TIMEOUT_S + ANSWER_WITHIN_S
        assert "longer than the limit of 1 s" in response.json()["description"]
        assert response.headers["retry-after"]
        blocker.rollback()
    response, seconds = timed_get(client, path)
    assert response.status_code == 200 and seconds < ANSWER_WITHIN_S
