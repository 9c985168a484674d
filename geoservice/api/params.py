"""Query parameters: each parsed by one small function into a typed value (or a 400)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi import Query as Param
from shapely.geometry.base import BaseGeometry

from geoservice import crs as crs_module
from geoservice import filters
from geoservice.api.errors import InvalidParameter, NotFound
from geoservice.api.state import Service, get_service
from geoservice.catalog import Collection
from geoservice.query import DEFAULT_LIMIT, MAX_LIMIT, Query
from geoservice.vocab import UnknownTerm, Vocabulary

ServiceDep = Annotated[Service, Depends(get_service)]

# Parameters the items endpoint defines; anything else must be a queryable (a simple filter).
ITEMS_PARAMETERS = frozenset({
    "f", "limit", "offset", "bbox", "bbox-crs", "crs", "filter", "filter-lang", "filter-crs",
    "sortby", "properties", "sector", "q", "datetime",
})
# Parameters with a domain meaning (any other is standard and reserved), and the catalog
# vocabulary each speaks. A collection's own queryable of the same name takes them over.
DOMAIN_PARAMETERS = {"sector": "sectors", "kind": "kinds", "q": None}


def collection_of(service: Service, collection_id: str) -> Collection:
    """Return the collection named in the path, or 404."""
    if collection_id not in service.catalog:
        raise NotFound(f"no collection {collection_id!r}; see /collections")
    return service.catalog[collection_id]


async def get_collection(collection_id: str, service: ServiceDep) -> Collection:
    """The collection named in the path (a FastAPI dependency)."""
    return collection_of(service, collection_id)


CollectionDep = Annotated[Collection, Depends(get_collection)]


def parse_sector(sectors: Vocabulary, value: str | None, name: str = "sector") -> frozenset[str] | None:
    """Resolve a sector parameter (plan code, Chinese/English name, synonym, GB/T 4754 code or class
    name) to plan sector codes; an unknown label is a 400 naming the closest known labels."""
    if value is None:
        return None
    try:
        return sectors.require(value)
    except UnknownTerm as exc:
        raise InvalidParameter(f"{name}: {exc}; see /sectors") from None


def parse_crs(value: str | None, name: str) -> crs_module.CRSInfo:
    """Resolve a CRS parameter (default CRS84)."""
    if value is None or value == "":
        return crs_module.resolve(crs_module.CRS84)
    try:
        return crs_module.resolve(value)
    except crs_module.UnknownCRS as exc:
        raise InvalidParameter(f"{name}: {exc}") from None


def parse_bbox(value: str | None, bbox_crs: crs_module.CRSInfo) -> BaseGeometry | None:
    """Parse bbox=minx,miny,maxx,maxy (or 6 numbers) into a CRS84 polygon."""
    if value is None:
        return None
    parts = value.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise InvalidParameter(f"bbox: {value!r} is not 4 or 6 comma-separated numbers") from None
    if len(numbers) not in (4, 6) or not all(math.isfinite(n) for n in numbers):
        raise InvalidParameter(f"bbox: {value!r} is not 4 or 6 comma-separated finite numbers")
    a, b, c, d = numbers if len(numbers) == 4 else (numbers[0], numbers[1], numbers[3], numbers[4])
    lon_lat = not bbox_crs.lat_first and bbox_crs.epsg in (4326, None)
    lat_lon = bbox_crs.lat_first
    if lon_lat or lat_lon:
        lats = (a, c) if lat_lon else (b, d)
        lons = (b, d) if lat_lon else (a, c)  # west > east: crosses the antimeridian
        if not all(-90 <= v <= 90 for v in lats) or not all(-180 <= v <= 180 for v in lons):
            raise InvalidParameter(f"bbox: {value!r} is outside the valid longitude/latitude range")
        if lats[0] > lats[1]:
            raise InvalidParameter(f"bbox: {value!r} has its lower latitude above its upper one")
    elif a > c or b > d:
        raise InvalidParameter(f"bbox: {value!r} has a lower corner above its upper corner")
    return crs_module.bbox_to_crs84((a, b, c, d), bbox_crs)


def parse_names(value: str | None, allowed: set[str], name: str) -> tuple[str, ...] | None:
    """Parse a comma-separated list of property names, each of which must exist."""
    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n.lstrip("+-") not in allowed]
    if unknown:
        raise InvalidParameter(f"{name}: unknown properties {unknown}; known: {sorted(allowed)}")
    return names


def parse_filter(text: str | None, lang: str | None, filter_crs: crs_module.CRSInfo,
                 allowed: set[str]) -> dict | bool | None:
    """Parse and check a CQL2 filter against the collection's queryables."""
    if text is None:
        if lang is not None:
            raise InvalidParameter("filter-lang given without filter")
        return None
    lang = lang or "cql2-text"
    if lang not in ("cql2-text", "cql2-json"):
        raise InvalidParameter(f"filter-lang: {lang!r} is not cql2-text or cql2-json")
    tree = filters.parse(text, lang)
    unknown = filters.properties_used(tree) - allowed - {filters.GEOMETRY_QUERYABLE}
    if unknown:
        raise filters.FilterError(f"unknown properties {sorted(unknown)}; see the collection's queryables")
    return tree


