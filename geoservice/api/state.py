"""What every request handler reads: the settings, the catalog and the store, on app.state."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from geoservice.catalog import Catalog
from geoservice.settings import Settings
from geoservice.store import FeatureStore


@dataclass(frozen=True)
class Service:
    """The wired application: built once by create_app."""

    settings: Settings
    catalog: Catalog
    store: FeatureStore


async def get_service(request: Request) -> Service:
    """Return the service of the running app (a FastAPI dependency; async: no worker thread for a lookup)."""
    return request.app.state.service
