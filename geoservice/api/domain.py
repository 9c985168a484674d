"""Domain queries beyond the standard: sectors, place lookup, nearest / within, search."""

from __future__ import annotations

import math
from typing import Annotated, Literal

import geopandas as gpd
from fastapi import APIRouter, Request
from fastapi import Query as Param
from shapely.geometry import Point
from starlette.responses import Response

from geoservice import crs as crs_module
from geoservice.analysis.lookup import lookup as analysis_lookup
from geoservice.analysis.search import search as analysis_search
from geoservice.api import downloads, html, render
from geoservice.api.errors import InvalidParameter, NotFound
from geoservice.api.params import (
    CollectionDep,
    JsonOrHtml,
    ServiceDep,
    negotiate,
    own_property_filter,
    parse_crs,
    parse_sector,
)
from geoservice.catalog import Collection
from geoservice.query import MAX_LIMIT, FeaturePage, Query

router = APIRouter(tags=["Domain queries"])

MAX_K = 100
MAX_DISTANCE_KM = 2000.0


def parse_point(value: str, info: crs_module.CRSInfo) -> Point:
    """Parse 'x,y' (in the CRS's axis order) into a CRS84 point inside lon/lat bounds."""
    try:
        a, b = (float(v) for v in value.split(","))
    except ValueError:
        raise InvalidParameter(f"point: {value!r} is not two comma-separated numbers") from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise InvalidParameter(f"point: {value!r} is not finite")
    given = Point(a, b)
    point = crs_module.to_crs84(given, info)
    if not (-180 <= point.x <= 180 and -90 <= point.y <= 90):
        raise InvalidParameter(f"point: {value!r} is outside the valid range of {info.uri}")
    return point


PointParam = Annotated[str, Param(description="x,y of the point in `crs` axis order (CRS84: lon,lat)",
                                  examples=["121.45,37.46"])]
CrsParam = Annotated[str | None, Param(description="CRS of the point and of the output (URI; default CRS84)")]


@router.get("/sectors", name="sectors", summary="The sector vocabulary and the element kinds",
            response_class=Response, responses=render.JSON_OR_HTML)
def sectors(request: Request, service: ServiceDep, f: JsonOrHtml) -> Response:
    """Return every sector code with Chinese/English names and synonyms, and the element kinds."""
    catalog = service.catalog

    def terms(vocab) -> list[dict]:
        return [{k: v for k, v in {
            "code": t.code, "name_zh": t.name_zh, "name_en": t.name_en, "scheme": t.scheme or None,
            "parent": t.parent, "synonyms": list(t.synonyms) or None,
        }.items() if v is not None} for t in vocab.terms.values()]

    body = {
        "schemes": dict(catalog.sectors.schemes), "sectors": terms(catalog.sectors),
        "kinds": terms(catalog.kinds),
        "industry_codes": [{"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en,
                            "sectors": list(c.sectors)} for c in catalog.sectors.industry],
        "links": [render.link(render.url_for(request, "search"), "search", render.GEOJSON,
                              "Features by sector: /search?sector=…")],
    }
    if f == "html":
        return render.html_response("sectors.html", request, body=body)
    return render.json_response(body)


@router.get("/sectors/{label}", name="sector", summary="Resolve a sector code, name or synonym",
            response_class=Response, responses=render.JSON_OR_HTML)
def sector(request: Request, label: str, service: ServiceDep, f: JsonOrHtml) -> Response:
    """Return the sector codes a label refers to (children included) and links to their features."""
    codes = service.catalog.sectors.lookup(label)
    if not codes:
        closest = service.catalog.sectors.closest(label)
        hint = f"; closest known labels: {', '.join(closest)}" if closest else ""
        raise NotFound(f"no sector code, name or synonym {label!r}{hint}; see /sectors")
    terms = [service.catalog.sectors.terms[c] for c in codes]
    body = {
        "label": label,
        "matches": [{"code": t.code, "name_zh": t.name_zh, "name_en": t.name_en} for t in terms],
        "codes": sorted(service.catalog.sectors.resolve(label)),
        "links": [render.link(str(request.url_for("search").include_query_params(sector=label)),
                              "items", render.GEOJSON, "Features of these sectors in every plan")],
    }
    if f == "html":
        return render.html_response("sector.html", request, body=body)
    return render.json_response(body)


