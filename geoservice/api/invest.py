"""Investor tools over HTTP: site report, ranking, region comparison, isotopes and their reach.

Thin: each route parses its parameters, calls one function of geoservice.analysis, and renders
JSON or HTML (templates invest_*.html)."""

from __future__ import annotations

import math
from typing import Annotated

import shapely
from fastapi import APIRouter, Request
from fastapi import Query as Param
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from starlette.responses import Response

from geoservice import crs as crs_module
from geoservice.analysis import ranking, reach
from geoservice.analysis.isotopes import MODES, reach_budget
from geoservice.analysis.report import site_report
from geoservice.analysis.sites import SiteIndex, site_index
from geoservice.api import render
from geoservice.api.domain import CrsParam, parse_point
from geoservice.api.errors import InvalidParameter, NotFound
from geoservice.api.params import JsonOrHtml, ServiceDep, parse_crs, parse_sector
from geoservice.api.state import Service

router = APIRouter(tags=["Investor tools"])

MAX_WKT_CHARS = 200_000
MAX_VERTICES = 10_000
MAX_RANK = 200
SectorParam = Annotated[str | None, Param(
    description="Sector: plan code, Chinese/English name, synonym, GB/T 4754 code or class name")]


def warm(service: Service) -> None:
    """Build the site index and the ranking candidates before the first request, not during it."""
    ranking.candidates(index_of(service), service.settings.data_dir)


def index_of(service: Service) -> SiteIndex:
    """Return the site index of the service's catalog (built at start-up)."""
    return site_index(service.catalog, service.settings.data_dir)


GROUPS = {"parks": "园区基地 · Parks and bases", "hospitals": "医院 · Hospitals",
          "research": "高校院所 · Universities and institutes", "platforms": "平台设施 · Platforms and facilities",
          "enterprises": "同产业企业 · Same-sector enterprises"}


def labels(service: Service) -> dict:
    """Return the names the HTML pages show for plan ids, kinds and nearby groups."""
    catalog = service.catalog
    return {"plans": {pid: p.plan.title_zh for pid, p in catalog.plans.items()},
            "kinds": {k: (t.name_zh, t.name_en) for k, t in catalog.kinds.terms.items()},
            "groups": GROUPS}


def parse_site(point: str | None, polygon: str | None, crs: str | None) -> BaseGeometry:
    """Parse point=x,y or polygon=WKT (in crs) into a CRS84 geometry; exactly one is given."""
    if (point is None) == (polygon is None):
        raise InvalidParameter("give exactly one of point=x,y and polygon=WKT")
    info = parse_crs(crs, "crs")
    if point is not None:
        return parse_point(point, info)
    if len(polygon) > MAX_WKT_CHARS:
        raise InvalidParameter(f"polygon: longer than {MAX_WKT_CHARS} characters")
    try:
        geom = shapely.from_wkt(polygon)
    except shapely.errors.GEOSException:
        raise InvalidParameter("polygon: not valid WKT") from None
    if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise InvalidParameter("polygon: must be a non-empty POLYGON or MULTIPOLYGON")
    if shapely.get_num_coordinates(geom) > MAX_VERTICES:
        raise InvalidParameter(f"polygon: more than {MAX_VERTICES} vertices")
    if not geom.is_valid:
        raise InvalidParameter(f"polygon: invalid ({shapely.is_valid_reason(geom)})")
    geom = crs_module.to_crs84(geom, info)
    x0, y0, x1, y1 = geom.bounds
    if not all(math.isfinite(v) for v in geom.bounds) or x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
        raise InvalidParameter(f"polygon: outside the valid range of {info.uri}")
    return geom


@router.get("/report", name="report", summary="Site report: plans, nearby, incentives, isotopes, caveats",
            responses=render.JSON_OR_HTML)