_speaking: dict[tuple[int, str], tuple[Collection, bool]] = {}


def speaks_vocabulary(collection: Collection, name: str, vocabulary: Vocabulary) -> bool:
    """Whether every value of the property is a code of the vocabulary (decided once per column)."""
    key = (id(collection), name)
    if key not in _speaking:  # the collection is kept with its answer, so its id is never reused
        values = collection.frame[name].dropna()
        texts = values.map(lambda v: isinstance(v, str)).all()
        _speaking[key] = (collection, bool(len(values) and texts and set(values) <= set(vocabulary.terms)))
    return _speaking[key][1]


def own_property_filter(service: Service, collection: Collection, name: str, value: str) -> tuple[str, str] | None:
    """Parameters never shadow properties: when the collection has a queryable named like a domain
    parameter, ?name=value is the simple filter on it (None: the parameter keeps its domain meaning).
    Where the queryable's values are the vocabulary's codes (the plan layers' kind), a name or
    synonym is first translated to its code: ?kind=园区 is kind = 'park'."""
    if name not in collection.properties:
        return None
    vocabulary = getattr(service.catalog, DOMAIN_PARAMETERS.get(name) or "", None)
    if isinstance(vocabulary, Vocabulary) and speaks_vocabulary(collection, name, vocabulary):
        codes = vocabulary.lookup(value)
        if not codes:  # no row can match: say why rather than answer nothing
            raise InvalidParameter(f"{name}: {UnknownTerm(value, vocabulary.closest(value))}; see /sectors")
        value = codes[0]
    return name, value


@dataclass(frozen=True)
class ItemsRequest:
    """The parsed items request: the store query and the output format."""

    query: Query
    format: str