def _features_out(frame: gpd.GeoDataFrame, info: crs_module.CRSInfo, extra: dict | None = None) -> Response:
    """Render a frame as a GeoJSON FeatureCollection in the output CRS."""
    page = FeaturePage(frame, len(frame))
    out = render.page_frame(page, Query(collection="", crs=info))
    body = {"type": "FeatureCollection", "features": render.geojson_features(out, decimals=render.decimals_for(info)),
            "numberMatched": len(frame), "numberReturned": len(frame), **(extra or {})}
    return render.json_response(body, render.GEOJSON, render.crs_header(info))


SearchFormat = Annotated[
    Literal["json", "html", "csv", "gpkg", "xlsx"] | None,
    Param(description=f"Output format: json (GeoJSON), html, or a file: {downloads.DESCRIPTION}"),
]
LookupFormat = Annotated[
    Literal["json", "html", "geojson", "csv", "gpkg", "xlsx"] | None,
    Param(description="Output format: json (the answer), html, or its plan features (areas containing the "
                      f"point, nearest sites) as geojson or a file: {downloads.DESCRIPTION}"),
]


def _features_page(request: Request, template: str, frame: gpd.GeoDataFrame, collection_id: str | None,
                   origin: Point | None = None, **context) -> Response:
    """Render features (CRS84) as an HTML page: a table linking each to its page, and the map."""
    rows = html.records(frame)
    return render.html_response(
        template, request, rows=rows, collection_id=collection_id,
        columns=html.table_columns(frame, None, None),
        map=html.page_map(request, frame, lambda r: collection_id or r["plan"],
                          None if origin is None else (origin.x, origin.y)),
        **context)


@router.get("/search", name="search", summary="Features of every plan by sector, kind, place or name",
            response_class=Response,
            responses={200: {"content": {render.GEOJSON: {}, render.HTML: {}, **downloads.CONTENT}}})
