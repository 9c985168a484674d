"""Assemble the application: settings → catalog → store → routers and middleware."""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import Response

from geoservice import __version__
from geoservice.api import (
    common,
    domain,
    features,
    firms,
    health,
    html,
    incentives,
    invest,
    maps,
    planning,
    plans,
    render,
    tiles,
)
from geoservice.api.caching import HttpCacheMiddleware
from geoservice.api.errors import add_exception_handlers
from geoservice.api.observe import Metrics, ObserveMiddleware
from geoservice.api.openapi import openapi_document
from geoservice.api.proxy import add_proxy_middleware
from geoservice.api.state import Service
from geoservice.catalog import Catalog, Collection, build_catalog
from geoservice.extra import load_extra_collections, read_extra_specs
from geoservice.settings import Settings
from geoservice.store import FeatureStore
from geoservice.store.memory import MemoryStore

ROUTERS = (common, features, domain, plans, maps, firms, tiles, incentives, invest, planning, html, health)


def build_service(settings: Settings, catalog: Catalog | None = None) -> Service:
    """Load the catalog (plus extra collections) and wrap it in the configured store."""
    catalog = catalog or build_catalog(settings.data_dir)
    if settings.extra_collections is not None:
        catalog = catalog.with_collections(_extra_collections(settings))
    for collection in catalog.collections.values():  # before the first request, not during it
        collection.encoded_features, collection.properties, collection.extent, collection.geometry_types
    service = Service(settings, catalog, _store(settings, catalog))
    invest.warm(service)
    return service


def _extra_collections(settings: Settings) -> list[Collection]:
    """Return the extra collections: read from their files, or, with a database, only their schema
    from it (their rows stay in PostGIS, so a worker's memory does not grow with them)."""
    if settings.database_url:
        from geoservice.store.postgis import stored_collections

        return stored_collections(settings.database_url, read_extra_specs(settings.extra_collections))
    return load_extra_collections(settings.extra_collections)


def _store(settings: Settings, catalog: Catalog) -> FeatureStore:
    """Pick the store: PostGIS when a database URL is configured, else the embedded memory store."""
    if settings.database_url:
        from geoservice.store.postgis import PostGISStore

        return PostGISStore(catalog, settings.database_url, statement_timeout_s=settings.statement_timeout_s,
                            wait_s=settings.db_wait_s)
    return MemoryStore(catalog)


def app_from_env() -> FastAPI:
    """Build the app from GEOSERVICE_* variables, for other ASGI servers:
    `uvicorn --factory geoservice.api.app:app_from_env --no-proxy-headers` (the app handles the
    forwarded headers itself). Several workers: prefer `geoservice serve --workers N` (one copy of
    the data shared by forked workers; uvicorn's own workers each load everything)."""
    return for_serving(create_app(Settings.from_env()))


def for_serving(app: FastAPI) -> FastAPI:
    """Ready an app for a server process: what start-up built (frames, indexes, a million encoded
    features) lives as long as the process, so the cycle collector stops re-scanning it (gc.freeze)."""
    gc.collect()
    gc.freeze()
    return app


def create_app(settings: Settings, catalog: Catalog | None = None) -> FastAPI:
    """Build the FastAPI application for the given settings."""
    service = build_service(settings, catalog)
    metrics = Metrics()
    metrics.time_store(service.store)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        await service.store.aclose()  # what the store opened on this event loop (PostGIS: its async pool)

    app = FastAPI(
        lifespan=lifespan,
        title="geoservice",
        description="OGC API – Features over the cited layers of Chinese industrial plans.",
        version=__version__,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    app.state.metrics = metrics
    app.state.route_paths = {}  # render.url_for's cache
    app.state.conforms_to = frozenset().union(*(r.CONFORMS_TO for r in ROUTERS if hasattr(r, "CONFORMS_TO")))
    for module in ROUTERS:
        app.include_router(module.router)
    _add_api_routes(app)
    add_exception_handlers(app)
    app.add_middleware(HttpCacheMiddleware, count=metrics.count_cache)
    app.add_middleware(
        CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["*"], expose_headers=["Content-Crs", "ETag", "Link"],
    )
    add_proxy_middleware(app, settings.root_path, settings.forwarded_allow_ips)
    app.add_middleware(ObserveMiddleware, metrics=metrics, json_log=settings.access_log == "json")  # outermost
    return app


def _add_api_routes(app: FastAPI) -> None:
    """Serve the OpenAPI document at /api (OGC) and its HTML view, with local assets."""
    assets = Path(swagger_ui_bundle.swagger_ui_path)
    app.mount("/api-assets", StaticFiles(directory=assets), name="api-assets")

    @app.get("/api", name="openapi", include_in_schema=False)
    def openapi(request: Request) -> Response:
        if request.query_params.get("f") == "html" or (
                "text/html" in request.headers.get("accept", "") and request.query_params.get("f") != "json"):
            return swagger(request)
        return render.json_response(openapi_document(app), render.OPENAPI)

    @app.get("/api.html", name="swagger", include_in_schema=False)
    def swagger(request: Request) -> Response:
        base = str(request.url_for("api-assets", path=""))
        return get_swagger_ui_html(
            openapi_url=str(request.url_for("openapi").include_query_params(f="json")),
            title="geoservice API", swagger_js_url=f"{base}swagger-ui-bundle.js",
            swagger_css_url=f"{base}swagger-ui.css", swagger_favicon_url=f"{base}favicon-32x32.png",
        )
