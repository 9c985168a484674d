"""OGC API – Features Parts 1–3: collections, items, single features, queryables."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import numpy as np
import orjson
from fastapi import APIRouter, Path, Request
from fastapi import Query as Param
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from geoservice import crs as crs_module
from geoservice.api import downloads, html, render
from geoservice.api.errors import NotFound
from geoservice.api.params import (
    CollectionDep,
    ItemsRequestDep,
    JsonOrHtml,
    JsonOrHtmlParam,
    ServiceDep,
    collection_of,
    negotiate,
    parse_crs,
)
from geoservice.api.state import Service
from geoservice.catalog import Collection
from geoservice.crs import CRS84, CRSInfo, resolve
from geoservice.filters import GEOMETRY_QUERYABLE
from geoservice.query import FeaturePage, Query

router = APIRouter(tags=["OGC API – Features"])

CONFORMS_TO = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/queryables",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/array-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/sorting",
)

CRS84_INFO = resolve(CRS84)
CollectionId = Annotated[str, Path(description="A collection id from /collections")]


@router.get("/collections", name="collections", summary="The feature collections",
            response_class=Response, responses=render.JSON_OR_HTML)
def collections(request: Request, service: ServiceDep, f: JsonOrHtml) -> Response:
    """List every collection."""
    bodies = [render.collection_body(request, c) for c in service.catalog.collections.values()]
    if f == "html":
        return render.html_response("collections.html", request, collections=bodies)
    body = {"links": render.self_links(request, render.JSON), "collections": bodies,
            "crs": list(crs_module.SUPPORTED_URIS)}
    return render.json_response(body)


@router.get("/collections/{collection_id}", name="collection", summary="One collection",
            response_class=Response, responses=render.JSON_OR_HTML)
def collection(request: Request, collection_id: CollectionId, collection: CollectionDep, f: JsonOrHtml) -> Response:
    """Describe one collection."""
    body = render.collection_body(request, collection)
    if f == "html":
        return render.html_response("collection.html", request, collection=body)
    return render.json_response(body)


@router.get("/collections/{collection_id}/items", name="items", summary="Features of a collection",
            response_class=Response,
            responses={200: {"content": {render.GEOJSON: {}, render.HTML: {}, **downloads.CONTENT}}})
def items(request: Request, collection_id: CollectionId, collection: CollectionDep,
          service: ServiceDep, parsed: ItemsRequestDep) -> Response:
    """Query the features of a collection (bbox, CQL2 filter, sector, text, sort, paging, CRS)."""
    q = parsed.query
    page = service.store.query(q)
    if parsed.format in downloads.FORMATS:
        fields = None if q.properties is not None else collection.properties
        frame = render.page_frame(page, replace(q, crs=CRS84_INFO))  # downloads reproject themselves
        return downloads.download_response(frame, parsed.format, collection.id, q.crs, fields)
    if parsed.format == "html":
        body = _html_items(request, collection, q, page)
        return render.html_response("items.html", request, **body)
    return render.feature_collection(request, q, page, collection)


def _html_items(request: Request, collection, q: Query, page: FeaturePage) -> dict:
    """Context of the HTML items page: the rows, the columns to show, the map, the filter form."""
    rows = html.records(render.page_frame(page, q))
    return {
        "collection": collection, "rows": rows, "matched": page.number_matched, "offset": q.offset,
        "columns": html.table_columns(page.frame, q.properties, collection.plan,
                                      _fixed(q, collection)),
        "links": render.items_links(request, q, page), "choices": html.form_choices(request, collection),
        "map": html.page_map(request, page.frame, lambda r: collection.id),
    }


def _fixed(q: Query, collection: Collection) -> set[str]:
    """Return the properties a simple filter sets to one value on every row (`?kind=park`): their
    column would repeat it (list properties only contain the value, so they stay)."""
    return {key for key, _ in q.equals if collection.properties.get(key, {}).get("type") != "array"}


@router.get("/collections/{collection_id}/items/{feature_id}", name="item", summary="One feature",
            response_class=Response, responses={200: {"content": {render.GEOJSON: {}, render.HTML: {}}}})
async def item(request: Request, collection_id: CollectionId, feature_id: str, f: JsonOrHtmlParam = None,
               crs: Annotated[str | None, Param(description="Output CRS (URI); see the collection's crs list")] = None) -> Response:
    """Return one feature."""
    # The hottest path of clients (map popups, GIS identify) runs on the event loop: parameters are
    # resolved here rather than through sub-dependencies (~40 µs each in FastAPI), and the catalog's
    # own rows are answered with their pre-encoded bytes; only other formats and CRSs go to a thread.
    service: Service = request.app.state.service
    collection = collection_of(service, collection_id)
    f = negotiate(request, f, ("json", "html"))
    out_crs = parse_crs(crs, "crs")
    positions = await service.store.feature_positions(collection.id, feature_id)
    if positions is not None and not len(positions):
        raise NotFound(f"no feature {feature_id!r} in collection {collection.id!r}")
    if positions is not None and f == "json" and out_crs.uri == CRS84:
        links = orjson.dumps(_item_links(request, collection))
        body = collection.encoded_features[positions[0]][:-1] + b',"links":' + links + b"}"
        return Response(body, media_type=render.GEOJSON, headers=render.crs_header(out_crs))
    return await run_in_threadpool(_rendered_item, request, service, collection, feature_id, positions, f, out_crs)


def _rendered_item(request: Request, service: Service, collection: Collection, feature_id: str,
                   positions: np.ndarray | None, f: str, out_crs: CRSInfo) -> Response:
    """Render one feature from its frame: HTML, another CRS, or a store whose rows are not the catalog's."""
    frame = service.store.get(collection.id, feature_id) if positions is None else collection.frame.iloc[positions[:1]]
    if frame.empty:
        raise NotFound(f"no feature {feature_id!r} in collection {collection.id!r}")
    page_frame = render.page_frame(FeaturePage(frame.iloc[:1], 1), Query(collection=collection.id, crs=out_crs))
    if f == "html":
        return render.html_response("item.html", request, collection=collection,
                                    feature=html.records(page_frame)[0], links=_item_links(request, collection),
                                    map=html.page_map(request, frame.iloc[:1], lambda r: collection.id))
    feature = render.geojson_features(page_frame, decimals=render.decimals_for(out_crs))[0]
    feature["links"] = _item_links(request, collection)
    return render.json_response(feature, render.GEOJSON, render.crs_header(out_crs))