async def items_request(
    request: Request,
    collection: CollectionDep,
    service: ServiceDep,
    f: Annotated[Literal["json", "html", "csv", "gpkg", "xlsx"] | None,
                 Param(description="Output format: json (GeoJSON), html, or a file: csv (UTF-8 with BOM, "
                                   "for Excel), gpkg (GeoPackage), xlsx (Excel)")] = None,
    limit: Annotated[int, Param(description=f"Page size, 1–{MAX_LIMIT} (default {DEFAULT_LIMIT})")] = DEFAULT_LIMIT,
    offset: Annotated[int, Param(description="Index of the first feature of the page (paging)")] = 0,
    bbox: Annotated[str | None, Param(description="minx,miny,maxx,maxy in bbox-crs (default CRS84)")] = None,
    bbox_crs: Annotated[str | None, Param(alias="bbox-crs", description="CRS of bbox (URI)")] = None,
    crs: Annotated[str | None, Param(description="Output CRS (URI); see the collection's crs list")] = None,
    filter: Annotated[str | None, Param(description="CQL2 filter (text or JSON, per filter-lang)")] = None,
    filter_lang: Annotated[str | None, Param(alias="filter-lang", description="cql2-text (default) or cql2-json")] = None,
    filter_crs: Annotated[str | None, Param(alias="filter-crs", description="CRS of filter geometries (URI)")] = None,
    sortby: Annotated[str | None, Param(description="Comma-separated properties, - prefix for descending")] = None,
    properties: Annotated[str | None, Param(description="Comma-separated properties to return")] = None,
    sector: Annotated[str | None, Param(description="Sector: code, Chinese or English name, or synonym")] = None,
    q: Annotated[str | None, Param(description="Text search in names (Chinese, English, pinyin)")] = None,
    datetime: Annotated[str | None, Param(description="Not used: these collections have no feature time")] = None,
) -> ItemsRequest:
    """Parse everything the items endpoint accepts into one Query."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameter(f"limit: {limit} is outside 1–{MAX_LIMIT}")
    if offset < 0:
        raise InvalidParameter(f"offset: {offset} is negative")
    known = set(collection.properties)
    equals = []
    for key, value in request.query_params.multi_items():
        if key in ITEMS_PARAMETERS and key not in DOMAIN_PARAMETERS:
            continue
        if key not in known and key not in ITEMS_PARAMETERS:
            raise InvalidParameter(
                f"unknown parameter {key!r}; parameters: {sorted(ITEMS_PARAMETERS)}, "
                f"or a property for a simple filter: {sorted(known)}")
        if (own := own_property_filter(service, collection, key, value)) is not None:
            equals.append(own)
    sectors = parse_sector(service.catalog.sectors, None if "sector" in known else sector)
    if "q" in known:
        q = None
    filter_crs_info = parse_crs(filter_crs, "filter-crs")
    sort = parse_names(sortby, known, "sortby")
    query = Query(
        collection=collection.id,
        bbox=parse_bbox(bbox, parse_crs(bbox_crs, "bbox-crs")),
        filter=parse_filter(filter, filter_lang, filter_crs_info, known),
        filter_crs=filter_crs_info,
        equals=tuple(equals),
        sectors=sectors,
        text=q,
        sortby=tuple((n.lstrip("+-"), not n.startswith("-")) for n in sort or ()),
        limit=limit,
        offset=offset,
        properties=parse_names(properties, known, "properties"),
        crs=parse_crs(crs, "crs"),
    )
    return ItemsRequest(query, negotiate(request, f, ("json", "html", "csv", "gpkg", "xlsx")))


ItemsRequestDep = Annotated[ItemsRequest, Depends(items_request)]

_ACCEPT = {"application/geo+json": "json", "application/json": "json", "text/html": "html", "text/csv": "csv",
           "application/geopackage+sqlite3": "gpkg",
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx"}


def negotiate(request: Request, f: str | None, offered: tuple[str, ...]) -> str:
    """Pick the output format from ?f=, then the Accept header; JSON by default."""
    if f is not None:
        if f not in offered:
            raise InvalidParameter(f"f: {f!r} is not one of {list(offered)}")
        return f
    accept = request.headers.get("accept", "")
    for media in re.split(r"\s*,\s*", accept):
        fmt = _ACCEPT.get(media.split(";")[0].strip())
        if fmt in offered:
            return fmt
    return "json"


JsonOrHtmlParam = Annotated[Literal["json", "html"] | None, Param(description="Output format: json or html")]


async def json_or_html(request: Request, f: JsonOrHtmlParam = None) -> str:
    """Negotiate JSON or HTML."""
    return negotiate(request, f, ("json", "html"))


JsonOrHtml = Annotated[str, Depends(json_or_html)]
