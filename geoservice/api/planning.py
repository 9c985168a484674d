"""The planners' workbench: targets, the sector × place matrix, the sector map, consistency
findings and plan changes. Thin routes: each parses its parameters, calls an analysis of
geoservice.analysis and renders JSON, CSV (UTF-8 with BOM, for Excel) or HTML."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi import Query as Param
from starlette.responses import HTMLResponse, Response

from geoservice import tables
from geoservice.analysis.matrix import CELL_COLUMNS, ROW_KINDS, MatrixError, sector_matrix
from geoservice.analysis.targets import all_targets, filter_targets, load_families
from geoservice.api import charts, render
from geoservice.api.errors import InvalidParameter, NotFound
from geoservice.api.maps import AtlasDep, parse_basemap, parse_lang
from geoservice.api.params import ServiceDep, negotiate
from geoservice.geojson import plain

router = APIRouter(tags=["Planning"])

FormatParam = Annotated[str | None, Param(description="Output format: json, csv or html")]
TABLE_FORMATS = ("json", "csv", "html")
LEVEL_NAMES = {
    "province": "省级 province",
    "city": "市级 city",
    "district": "区县 district",
    "zone": "功能区 zone",
    "park": "园区及载体 park",
}
LEVEL_COLOURS = {
    "province": "#6f42c1",
    "city": "#1f77b4",
    "district": "#17a2b8",
    "zone": "#e8590c",
    "park": "#2b8a3e",
}


def records(frame: pd.DataFrame) -> list[dict]:
    """Return rows as JSON-ready dicts (missing values as null)."""
    frame = frame.astype(object).where(frame.notna(), None)
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def csv_download(rows: list[list[Any]], header: list[str], filename: str) -> Response:
    """Return a CSV that Excel opens with its Chinese intact: UTF-8 with a byte-order mark."""
    return Response(
        tables.to_csv(pd.DataFrame(rows, columns=header)),  # BOM, CRLF, formula cells neutralised
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )


def _list(value: str | None) -> list[str] | None:
    """Split a comma-separated parameter (None when it names nothing)."""
    return [v.strip() for v in value.split(",") if v.strip()] or None if value else None


def _families(service) -> tuple:
    """Return the metric families of the service's data."""
    return load_families(service.settings.data_dir)


def _item_href(request: Request, plan: str, feature: str) -> str:
    """Return the URL of a plan element (GeoJSON; add ?f=html for its page)."""
    return render.url_for(request, "item", collection_id=plan, feature_id=feature)


