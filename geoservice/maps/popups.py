"""The bilingual popup of a feature: every field in Chinese and English, with its citation.

Both languages are written into the HTML (`<span class="zh">` / `<span class="en">`); the
page's language switch only shows or hides them, so switching needs no rebuild.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Any, Mapping

from geoservice.boundaries import Boundaries
from geoservice.maps.styles import Styles
from geoservice.vocab import Vocabulary


@dataclass(frozen=True)
class PopupContext:
    """What a popup needs besides the feature: labels, names and where the API lives."""

    styles: Styles
    sectors: Vocabulary
    kinds: Vocabulary
    boundaries: Boundaries
    plan_titles: Mapping[str, tuple[str, str]]
    api_base: str


def bi(zh: str, en: str) -> str:
    """Return a text in both languages (escaped), shown according to the page's language."""
    if zh == en:
        return escape(zh)
    return f'<span class="zh">{escape(zh)}</span><span class="en">{escape(en)}</span>'


def label(ctx: PopupContext, key: str) -> str:
    """Return one of the page's own labels in both languages."""
    text = ctx.styles.label(key)
    return bi(text["zh"], text["en"])


def _present(value: Any) -> bool:
    """Tell whether a cell holds a value (not None, NaN or empty)."""
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (hasattr(value, "__len__") and len(value) == 0)


def _number(value: float) -> str:
    """Format a number without a useless decimal part."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def _row(ctx: PopupContext, key: str, html: str) -> str:
    """Return one labelled row of the popup."""
    return f'<tr><th>{label(ctx, key)}</th><td>{html}</td></tr>'


def sector_chips(ctx: PopupContext, codes: list[str]) -> str:
    """Return the sectors as coloured chips with their names."""
    chips = []
    for code in codes:
        term = ctx.sectors.terms.get(code)
        zh, en = (term.name_zh, term.name_en) if term else (code, code)
        colour = ctx.styles.sector_colour(code, ctx.sectors)
        chips.append(f'<span class="chip" style="--c:{colour}">{bi(zh, en)}</span>')
    return " ".join(chips)


def district_names(ctx: PopupContext, codes: list[str]) -> str:
    """Return the host districts by name (functional zones by their own name)."""
    names = []
    frame = ctx.boundaries.frame
    for code in codes:
        if code in ctx.boundaries.zones:
            zone = ctx.boundaries.zones[code]
            names.append(bi(zone.name_zh, zone.name_en))
        elif code in frame.index:
            names.append(bi(str(frame.at[code, "name_zh"]), str(frame.at[code, "name_en"])))
        else:
            names.append(escape(code))
    return "、".join(names)


def targets_list(targets: list[dict]) -> str:
    """Return the feature's targets, one per line."""
    items = []
    for t in targets:
        year = f" ({t['year']})" if t.get("year") else ""
        value = f"{_number(t['value'])} {escape(str(t.get('unit') or ''))}" if t.get("value") is not None else ""
        metric = bi(str(t.get("metric_zh") or t.get("metric")), str(t.get("metric") or t.get("metric_zh")))
        items.append(f"<li>{metric}: {value}{year}</li>")
    return f"<ul>{''.join(items)}</ul>"


def citation(source: Mapping[str, Any], ctx: PopupContext | None = None) -> str:
    """Return the citation: document, title, section, the verbatim quote and a link to it in context."""
    doc = escape(str(source.get("doc") or ""))
    title = escape(str(source.get("title") or ""))
    section = escape(str(source.get("section") or ""))
    # the plan's title is in the popup's plan row: name it here only when it has no number
    head = " ".join(p for p in (doc or (f"《{title}》" if title else ""), section) if p)
    quote = f'<blockquote>{escape(str(source.get("quote") or ""))}</blockquote>'
    context = ""
    if ctx is not None and source.get("href"):
        href = f"{ctx.api_base}{source['href']}"
        context = f'<a class="in-context" href="{escape(href)}" target="_blank" rel="noopener">{label(ctx, "in_context")}</a>'
    return f'<div class="cite">{head}{quote}{context}</div>'


def popup_html(row: Mapping[str, Any], ctx: PopupContext) -> str:
    """Return the popup of one plan feature."""
    kind = ctx.kinds.terms.get(row["kind"])
    plan_zh, plan_en = ctx.plan_titles.get(row["plan"], (row["plan"], row["plan"]))
    precision = ctx.styles.precision.get(row["location_precision"], {})
    rows = [
        _row(ctx, "kind", bi(kind.name_zh, kind.name_en) if kind else escape(row["kind"])),
        _row(ctx, "plan", bi(plan_zh, plan_en)),
    ]
    if _present(row.get("role_zh")):
        rows.append(_row(ctx, "role", escape(str(row["role_zh"]))))
    if _present(row.get("sectors")):
        rows.append(_row(ctx, "sectors", sector_chips(ctx, list(row["sectors"]))))
    if _present(row.get("districts")):
        rows.append(_row(ctx, "districts", district_names(ctx, list(row["districts"]))))
    if _present(row.get("planned_area_km2")):
        rows.append(_row(ctx, "planned_area", f"{_number(row['planned_area_km2'])} km²"))
    if _present(row.get("targets")):
        rows.append(_row(ctx, "targets", targets_list(list(row["targets"]))))
    for key in ("enterprises", "institutions"):
        if _present(row.get(key)):
            rows.append(_row(ctx, key, escape("、".join(row[key]))))
    if _present(row.get("description_en")):
        rows.append(_row(ctx, "description", f'<span class="en-text">{escape(row["description_en"])}</span>'))
    where = bi(precision.get("label_zh", row["location_precision"]), precision.get("label_en", row["location_precision"]))
    rows.append(_row(ctx, "location", f'{where}<div class="src">{escape(str(row.get("location_source") or ""))}</div>'))
    rows.append(_row(ctx, "citation", citation(row.get("source") or {}, ctx)))
    href = f"{ctx.api_base}/collections/{row['plan']}/items/{row['id']}"
    return (
        f'<div class="atlas-popup" data-id="{escape(row["id"])}">'
        f'<h3>{bi(row["name_zh"], row["name_en"])}</h3>'
        f'<table>{"".join(rows)}</table>'
        f'<a class="geojson" href="{escape(href)}?f=json" target="_blank" rel="noopener">{label(ctx, "geojson_link")}</a>'
        "</div>"
    )
