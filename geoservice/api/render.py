"""Responses: one renderer per media type (GeoJSON/JSON, HTML; files: api/downloads.py), and OGC links."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import orjson
from fastapi import Request
from starlette.responses import Response

from geoservice import crs as crs_module
from geoservice.catalog import Collection
from geoservice.geojson import features as geojson_features
from geoservice.query import FeaturePage, Query

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
CSV = "text/csv"
GPKG = "application/geopackage+sqlite3"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
JSON_OR_HTML = {200: {"description": "JSON, or HTML with f=html", "content": {JSON: {}, HTML: {}}}}
GEOJSON_OR_HTML = {200: {"description": "GeoJSON, or HTML with f=html", "content": {GEOJSON: {}, HTML: {}}}}

def json_response(body: Any, media_type: str = JSON, headers: dict | None = None, status: int = 200) -> Response:
    """Serialise with orjson (numpy-aware) into a response."""
    content = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    return Response(content, status_code=status, media_type=media_type, headers=headers)


def html_response(template: str, request: Request, **context: Any) -> Response:
    """Render a page of geoservice/api/templates (through the formatting layer of html.py)."""
    from geoservice.api import html  # html.py links through url_for below

    return html.html_response(template, request, **context)


def link(href: str, rel: str, type_: str, title: str | None = None, **extra: Any) -> dict:
    """Make one OGC link object."""
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return {**out, **extra}


MAX_ROUTE_PATHS = 4096


def url_for(request: Request, name: str, **params: str) -> str:
    """request.url_for as text, each route's path resolved once per app (Starlette walks every route
    on each call: ~25 µs, a fifth of a single-feature request)."""
    paths: dict = request.app.state.route_paths
    key = (name, *sorted(params.items()))
    path = paths.get(key)
    if path is None:
        path = request.app.url_path_for(name, **params)
        if len(paths) < MAX_ROUTE_PATHS:  # bounded: ids in params are checked before links are made
            paths[key] = path
    return str(request.base_url).rstrip("/") + path  # as URLPath.make_absolute_url, without re-parsing


def self_links(request: Request, json_type: str, formats: tuple[str, ...] = ("json", "html")) -> list[dict]:
    """Return self/alternate links for the current URL in each offered format."""
    names = {"json": json_type, "html": HTML, "csv": CSV, "gpkg": GPKG, "xlsx": XLSX}
    current = request.query_params.get("f") or "json"
    plain = not request.scope["query_string"] and str(request.url)  # no query: skip re-encoding it (hot path)
    out = []
    for fmt in formats:
        href = f"{plain}?f={fmt}" if plain else str(request.url.include_query_params(f=fmt))
        out.append(link(href, "self" if fmt == current else "alternate", names[fmt], f"This document as {fmt.upper()}"))
    return out


def crs_header(info: crs_module.CRSInfo) -> dict[str, str]:
    """Return the Content-Crs header (OGC API – Features Part 2)."""
    return {"Content-Crs": f"<{info.uri}>"}


def page_frame(page: FeaturePage, q: Query) -> gpd.GeoDataFrame:
    """Return the page's rows in the output CRS with only the requested properties."""
    frame = page.frame
    if q.properties is not None:
        keep = ["id", *[p for p in q.properties if p != "id"]] if "id" in frame.columns else list(q.properties)
        frame = frame[[*keep, frame.geometry.name]]
    if q.crs.uri != crs_module.CRS84:
        frame = frame.set_geometry(crs_module.from_crs84(frame.geometry.values, q.crs), crs=None)
    return frame


def decimals_for(info: crs_module.CRSInfo) -> int:
    """Return the coordinate precision for an output CRS (degrees 1e-7 ≈ 1 cm; metres 1e-2)."""
    return 2 if info.epsg == 3857 else 7


def collection_links(request: Request, collection: Collection) -> list[dict]:
    """Links of a collection description."""
    items = url_for(request, "items", collection_id=collection.id)
    base = url_for(request, "collection", collection_id=collection.id)
    return [
        link(base, "self", JSON, collection.title),
        link(items, "items", GEOJSON, "Features as GeoJSON"),
        link(f"{items}?f=html", "items", HTML, "Features as HTML"),
        link(f"{items}?f=csv", "items", CSV, "Features as CSV (UTF-8 with BOM, for Excel)"),
        link(f"{items}?f=gpkg", "items", GPKG, "Features as GeoPackage"),
        link(f"{items}?f=xlsx", "items", XLSX, "Features as Excel"),
        link(url_for(request, "queryables", collection_id=collection.id),
             "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json", "Queryables"),
    ]


def collection_body(request: Request, collection: Collection) -> dict:
    """Describe a collection (OGC API – Features collection object)."""
    extent = collection.extent
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "keywords": list(collection.keywords),
        "itemType": "feature",
        "links": collection_links(request, collection),
        "extent": {"spatial": {"bbox": [list(extent)] if extent else [], "crs": crs_module.CRS84}},
        "crs": list(crs_module.SUPPORTED_URIS),
        "storageCrs": crs_module.CRS84,
        "numberOfFeatures": collection.number_of_features,
        "geometryTypes": list(collection.geometry_types),
    }


def items_links(request: Request, q: Query, page: FeaturePage) -> list[dict]:
    """Self/alternate and next/prev paging links of an items response."""
    links = self_links(request, GEOJSON, ("json", "html", "csv", "gpkg", "xlsx"))
    url = request.url
    if q.offset + page.number_returned < page.number_matched:
        links.append(link(str(url.include_query_params(offset=q.offset + q.limit)), "next", GEOJSON, "Next page"))
    if q.offset > 0:
        links.append(link(str(url.include_query_params(offset=max(q.offset - q.limit, 0))), "prev", GEOJSON, "Previous page"))
    links.append(link(url_for(request, "collection", collection_id=q.collection), "collection", JSON, "The collection"))
    return links


def feature_collection(request: Request, q: Query, page: FeaturePage, collection: Collection) -> Response:
    """Render an items page as GeoJSON; CRS84 pages of whole features reuse pre-encoded bytes."""
    tail = {"numberMatched": page.number_matched, "numberReturned": page.number_returned,
            "links": items_links(request, q, page)}
    if page.positions is not None and q.properties is None and q.crs.uri == crs_module.CRS84:
        encoded = collection.encoded_features
        features = b",".join(encoded[i] for i in page.positions)
        body = b'{"type":"FeatureCollection","features":[' + features + b"]," + orjson.dumps(tail)[1:]
        return Response(body, media_type=GEOJSON, headers=crs_header(q.crs))
    frame = page_frame(page, q)
    body = {"type": "FeatureCollection", "features": geojson_features(frame, decimals=decimals_for(q.crs)), **tail}
    return json_response(body, GEOJSON, crs_header(q.crs))