def _number(value: float) -> str:
    """Show a number as a planner writes it: no trailing .0."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")


@router.get(
    "/targets",
    name="targets",
    summary="Every target of every plan and plan element",
    response_class=Response,
    responses={200: {"content": {render.JSON: {}, render.CSV: {}, render.HTML: {}}}},
)
def targets(
    request: Request,
    service: ServiceDep,
    plan: Annotated[str | None, Param(description="Only this plan id")] = None,
    place: Annotated[
        str | None, Param(description="Adcode, zone id or a place name (zh/en)")
    ] = None,
    metric: Annotated[str | None, Param(description="Part of the metric name (zh/en)")] = None,
    year: Annotated[int | None, Param(description="Target year")] = None,
    f: FormatParam = None,
) -> Response:
    """Return the targets (metric zh/en, value, unit, year, level, plan, citation), filtered."""
    fmt = negotiate(request, f, TABLE_FORMATS)
    catalog = service.catalog
    if plan is not None and plan not in catalog.plans:
        raise InvalidParameter(f"plan: no plan {plan!r}; one of {', '.join(catalog.plans)}")
    families = _families(service)
    table = filter_targets(all_targets(catalog, families), catalog, plan, place, metric, year)
    if fmt == "csv":
        header = [
            "plan",
            "plan_title_zh",
            "level",
            "place_zh",
            "place_en",
            "metric_zh",
            "metric_en",
            "value",
            "unit",
            "year",
            "section",
            "quote",
            "doc",
        ]
        rows = [
            [
                r["plan"],
                r["plan_title_zh"],
                r["level"],
                r["place_zh"],
                r["place_en"],
                r["metric_zh"],
                r["metric_en"],
                r["value"],
                r["unit"],
                r["year"],
                r["citation"]["section"],
                r["citation"]["quote"],
                r["citation"]["doc"],
            ]
            for r in records(table)
        ]
        return csv_download(rows, header, "targets")
    if fmt == "html":
        return render.html_response(
            "targets.html",
            request,
            **_targets_page(request, catalog, table, families),
            filters={"plan": plan, "place": place, "metric": metric, "year": year},
        )
    body = {
        "numberMatched": len(table),
        "targets": [
            {**r, "href": _item_href(request, r["plan"], r["feature"]) if r["feature"] else None}
            for r in records(table.drop(columns=["plan_title_en"]))
        ],
        "links": render.self_links(request, render.JSON, TABLE_FORMATS),
    }
    return render.json_response(body)


def _targets_page(request: Request, catalog, table: pd.DataFrame, families) -> dict:
    """Prepare the targets page: its rows and one chart per metric family."""
    rows = records(table)
    for row in rows:
        row["value_text"] = _number(row["value"])
        row["level_zh"] = LEVEL_NAMES.get(row["level"], row["level"])
        if row["feature"]:
            row["href"] = _item_href(request, row["plan"], row["feature"]) + "?f=html"
    charts_out = []
    for family in families:
        part = [r for r in rows if r["family"] == family.code]
        if not part:
            continue
        part.sort(key=lambda r: -r["value"])
        bars = [
            charts.Bar(
                f"{r['place_zh']} · {r['metric_zh']}",
                float(r["value"]),
                f"{r['value_text']} {r['unit']}" + (f" ({r['year']})" if r["year"] else ""),
                LEVEL_COLOURS.get(r["level"], "#495057"),
                r.get("href", ""),
                f"{r['plan_title_zh']}：{r['place_zh']} {r['metric_zh']} "
                f"{r['value_text']} {r['unit']}",
            )
            for r in part
        ]
        charts_out.append(
            {
                "name_zh": family.name_zh,
                "name_en": family.name_en,
                "count": len(part),
                "svg": charts.bar_chart(bars, f"{family.name_zh} {family.name_en}"),
            }
        )
    plans = [{"id": pid, "title_zh": p.plan.title_zh} for pid, p in catalog.plans.items()]
    levels = [{"zh": LEVEL_NAMES[k], "colour": c} for k, c in LEVEL_COLOURS.items()]
    return {
        "rows": rows,
        "charts": charts_out,
        "plans": plans,
        "levels": levels,
        "csv_href": str(request.url.include_query_params(f="csv")),
        "json_href": str(request.url.include_query_params(f="json")),
    }


@router.get(
    "/matrix",
    name="matrix",
    summary="Sector × place matrix across the plans",
    response_class=Response,
    responses={200: {"content": {render.JSON: {}, render.CSV: {}, render.HTML: {}}}},
)
def matrix(
    request: Request,
    service: ServiceDep,
    rows: Annotated[str, Param(description="district | city | zone")] = "district",
    plans: Annotated[
        str | None, Param(description="Comma-separated plan ids (default: all)")
    ] = None,
    sectors: Annotated[
        str | None,
        Param(description="Comma-separated sector codes or names (default: all present)"),
    ] = None,
    f: FormatParam = None,
) -> Response:
    """For each place and sector: the plan elements there, per plan, with count and planned area."""
    fmt = negotiate(request, f, TABLE_FORMATS)
    try:
        result = sector_matrix(service.catalog, rows, _list(plans), _list(sectors))
    except MatrixError as exc:
        raise InvalidParameter(str(exc)) from None
    if fmt == "csv":
        header = list(CELL_COLUMNS)
        out = [
            [*(r[k] for k in header[:-2]), " ".join(r["elements"]), "、".join(r["names"])]
            for r in records(result.cells)
        ]
        return csv_download(out, header, f"matrix-{rows}")
    if fmt == "html":
        return render.html_response(
            "matrix.html",
            request,
            **_matrix_page(request, service, result),
            filters={"rows": rows, "plans": plans, "sectors": sectors},
        )
    body = {
        "rows": result.rows,
        "places": records(result.places),
        "sectors": [
            {"code": s.code, "name_zh": s.name_zh, "name_en": s.name_en, "covers": sorted(s.covers)}
            for s in result.sectors
        ],
        "cells": [
            {**r, "hrefs": [_item_href(request, r["plan"], e) for e in r["elements"]]}
            for r in records(result.cells)
        ],
        "links": render.self_links(request, render.JSON, TABLE_FORMATS),
    }
    return render.json_response(body)


def _matrix_page(request: Request, service, result) -> dict:
    """Prepare the heat table: one row per place, one column per sector present in the rows."""
    totals = result.totals()
    top = float(totals["count"].max()) if len(totals) else 0.0
    titles = {pid: p.plan.title_zh for pid, p in service.catalog.plans.items()}
    by_cell = {(r["place"], r["sector"]): r for r in records(totals)}
    per_plan: dict[tuple, list[dict]] = {}
    for r in records(result.cells):
        per_plan.setdefault((r["place"], r["sector"]), []).append(r)
    used = [s for s in result.sectors if any(key[1] == s.code for key in by_cell)]
    details = []
    table = []
    for place in records(result.places):
        cells = []
        for s in used:
            cell = by_cell.get((place["place"], s.code))
            if cell is None:
                cells.append(None)
                continue
            anchor = f"cell-{len(details)}"
            colour = charts.heat_colour(cell["count"], top)
            cells.append(
                {
                    "count": cell["count"],
                    "anchor": anchor,
                    "bg": colour,
                    "ink": charts.ink_for(colour),
                    "area": _number(cell["area_km2"]) if cell["area_km2"] is not None else "",
                }
            )
            details.append(
                {
                    "anchor": anchor,
                    "place_zh": place["place_zh"],
                    "place_en": place["place_en"],
                    "sector_zh": s.name_zh,
                    "sector_en": s.name_en,
                    "plans": [
                        {
                            "title_zh": titles[r["plan"]],
                            "count": r["count"],
                            "elements": [
                                {
                                    "name": n,
                                    "href": _item_href(request, r["plan"], e) + "?f=html",
                                }
                                for e, n in zip(r["elements"], r["names"])
                            ],
                        }
                        for r in per_plan[(place["place"], s.code)]
                    ],
                }
            )
        table.append({**place, "cells": cells})
    sector_links = [
        {
            "name_zh": s.name_zh,
            "name_en": s.name_en,
            "href": render.url_for(request, "sector-map", label=s.code),
        }
        for s in used
    ]
    return {
        "table": table,
        "sectors": sector_links,
        "details": details,
        "row_kinds": ROW_KINDS,
        "rows": result.rows,
        "plans": [{"id": k, "title_zh": v} for k, v in titles.items()],
        "csv_href": str(request.url.include_query_params(f="csv")),
        "json_href": str(request.url.include_query_params(f="json")),
    }


MAX_SECTOR_PAGES = 64


@router.get(
    "/maps/sector/{label}",
    name="sector-map",
    summary="One sector across districts (map)",
    response_class=HTMLResponse,
)
def sector_map(
    request: Request,
    label: str,
    service: ServiceDep,
    atlas: AtlasDep,
    basemap: Annotated[str, Depends(parse_basemap)],
    lang: Annotated[str, Depends(parse_lang)],
) -> Response:
    """Return a choropleth of how many plan elements of a sector (code, name or synonym) each
    district hosts, every plan together; scripts and styles from /maps/assets/."""
    from geoservice.maps.sector import sector_map_html

    codes = service.catalog.sectors.lookup(label)
    if not codes:
        raise NotFound(f"no sector code, name or synonym {label!r}; see /sectors")
    pages = getattr(request.app.state, "sector_pages", None)
    if pages is None:
        pages = request.app.state.sector_pages = {}
    key = (codes[0], basemap, lang)
    if key not in pages:
        result = sector_matrix(service.catalog, "district", None, [codes[0]])
        asset_base = request.scope.get("root_path", "") + "/maps/assets/"
        html = sector_map_html(atlas, result, basemap, asset_base, lang)
        if len(pages) < MAX_SECTOR_PAGES:
            pages[key] = html
        return HTMLResponse(html)
    return HTMLResponse(pages[key])


@router.get(
    "/consistency",
    name="consistency",
    summary="Where the plans disagree or may name the same thing",
    response_class=Response,
    responses=render.JSON_OR_HTML,
)
def consistency(
    request: Request,
    service: ServiceDep,
    kind: Annotated[
        str | None,
        Param(
            description="Comma-separated kinds: sector_role, link_candidate, "
            "target_mismatch, one_way_link (default: all)"
        ),
    ] = None,
    f: FormatParam = None,
) -> Response:
    """Return the cross-plan findings, each quoting both clauses."""
    from geoservice.analysis.consistency import KINDS, check_plans

    fmt = negotiate(request, f, ("json", "html"))
    kinds = tuple(sorted(set(_list(kind)))) if _list(kind) else None
    cache = getattr(request.app.state, "consistency", None)
    if cache is None:
        cache = request.app.state.consistency = {}  # the catalog never changes under an app
    if kinds not in cache:
        try:
            cache[kinds] = check_plans(service.catalog, service.settings.data_dir, kinds)
        except ValueError as exc:
            raise InvalidParameter(str(exc)) from None
    findings = cache[kinds]
    items = [
        {
            "kind": x.kind,
            "title_zh": x.title_zh,
            "title_en": x.title_en,
            "detail": x.detail,
            "detail_en": x.detail_en,
            "a": asdict(x.a),
            "b": asdict(x.b),
            "facts": x.facts,
        }
        for x in findings
    ]
    if fmt == "html":
        for item in items:
            for side in ("a", "b"):
                clause = item[side]
                if clause["feature"]:
                    clause["feature_href"] = (
                        _item_href(request, clause["plan"], clause["feature"]) + "?f=html"
                    )
        groups = [
            {"kind": k, "zh": zh, "en": en, "findings": [i for i in items if i["kind"] == k]}
            for k, (zh, en) in KINDS.items()
            if kinds is None or k in kinds
        ]
        return render.html_response(
            "consistency.html",
            request,
            groups=groups,
            total=len(items),
            json_href=str(request.url.include_query_params(f="json")),
        )
    counts = {k: sum(i["kind"] == k for i in items) for k in KINDS}
    return render.json_response(
        {
            "numberMatched": len(items),
            "counts": counts,
            "findings": items,
            "links": render.self_links(request, render.JSON),
        }
    )


def _shown_value(catalog):
    """Return how the changes page shows a field's value: vocabulary codes as their Chinese
    names, lists joined, nothing as a dash."""
    names = {
        code: t.name_zh
        for vocab in (catalog.sectors, catalog.kinds)
        for code, t in vocab.terms.items()
    }

    def show(value) -> str:
        if value is None or value == [] or value == "":
            return "—"
        if isinstance(value, list):
            return "、".join(show(v) for v in value)
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return names.get(value, str(value)) if isinstance(value, str) else str(value)

    return show


@router.get(
    "/plans/{plan_id}/changes",
    name="plan-changes",
    summary="What a plan changed from the plan it supersedes",
    response_class=Response,
    responses=render.JSON_OR_HTML,
)
def plan_changes(
    request: Request, plan_id: str, service: ServiceDep, f: FormatParam = None
) -> Response:
    """List the elements, targets and incentives added, removed and changed (field by field)
    from the plan this one `supersedes` (e.g. its draft for comment)."""
    from geoservice.analysis.revisions import RevisionError, superseded_changes

    fmt = negotiate(request, f, ("json", "html"))
    plans = service.catalog.plans
    if plan_id not in plans:
        raise NotFound(f"no plan {plan_id!r}; see /plans")
    try:
        changes = superseded_changes(dict(plans), plan_id)
    except RevisionError as exc:
        raise NotFound(str(exc)) from None
    body = {**changes.as_dict(), "links": render.self_links(request, render.JSON)}
    if fmt == "html":
        titles = {k: p.plan.title_zh for k, p in plans.items()}
        return render.html_response(
            "changes.html",
            request,
            body=body,
            titles=titles,
            show=_shown_value(service.catalog),
        )
    return render.json_response(body)