def search(
    request: Request,
    service: ServiceDep,
    sector: Annotated[str | None, Param(description="Sector code, Chinese/English name or synonym")] = None,
    kind: Annotated[str | None, Param(description="Element kind code or name (zh/en)")] = None,
    q: Annotated[str | None, Param(description="Text in names: Chinese, English or pinyin")] = None,
    district: Annotated[str | None, Param(description="Adcode or functional-zone id the feature lists")] = None,
    plan: Annotated[str | None, Param(description="Restrict to one plan id")] = None,
    limit: Annotated[int, Param(description=f"Maximum features, 1–{MAX_LIMIT}")] = 100,
    crs: CrsParam = None,
    f: SearchFormat = None,
) -> Response:
    """Search across the plan collections; each feature keeps its plan id."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameter(f"limit: {limit} is outside 1–{MAX_LIMIT}")
    fmt = negotiate(request, f, ("json", "html", *downloads.FORMATS))
    if not any((sector, kind, q, district, plan)):
        if fmt == "html":  # a person opening the search page: the form, not an error
            return render.html_response("search.html", request, rows=None, matched=0)
        raise InvalidParameter("give at least one of sector, kind, q, district, plan")
    frame = analysis_search(service.catalog, service.store, sector, kind, q, district, plan)
    if fmt in downloads.FORMATS:
        name = "-".join(["search", *(v for v in (plan, sector, kind, district, q) if v)])
        return downloads.download_response(frame.iloc[:limit], fmt, name, parse_crs(crs, "crs"))
    if fmt == "html":
        return _features_page(request, "search.html", frame.iloc[:limit], None, matched=len(frame))
    return _features_out(frame.iloc[:limit], parse_crs(crs, "crs"), {"numberMatched": len(frame)})


def _nearby(request: Request, f: str, service, collection: Collection, point: str, crs: str | None, k: int | None,
            within_km: float | None, kind: str | None, sector: str | None) -> Response:
    """Shared body of nearest and within: true distances, optional kind/sector restriction
    (the collection's own kind/sector properties first: parameters never shadow properties)."""
    info = parse_crs(crs, "crs")
    origin = parse_point(point, info)
    restrict = None
    if kind is not None or sector is not None:
        equals = [own for name, value in (("kind", kind), ("sector", sector)) if value is not None
                  and (own := own_property_filter(service, collection, name, value)) is not None]
        kind = None if "kind" in collection.properties else kind
        sectors = parse_sector(service.catalog.sectors, None if "sector" in collection.properties else sector)
        kinds = service.catalog.kinds.lookup(kind) if kind else ()
        if kind is not None and not kinds:
            raise InvalidParameter(f"kind: {kind!r} is no element kind")
        restrict = Query(collection=collection.id, sectors=sectors,
                         equals=tuple(equals) + ((("kind", kinds[0]),) if kinds else ()))
    found = service.store.nearest(collection.id, origin, k,
                                  None if within_km is None else within_km * 1000.0, restrict)
    if f == "html":
        return _features_page(request, "nearby.html", found, collection.id, origin,
                              collection=collection, k=k, within_km=within_km)
    return _features_out(found, info, {"origin": [origin.x, origin.y]})


@router.get("/collections/{collection_id}/nearest", name="nearest", summary="k nearest features to a point",
            response_class=Response, responses=render.GEOJSON_OR_HTML)
def nearest(
    request: Request, collection: CollectionDep, service: ServiceDep, f: JsonOrHtml, point: PointParam,
    crs: CrsParam = None,
    k: Annotated[int, Param(description=f"How many, 1–{MAX_K}")] = 5,
    kind: Annotated[str | None, Param(description="Only this element kind")] = None,
    sector: Annotated[str | None, Param(description="Only this sector (code, name or synonym)")] = None,
) -> Response:
    """Return the k features nearest to the point, with geodesic distances (distance_m)."""
    if not 1 <= k <= MAX_K:
        raise InvalidParameter(f"k: {k} is outside 1–{MAX_K}")
    return _nearby(request, f, service, collection, point, crs, k, None, kind, sector)


@router.get("/collections/{collection_id}/within", name="within", summary="Features within a distance of a point",
            response_class=Response, responses=render.GEOJSON_OR_HTML)
def within(
    request: Request, collection: CollectionDep, service: ServiceDep, f: JsonOrHtml, point: PointParam,
    distance_km: Annotated[float, Param(description=f"Radius in km, 0–{MAX_DISTANCE_KM:g}")],
    crs: CrsParam = None,
    kind: Annotated[str | None, Param(description="Only this element kind")] = None,
    sector: Annotated[str | None, Param(description="Only this sector (code, name or synonym)")] = None,
) -> Response:
    """Return every feature within distance_km of the point, nearest first (distance_m)."""
    if not (math.isfinite(distance_km) and 0 <= distance_km <= MAX_DISTANCE_KM):
        raise InvalidParameter(f"distance_km: {distance_km} is outside 0–{MAX_DISTANCE_KM:g}")
    return _nearby(request, f, service, collection, point, crs, MAX_LIMIT, distance_km, kind, sector)


@router.get("/lookup", name="lookup", summary="What is at a point: admin units, plan elements, nearest parks",
            response_class=Response,
            responses={200: {"content": {render.JSON: {}, render.HTML: {}, render.GEOJSON: {}, **downloads.CONTENT}}})
def lookup(
    request: Request, service: ServiceDep, point: PointParam, crs: CrsParam = None,
    k: Annotated[int, Param(description=f"How many nearest sited elements, 1–{MAX_K}")] = 5,
    f: LookupFormat = None,
) -> Response:
    """Answer which province/city/district a point is in, what each plan lays out there, the nearest
    sited elements with distances, and which incentives apply (geoservice.analysis.report.place_lookup)."""
    if not 1 <= k <= MAX_K:
        raise InvalidParameter(f"k: {k} is outside 1–{MAX_K}")
    fmt = negotiate(request, f, ("json", "html", "geojson", *downloads.FORMATS))
    info = parse_crs(crs, "crs")
    origin = parse_point(point, info)
    found = analysis_lookup(service.catalog, service.settings.data_dir, origin, k)
    if fmt == "geojson":
        return _features_out(found.features(), info, {"origin": [origin.x, origin.y]})
    if fmt in downloads.FORMATS:
        return downloads.download_response(found.features(), fmt, f"lookup-{origin.x:.5f}-{origin.y:.5f}", info)
    if fmt == "html":
        return render.html_response(
            "lookup.html", request, body=found.answer, nearest_columns=["plan", "kind", "distance_m"],
            map=html.page_map(request, found.nearest, lambda r: r["plan"], (origin.x, origin.y)))
    return render.json_response(found.answer)