def _item_links(request: Request, collection: Collection) -> list[dict]:
    """Links of a single feature: itself in each format, and its collection."""
    return [*render.self_links(request, render.GEOJSON),
            render.link(render.url_for(request, "collection", collection_id=collection.id), "collection", render.JSON)]


@router.get("/collections/{collection_id}/queryables", name="queryables", summary="Queryable properties",
            response_class=Response, responses={200: {"content": {"application/schema+json": {}, render.HTML: {}}}})
def queryables(request: Request, collection_id: CollectionId, collection: CollectionDep, f: JsonOrHtml) -> Response:
    """Return the JSON Schema of the properties usable in filters, sortby and simple filters."""
    types = collection.geometry_types
    shape = f"geometry-{types[0].lower()}" if len(types) == 1 else "geometry-any"  # Part 3 §6.3 formats
    props = {GEOMETRY_QUERYABLE: {"title": "Geometry", "format": shape, "x-ogc-role": "primary-geometry"}}
    props.update(collection.properties)
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": render.url_for(request, "queryables", collection_id=collection.id),
        "type": "object",
        "title": collection.title,
        "properties": props,
        "additionalProperties": False,
    }
    if f == "html":
        return render.html_response("queryables.html", request, collection=collection, schema=body)
    return render.json_response(body, "application/schema+json")
