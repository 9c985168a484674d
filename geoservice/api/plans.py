"""The plans as documents: their metadata and their published text with every cited passage marked."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi import Query as Param
from starlette.responses import PlainTextResponse, Response

from geoservice.api import render
from geoservice.api.errors import NotFound
from geoservice.api.params import JsonOrHtml, ServiceDep, negotiate
from geoservice.catalog import INCENTIVES_ID, Catalog
from geoservice.plans import PlanFile
from geoservice.sources import Cited, anchor, citations, passages

router = APIRouter(tags=["Plans"])


def _plan(catalog: Catalog, plan_id: str) -> PlanFile:
    """Return the plan named in the path, or 404."""
    if plan_id not in catalog.plans:
        raise NotFound(f"no plan {plan_id!r}; see /plans")
    return catalog.plans[plan_id]


def _summary(request: Request, catalog: Catalog, plan: PlanFile) -> dict:
    """Describe one plan with links to its layer, its text and its map."""
    h = plan.plan
    source = render.url_for(request, "plan-source", plan_id=h.id)
    links = [
        render.link(render.url_for(request, "plan", plan_id=h.id), "self", render.JSON, h.title_en),
        render.link(render.url_for(request, "collection", collection_id=h.id), "data", render.JSON, "The plan's layer"),
        render.link(f"{source}?f=html", "describedby", render.HTML, "The plan's text, cited passages marked"),
        render.link(f"{source}?f=txt", "describedby", "text/plain", "The plan's text as published"),
        render.link(f"{render.url_for(request, 'maps')}/{h.id}", "alternate", render.HTML, "The plan's map"),
    ]
    return {
        "id": h.id, "title_zh": h.title_zh, "title_en": h.title_en, "doc_number": h.doc_number or None,
        "issuer_zh": h.issuer_zh, "issuer_en": h.issuer_en, "date": h.date.isoformat() if h.date else None,
        "status": h.status, "region": h.region, "region_name_zh": catalog.boundaries.name_zh(h.region),
        "layout_zh": h.layout_zh, "summary_en": h.summary_en, "features": len(plan.features),
        "targets": len(plan.targets), "incentives": len(plan.incentives),
        "published_zh": (catalog.texts[h.id].meta.get("published_zh") if h.id in catalog.texts else None),
        "published_en": (catalog.texts[h.id].meta.get("published_en") if h.id in catalog.texts else None),
        "links": links,
    }


@router.get("/plans", name="plans", summary="The plans: documents, issuers, dates, status",
            response_class=Response, responses=render.JSON_OR_HTML)
def plans(request: Request, service: ServiceDep, f: JsonOrHtml) -> Response:
    """List every plan with links to its layer, its text and its map."""
    catalog = service.catalog
    body = {"plans": [_summary(request, catalog, p) for p in catalog.plans.values()],
            "links": render.self_links(request, render.JSON)}
    if f == "html":
        return render.html_response("plans.html", request, body=body)
    return render.json_response(body)


@router.get("/plans/{plan_id}", name="plan", summary="One plan document",
            response_class=Response, responses=render.JSON_OR_HTML)
def plan(request: Request, plan_id: str, service: ServiceDep, f: JsonOrHtml) -> Response:
    """Describe one plan document."""
    body = _summary(request, service.catalog, _plan(service.catalog, plan_id))
    if f == "html":
        return render.html_response("plans.html", request, body={"plans": [body], "links": []})
    return render.json_response(body)


def _record_href(request: Request, cited: Cited) -> str | None:
    """Return the HTML page of the record a citation belongs to (targets have none of their own)."""
    if cited.kind == "feature":
        return render.url_for(request, "item", collection_id=cited.plan_id, feature_id=cited.record_id) + "?f=html"
    if cited.kind == "incentive":
        return render.url_for(request, "item", collection_id=INCENTIVES_ID, feature_id=cited.record_id) + "?f=html"
    return None


SourceFormat = Annotated[Literal["html", "json", "txt"] | None,
                         Param(description="html (the text with cited passages marked), json or txt")]


@router.get("/plans/{plan_id}/source", name="plan-source", summary="A plan's text, every cited passage marked",
            response_class=Response,
            responses={200: {"content": {render.HTML: {}, render.JSON: {}, "text/plain": {}}}})
def plan_source(request: Request, plan_id: str, service: ServiceDep, f: SourceFormat = None) -> Response:
    """Return the plan's published text; in HTML each cited passage is highlighted and anchored
    (#cite-{record id}) so every citation in the service can link to its context."""
    catalog = service.catalog
    plan = _plan(catalog, plan_id)
    text = catalog.texts.get(plan_id)
    if text is None:
        raise NotFound(f"plan {plan_id!r} has no text in data/sources")
    fmt = negotiate(request, f, ("json", "html", "txt"))
    cited = [c for c in citations(catalog.plans) if c.plan_id == plan_id]
    runs, lost = passages(text, cited)
    if fmt == "txt":
        return PlainTextResponse(text.text)
    names = _record_names(catalog, plan)
    records = [{"id": c.record_id, "kind": c.kind, "section": c.section, "quote": c.quote,
                "name_zh": names.get(c.record_id, ""), "anchor": anchor(c.record_id),
                "href": _record_href(request, c)} for c in cited if c not in lost]
    if fmt == "json":
        return render.json_response({"plan": plan_id, "meta": {k: str(v) if v is not None else None
                                                               for k, v in text.meta.items()},
                                     "text": text.text, "citations": records})
    return render.html_response("source.html", request, plan=_summary(request, catalog, plan),
                                meta=text.meta, passages=runs, records=records, names=names)


def _record_names(catalog: Catalog, plan: PlanFile) -> dict[str, str]:
    """Return a display name per citing record of a plan."""
    names = {f.id: f.name_zh for f in plan.features}
    names |= {f"{f.id}.target-{i + 1}": f"{f.name_zh} · {t.metric_zh or t.metric}"
              for f in plan.features for i, t in enumerate(f.targets)}
    names |= {i.id: i.title_zh for i in plan.incentives}
    names |= {f"{plan.plan.id}.target-{i + 1}": t.metric_zh or t.metric for i, t in enumerate(plan.targets)}
    return names
