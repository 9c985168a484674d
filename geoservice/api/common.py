"""OGC API – Common: landing page, conformance, the API definition, health."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from geoservice.api import render
from geoservice.api.params import JsonOrHtml, ServiceDep

router = APIRouter(tags=["Capabilities"])

CONFORMS_TO = (
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
)


@router.get("/", name="landing", summary="Landing page",
            response_class=Response, responses=render.JSON_OR_HTML)
def landing(request: Request, service: ServiceDep, f: JsonOrHtml) -> Response:
    """Describe the service and link to everything it offers."""
    def url(name: str) -> str:
        return render.url_for(request, name)

    links = [
        *render.self_links(request, render.JSON),
        render.link(url("openapi"), "service-desc", render.OPENAPI, "The API definition (OpenAPI 3.0)"),
        render.link(url("swagger"), "service-doc", render.HTML, "The API documentation"),
        render.link(url("conformance"), "conformance", render.JSON, "Conformance classes"),
        render.link(url("collections"), "data", render.JSON, "The feature collections"),
        render.link(url("plans"), "describedby", render.JSON, "The plan documents and their texts"),
        render.link(url("sectors"), "http://www.opengis.net/def/rel/ogc/1.0/data-meta", render.JSON, "Sector vocabulary"),
        render.link(url("incentive_estimate_form") + "?f=html", "service", render.HTML,
                    "Incentive estimate: what each applicable clause would pay a project"),
    ]
    links += service.settings.extras.get("landing_links", [])
    body = {
        "title": "geoservice — industrial plans of Yantai, Shandong and Sichuan",
        "description": "Cited layers of five Chinese industrial plans (parks, zones, belts, poles, "
                       "firms, incentives) on real WGS84 boundaries, via OGC API – Features.",
        "links": links,
    }
    if f == "html":
        return render.html_response("landing.html", request, body=body,
                                    collections=list(service.catalog.collections.values()))
    return render.json_response(body)


@router.get("/conformance", name="conformance", summary="Conformance classes",
            response_class=Response, responses=render.JSON_OR_HTML)
def conformance(request: Request, service: ServiceDep, f: JsonOrHtml) -> Response:
    """List the conformance classes the service implements."""
    classes = sorted(request.app.state.conforms_to)
    if f == "html":
        return render.html_response("conformance.html", request, classes=classes)
    return render.json_response({"conformsTo": classes})


@router.get("/healthz", name="healthz", summary="Liveness", include_in_schema=False)
def healthz(service: ServiceDep) -> Response:
    """Answer that the service runs and how many collections it serves."""
    return render.json_response({"status": "ok", "collections": len(service.catalog.collections)})
