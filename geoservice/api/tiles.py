"""OGC API – Tiles (vector tiles): tilesets, TileJSON and Mapbox Vector Tiles per collection."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from geoservice.api import render
from geoservice.api.errors import InvalidParameter, NotFound
from geoservice.api.params import CollectionDep, ServiceDep
from geoservice.store.tiles import MAX_ZOOM, MVT, TMS_ID, MemoryTiles, TileError, TileSource

router = APIRouter(tags=["OGC API – Tiles"])

CONFORMS_TO = (
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
)
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"

CollectionId = Annotated[str, Path(description="A collection id from /collections")]
TmsId = Annotated[str, Path(description="Tile matrix set: WebMercatorQuad")]


def _source(service) -> TileSource:
    """Return the store when it encodes tiles itself (PostGIS), else the memory encoder."""
    return service.store if hasattr(service.store, "tile") else MemoryTiles(service.catalog)


def _check_tms(tms_id: str) -> None:
    """Only WebMercatorQuad is offered."""
    if tms_id != TMS_ID:
        raise NotFound(f"no tile matrix set {tms_id!r}; offered: {TMS_ID}")


def _template(request: Request, collection_id: str) -> str:
    """Return the tile URL template ({z}/{x}/{y})."""
    base = render.url_for(request, "tileset", collection_id=collection_id, tms_id=TMS_ID)
    return f"{base}/{{z}}/{{x}}/{{y}}"


@router.get("/collections/{collection_id}/tiles", name="tilesets", summary="Vector tilesets of a collection")
def tilesets(request: Request, collection_id: CollectionId, collection: CollectionDep) -> Response:
    """List the collection's tilesets (one: WebMercatorQuad)."""
    href = render.url_for(request, "tileset", collection_id=collection.id, tms_id=TMS_ID)
    return render.json_response({"tilesets": [{
        "title": f"{collection.title} (vector tiles)", "dataType": "vector", "crs": TMS_URI,
        "tileMatrixSetURI": TMS_URI,
        "links": [render.link(href, "self", render.JSON, "Tileset metadata and TileJSON"),
                  render.link(_template(request, collection.id), "item", MVT, "Mapbox Vector Tiles", templated=True)],
    }]})


@router.get("/collections/{collection_id}/tiles/{tms_id}", name="tileset", summary="Tileset metadata (TileJSON 3.0)")
def tileset(request: Request, collection_id: CollectionId, tms_id: TmsId, collection: CollectionDep) -> Response:
    """Describe the tileset: OGC tileset fields and TileJSON 3.0 in one document."""
    _check_tms(tms_id)
    extent = collection.extent or (-180.0, -85.0511, 180.0, 85.0511)
    fields = {n: spec.get("type", "string") for n, spec in collection.properties.items()}
    template = _template(request, collection.id)
    return render.json_response({
        "tilejson": "3.0.0", "name": collection.id, "description": collection.title,
        "tiles": [template], "minzoom": 0, "maxzoom": MAX_ZOOM, "bounds": list(extent),
        "center": [(extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2, 6],
        "vector_layers": [{"id": collection.id, "fields": fields, "minzoom": 0, "maxzoom": MAX_ZOOM}],
        "title": collection.title, "dataType": "vector", "crs": TMS_URI, "tileMatrixSetURI": TMS_URI,
        "links": [render.link(template, "item", MVT, "Mapbox Vector Tiles", templated=True),
                  render.link(render.url_for(request, "collection", collection_id=collection.id), "collection",
                              render.JSON, collection.title)],
    })


@router.get("/collections/{collection_id}/tiles/{tms_id}/{z}/{x}/{y}", name="tile", summary="One vector tile (MVT)",
            response_class=Response, responses={200: {"content": {MVT: {}}}, 204: {"description": "An empty tile"}})
def tile(collection_id: CollectionId, tms_id: TmsId, z: int, x: int, y: int,
         collection: CollectionDep, service: ServiceDep) -> Response:
    """Return one Mapbox Vector Tile of the collection (204 when the tile is empty)."""
    _check_tms(tms_id)
    try:
        data = _source(service).tile(collection.id, z, x, y)
    except TileError as exc:
        raise InvalidParameter(str(exc)) from None
    if not data:
        return Response(status_code=204, headers={"Cache-Control": "public, max-age=3600"})
    return Response(data, media_type=MVT, headers={"Cache-Control": "public, max-age=3600"})