def report(
    request: Request, service: ServiceDep, f: JsonOrHtml,
    point: Annotated[str | None, Param(description="x,y of the site in `crs` axis order",
                                       examples=["121.62,37.35"])] = None,
    polygon: Annotated[str | None, Param(description="A drawn site: POLYGON WKT in `crs`")] = None,
    crs: CrsParam = None, sector: SectorParam = None,
) -> Response:
    """What the plans lay out at a site for a sector, what is near, which clauses apply, which
    isotope production sites reach it, and what the answer rests on."""
    site = parse_site(point, polygon, crs)
    parse_sector(service.catalog.sectors, sector)  # a 400 naming the parameter and the closest labels
    index = index_of(service)
    body = site_report(index, site, sector)
    if f == "html":
        unit = body.district or body.city
        outline = index.outline(unit["adcode"]) if unit else None
        return render.html_response("invest_report.html", request, report=body, labels=labels(service),
                                    outline=mapping(outline) if outline is not None else None)
    return render.json_response(body)


@router.get("/rank", name="rank", summary="Candidate zones and parks for a sector, scored",
            responses=render.JSON_OR_HTML)
def rank(
    request: Request, service: ServiceDep, f: JsonOrHtml,
    sector: Annotated[str, Param(description="Sector label (as for /report)")],
    region: Annotated[str | None, Param(description="Only candidates in this adcode")] = None,
    weights: Annotated[str | None, Param(description="Override weights: name:value,… (see /rank docs)")] = None,
    limit: Annotated[int, Param(description=f"Candidates to return, 1–{MAX_RANK}")] = 50,
) -> Response:
    """Rank zones and parks for a sector; every score component, weight and point is shown."""
    if not 1 <= limit <= MAX_RANK:
        raise InvalidParameter(f"limit: {limit} is outside 1–{MAX_RANK}")
    parse_sector(service.catalog.sectors, sector)
    index = index_of(service)
    if region is not None and not any(u["adcode"] == region for u in index.unit_records):
        raise InvalidParameter(f"region: {region!r} is no adcode of the boundaries")
    try:
        body = ranking.rank(ranking.candidates(index, service.settings.data_dir), sector, region, weights, limit)
    except ranking.BadWeights as exc:
        raise InvalidParameter(str(exc)) from None
    if f == "html":
        return render.html_response("invest_rank.html", request, ranking=body)
    return render.json_response(body)


@router.get("/compare", name="compare", summary="Regions side by side for a sector",
            responses=render.JSON_OR_HTML)
def compare(
    request: Request, service: ServiceDep, f: JsonOrHtml,
    regions: Annotated[str, Param(description=f"Comma-separated adcodes (2–{ranking.MAX_REGIONS})",
                                  examples=["370600,510100"])],
    sector: SectorParam = None,
) -> Response:
    """Plans, zones for the sector, targets and applicable clauses (headline amounts) per region."""
    codes = list(dict.fromkeys(c.strip() for c in regions.split(",") if c.strip()))
    if not 1 <= len(codes) <= ranking.MAX_REGIONS:
        raise InvalidParameter(f"regions: give 1–{ranking.MAX_REGIONS} adcodes")
    parse_sector(service.catalog.sectors, sector)
    index = index_of(service)
    try:
        body = ranking.compare(ranking.candidates(index, service.settings.data_dir), codes, sector)
    except KeyError as exc:
        raise InvalidParameter(f"regions: {exc.args[0]!r} is no adcode of the boundaries") from None
    if f == "html":
        return render.html_response("invest_compare.html", request, regions=body)
    return render.json_response({"sector": sector, "regions": body})


def _isotope_record(index: SiteIndex, iso) -> dict:
    return {"nuclide": iso.nuclide, "code": iso.code, "name_zh": index.catalog.sectors.terms[iso.code].name_zh,
            "name_en": index.catalog.sectors.terms[iso.code].name_en,
            "half_life": vars(iso.half_life), "use_en": iso.use_en, "use_zh": iso.use_zh,
            "production": iso.production, "plans": list(iso.plans),
            "production_sites": reach.production_sites(index, iso)}


def _isotope(index: SiteIndex, nuclide: str):
    iso = index.isotopes.find(nuclide)
    if iso is None:
        raise NotFound(f"no isotope {nuclide!r}; see /isotopes")
    return iso


