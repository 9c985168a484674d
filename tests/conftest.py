"""Shared fixtures: the real data, a disposable copy of it, and the catalog built once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geoservice.catalog import Catalog, build_catalog
from geoservice.settings import PACKAGE_ROOT
from tests.pgcluster import loaded_postgis_url, postgis_url  # noqa: F401 (fixtures)

pytest_plugins = ("tests.browser",)  # server, browser, watched: the browser tests' fixtures

DATA_DIR = PACKAGE_ROOT / "data"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """Return the catalog of the committed data."""
    return build_catalog(DATA_DIR)


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """Return a private copy of data/ that a test may break."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


@pytest.fixture(scope="session", params=["memory", "postgis"])
def store_kind(request) -> str:
    """Run every HTTP test against both stores (PostGIS: a throwaway cluster, see pgcluster)."""
    return request.param


@pytest.fixture(scope="session")
def app(catalog: Catalog, store_kind: str, request):
    """Return the API application over the committed data, on the memory or the PostGIS store."""
    from geoservice.api.app import create_app
    from geoservice.settings import Settings

    url = request.getfixturevalue("loaded_postgis_url") if store_kind == "postgis" else None
    return create_app(Settings(data_dir=DATA_DIR, database_url=url), catalog)


@pytest.fixture(scope="session")
def client(app):
    """Return an HTTP test client of the API."""
    from fastapi.testclient import TestClient

    with TestClient(app) as client:  # one event loop for the session, and the app's lifespan runs
        yield client