@router.get("/isotopes", name="isotopes", summary="The medical isotopes the plans name", responses=render.JSON_OR_HTML)
def isotopes(request: Request, service: ServiceDep, f: JsonOrHtml) -> Response:
    """Every isotope: half-life with its source, use, production route, the plans' production sites."""
    index = index_of(service)
    body = {"isotopes": [_isotope_record(index, i) for i in index.isotopes.isotopes.values()],
            "transport": vars(index.isotopes.transport)}
    if f == "html":
        return render.html_response("invest_isotopes.html", request, isotopes=body["isotopes"])
    return render.json_response(body)


@router.get("/isotopes/{nuclide}", name="isotope", summary="One isotope", responses=render.JSON_OR_HTML)
def isotope(request: Request, nuclide: str, service: ServiceDep, f: JsonOrHtml) -> Response:
    """One isotope (Lu-177, lu177, 177Lu or its sector code)."""
    index = index_of(service)
    body = _isotope_record(index, _isotope(index, nuclide))
    if f == "html":
        return render.html_response("invest_isotopes.html", request, isotopes=[body])
    return render.json_response(body)


@router.get("/isotopes/{nuclide}/reach", name="isotope-reach", summary="Where a shipment arrives in time",
            response_class=Response, responses={200: {"content": {render.GEOJSON: {}}}})
def isotope_reach(
    nuclide: str, service: ServiceDep,
    from_: Annotated[str | None, Param(alias="from", description="Feature id of the origin (default: "
                                       "every sited production site of the isotope)")] = None,
    min_fraction: Annotated[float, Param(description="Activity that must remain on arrival, 0–1 exclusive")] = 0.5,
    mode: Annotated[str, Param(description="road | air")] = "road",
) -> Response:
    """The area reachable while at least min_fraction of the activity remains, per origin, as
    GeoJSON polygons with the hospitals inside; the assumptions are stated in the answer."""
    index = index_of(service)
    iso = _isotope(index, nuclide)
    if not (math.isfinite(min_fraction) and 0 < min_fraction < 1):
        raise InvalidParameter(f"min_fraction: {min_fraction} is not between 0 and 1 (exclusive)")
    if mode not in MODES:
        raise InvalidParameter(f"mode: {mode!r} is not one of {', '.join(MODES)}")
    try:
        reaches = reach.isotope_reach(index, iso, from_, min_fraction, mode)
    except reach.UnknownSite as exc:
        raise InvalidParameter(str(exc)) from None
    features = [{
        "type": "Feature", "id": f"{iso.nuclide}:{r.site['id']}",
        "geometry": mapping(r.area) if r.area is not None else None,
        "properties": {
            "nuclide": iso.nuclide, "origin": r.site, "radius_m": round(r.budget.radius_m, 1),
            "decay_hours": round(r.budget.decay_hours, 3), "transport_hours": round(r.budget.transport_hours, 3),
            "capped_by_transport_limit": r.budget.capped, "hospitals": r.hospitals,
        },
    } for r in reaches]
    budget = reach_budget(iso, index.isotopes.transport, min_fraction, mode)
    body = {
        "type": "FeatureCollection", "features": features,
        "nuclide": iso.nuclide, "half_life": vars(iso.half_life), "mode": mode, "min_fraction": min_fraction,
        "method": ("remaining activity = 2^(-t/T½); t = handling time + travel time; "
                   + ("road: geodesic distance × detour factor at a constant speed (no road network offline)"
                      if mode == "road" else "air: geodesic distance at a block speed plus ground time")),
        "assumptions": budget.assumptions(index.isotopes.transport),
        "unsited_production": [s for s in reach.production_sites(index, iso) if not s["sited"]],
    }
    if not features:
        body["message"] = (f"the plans give no site for any production of {iso.nuclide}: no reach can be drawn; "
                           "give from=FEATURE_ID for another origin")
    return render.json_response(body, render.GEOJSON)
