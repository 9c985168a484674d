"""The formatting layer of the HTML pages: codes become names, values become readable HTML.

Every template formats through one `Formatter` (exposed to Jinja as filters, see html.py), fed
from the catalog (sector and kind vocabularies, boundaries, plans, feature names), the maps'
precision labels and data/pages.yaml. Both languages are written into the page
(`<span class="zh">` / `<span class="en">`); the page's 中文/EN switch shows one of them.
Nothing here prints a Python value as such: no `nan`, `None`, `['…']` or `{'…'}`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote, urlencode

import numpy as np
import pandas as pd
from markupsafe import Markup

from geoservice.catalog import BOUNDARIES_ID, INCENTIVES_ID, Catalog
from geoservice.maps.styles import Styles
from geoservice.yamlfile import read_yaml

EMPTY = Markup('<span class="empty">—</span>')

UrlFor = Callable[..., str]  # (route name, **path params) -> absolute URL


def present(value: Any) -> bool:
    """Tell whether a cell holds a value (not None, NaN, NaT or an empty list/text)."""
    if value is None or value is pd.NaT:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    if isinstance(value, (str, list, tuple, dict, np.ndarray)):
        return len(value) > 0
    return True


def number(value: float) -> str:
    """Format a number with thousands separators and no useless decimals."""
    value = float(value)
    if value.is_integer():
        return f"{value:,.0f}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def bi(zh: Any, en: Any) -> Markup:
    """Return a text in both languages; the page shows one (or both when scripts are off)."""
    if zh is None and en is None:
        return EMPTY
    zh, en = str(en if zh is None else zh), str(zh if en is None else en)
    if zh == en:
        return Markup("{}").format(zh)
    return Markup(
        '<span class="zh" lang="zh">{}</span><span class="en" lang="en">{}</span>'
    ).format(zh, en)


@dataclass(frozen=True)
class Names:
    """Everything that turns a code into a name, built once per application."""

    catalog: Catalog
    labels: Mapping[str, Mapping[str, str]]
    styles: Styles

    @classmethod
    def load(cls, catalog: Catalog, data_dir: Path) -> "Names":
        """Read the page labels and the map styles beside the catalog."""
        return cls(catalog, read_yaml(data_dir / "pages.yaml")["labels"], Styles.load(data_dir))

    @cached_property
    def features(self) -> dict[str, tuple[str, str, str]]:
        """Return feature id → (collection id, Chinese name, English name), plans and incentives."""
        out: dict[str, tuple[str, str, str]] = {}
        for collection in [*self.catalog.plan_collections(), self.catalog[INCENTIVES_ID]]:
            frame = collection.frame
            zh = frame["name_zh"] if "name_zh" in frame else frame["title_zh"]
            en = frame["name_en"] if "name_en" in frame else frame["title_en"]
            out.update(zip(frame["id"], zip([collection.id] * len(frame), zh, en)))
        return out

    @cached_property
    def boundary_names(self) -> dict[str, tuple[str, str]]:
        """Return adcode or functional-zone id → (Chinese, English) name."""
        frame = self.catalog.boundaries.frame
        out = dict(zip(frame["adcode"], zip(frame["name_zh"], frame["name_en"])))
        out.update({z.id: (z.name_zh, z.name_en) for z in self.catalog.boundaries.zones.values()})
        return out

    @cached_property
    def plan_districts(self) -> frozenset[str]:
        """Return every district or functional zone some plan feature lists."""
        return frozenset(
            d for c in self.catalog.plan_collections() for ds in c.frame["districts"] for d in ds
        )

    def plan_title(self, plan_id: str) -> tuple[str, str]:
        """Return a plan's (Chinese, English) title, or its id twice."""
        plan = self.catalog.plans.get(plan_id)
        return (plan.plan.title_zh, plan.plan.title_en) if plan else (plan_id, plan_id)


class Formatter:
    """Format values for one request's page (absolute links, as the request sees the service)."""

    def __init__(self, names: Names, url_for: UrlFor) -> None:
        """Bind the names to a way of making links."""
        self.names = names
        self.url_for = url_for

    # --- links ------------------------------------------------------------------------------
    def html_url(self, route: str, query: Mapping[str, Any] | None = None, **params: str) -> str:
        """Return the HTML view of a route, with optional query parameters."""
        return f"{self.url_for(route, **params)}?{urlencode({**(query or {}), 'f': 'html'})}"

    def feature_url(self, collection_id: str, feature_id: str) -> str:
        """Return the HTML page of one feature."""
        return self.html_url("item", collection_id=collection_id, feature_id=str(feature_id))

    # --- words ------------------------------------------------------------------------------
    def t(self, key: str) -> Markup:
        """Return one of the pages' own labels (data/pages.yaml), or the key itself."""
        text = self.names.labels.get(key)
        return bi(text["zh"], text["en"]) if text else Markup("{}").format(key)

    def placeholder(self, key: str) -> Markup:
        """Return the attributes of an input's placeholder in both languages (site.js picks one)."""
        text = self.names.labels.get(key) or {"zh": key, "en": key}
        return Markup('placeholder="{}" data-ph-zh="{}" data-ph-en="{}"').format(
            text["zh"], text["zh"], text["en"]
        )

    def name(self, row: Mapping[str, Any]) -> Markup:
        """Return a record's name: name_zh/name_en, title_zh/title_en, name, else its id."""
        for zh, en in (("name_zh", "name_en"), ("title_zh", "title_en")):
            if present(row.get(zh)) or present(row.get(en)):
                return bi(
                    row.get(zh) if present(row.get(zh)) else None,
                    row.get(en) if present(row.get(en)) else None,
                )
        for key in ("name", "NAME", "title", "id"):
            if present(row.get(key)):
                return Markup("{}").format(row[key])
        return EMPTY

    def sector(self, code: str) -> Markup:
        """Return a sector as a coloured chip with its name, linking to the sector's page."""
        term = self.names.catalog.sectors.terms.get(code)
        if term is None:
            return Markup("{}").format(code)
        colour = self.names.styles.sector_colour(code, self.names.catalog.sectors)
        return Markup('<a class="chip" style="--c:{}" href="{}" title="{}">{}</a>').format(
            colour, self.html_url("sector", label=code), code, bi(term.name_zh, term.name_en)
        )

    def sectors(self, codes: Iterable[str]) -> Markup:
        """Return sectors as a list of chips."""
        return self.listing([self.sector(c) for c in codes], "chips")

    def kind(self, code: str) -> Markup:
        """Return an element kind's name, with its map colour."""
        term = self.names.catalog.kinds.terms.get(code)
        if term is None:
            return Markup("{}").format(code)
        colour = self.names.styles.kind(code)["colour"]
        return Markup('<span class="kind" style="--c:{}" title="{}">{}</span>').format(
            colour, code, bi(term.name_zh, term.name_en)
        )

    def district(self, code: Any) -> Markup:
        """Return an adcode or functional zone by name; adcodes link to their boundary's page."""
        if not present(code):
            return EMPTY
        code = str(code)
        names = self.names.boundary_names.get(code)
        if names is None:
            return Markup("{}").format(code)
        if code in self.names.catalog.boundaries.zones:
            return Markup('<span title="{}">{}</span>').format(code, bi(*names))
        return Markup('<a href="{}" title="{}">{}</a>').format(
            self.feature_url(BOUNDARIES_ID, code), code, bi(*names)
        )

    def districts(self, codes: Iterable[str]) -> Markup:
        """Return host districts as a list of names."""
        return self.listing([self.district(c) for c in codes], "inline")

    def plan(self, plan_id: str) -> Markup:
        """Return a plan's title, linking to its collection page."""
        if plan_id not in self.names.catalog.plans:
            return Markup("{}").format(plan_id)
        return Markup('<a href="{}">{}</a>').format(
            self.html_url("collection", collection_id=plan_id), bi(*self.names.plan_title(plan_id))
        )

    def precision(self, code: str) -> Markup:
        """Return how a location was obtained, in words (labels of data/maps/styles.yaml)."""
        style = self.names.styles.precision.get(code)
        return bi(style["label_zh"], style["label_en"]) if style else Markup("{}").format(code)

    def feature(self, feature_id: str) -> Markup:
        """Return a link to a feature of any plan (or an incentive) by its name."""
        known = self.names.features.get(feature_id)
        if known is None:
            return Markup("{}").format(feature_id)
        collection_id, zh, en = known
        return Markup('<a href="{}" title="{}">{}</a>').format(
            self.feature_url(collection_id, feature_id), feature_id, bi(zh, en)
        )

    def features(self, ids: Iterable[str]) -> Markup:
        """Return links to features."""
        return self.listing([self.feature(i) for i in ids])

    def money(self, money: Mapping[str, Any] | None) -> Markup:
        """Return an amount or cap: value and unit, what it is counted per, a note."""
        if not present(money):
            return EMPTY
        parts = [
            Markup("{} {}").format(number(money["value"]), money.get("unit") or "")
            if present(money.get("value"))
            else EMPTY
        ]
        for key in ("per", "note"):
            if present(money.get(key)):
                parts.append(Markup('<span class="muted">{}</span>').format(money[key]))
        return Markup(" · ").join(parts)

    def distance(self, metres: Any) -> Markup:
        """Return a distance in km (m below 1 km)."""
        if not present(metres):
            return EMPTY
        return (
            Markup("{} km").format(number(round(metres / 1000, 1 if metres < 100_000 else 0)))
            if metres >= 1000
            else Markup("{} m").format(int(metres))
        )

    def targets(self, targets: Iterable[Any], plan_id: str | None = None) -> Markup:
        """Return numeric targets as a small table: metric, value and unit, year, and the clause
        when the targets carry their own citations (a plan's targets do)."""
        targets = [t.model_dump() if hasattr(t, "model_dump") else t for t in targets]
        if not targets:
            return EMPTY
        cited = any(present(t.get("source")) for t in targets)
        rows = []
        for t in targets:
            cells = [
                bi(t.get("metric_zh") or t.get("metric"), t.get("metric")),
                Markup("{} {}").format(number(t["value"]), t.get("unit") or "")
                if present(t.get("value"))
                else EMPTY,
                t["year"] if present(t.get("year")) else EMPTY,
            ]
            if cited:
                cells.append(self.clause(t.get("source"), plan_id))
            rows.append(
                Markup("<tr><td>{}</td><td class=num>{}</td><td>{}</td>{}</tr>").format(
                    *cells[:3], Markup("<td>{}</td>").format(cells[3]) if cited else ""
                )
            )
        keys = ["metric", "value", "year", *(["clause"] if cited else [])]
        head = Markup("").join(Markup("<th>{}</th>").format(self.t(k)) for k in keys)
        return Markup('<table class="small targets"><tr>{}</tr>{}</table>').format(
            head, Markup("").join(rows)
        )

    def clause(self, source: Mapping[str, Any] | None, plan_id: str | None = None) -> Markup:
        """Return a short citation: the clause, the quote on hover, a link to its context."""
        if not present(source):
            return EMPTY
        href = self.source_href(source, None, plan_id)
        text = Markup('<abbr title="{}">{}</abbr>').format(
            source.get("quote") or "", source.get("section") or ""
        )
        return Markup('<a href="{}">{}</a>').format(href, text) if href else text

    def source_href(
        self, source: Mapping[str, Any], record_id: str | None, plan_id: str | None
    ) -> str | None:
        """Return where a citation can be read in its context: the citation's own `href`, else the
        plan's source page anchored at the record."""
        root = self.url_for("landing").rstrip("/")
        if present(source.get("href")):  # service-relative (/plans/…): under this service's root
            href = str(source["href"])
            return root + href if href.startswith("/") else href
        if not plan_id:
            return None
        anchor = f"#cite-{quote(str(record_id))}" if record_id else ""
        return f"{root}/plans/{quote(plan_id)}/source{anchor}"

    def citation(
        self,
        source: Mapping[str, Any] | None,
        record_id: str | None = None,
        plan_id: str | None = None,
    ) -> Markup:
        """Return the citation block: document (number and title), clause, verbatim quote, link."""
        if not present(source):
            return EMPTY
        doc = " ".join(
            p
            for p in (
                source.get("doc"),
                f"《{source['title']}》" if present(source.get("title")) else "",
            )
            if present(p)
        )
        href = self.source_href(source, record_id, plan_id)
        link = (
            Markup('<a class="in-context" href="{}">{}</a>').format(href, self.t("read_in_context"))
            if href
            else ""
        )
        return Markup(
            '<figure class="citation"><figcaption><span class="doc">{}</span> '
            '<span class="clause">{}</span></figcaption>'
            '<blockquote lang="zh">{}</blockquote>{}</figure>'
        ).format(doc, source.get("section") or "", source.get("quote") or "", link)

    def code_of(self, vocabulary: str, label: str | None) -> str | None:
        """Return the code a form's label means (`放射性药物` → nuc.radiopharma), to select it."""
        codes = getattr(self.names.catalog, vocabulary).lookup(label) if label else ()
        return codes[0] if codes else label

    # --- choices of the filter forms: (value, Chinese, English) ---------------------------------
    def sector_options(self, codes: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
        """Return the sectors (those given and their broader ones, or all), in vocabulary order."""
        vocab = self.names.catalog.sectors
        keep = vocab.with_ancestors(codes) if codes is not None else vocab.terms.keys()
        return [
            (t.code, ("　" if t.parent else "") + t.name_zh, ("  " if t.parent else "") + t.name_en)
            for t in vocab.terms.values()
            if t.code in keep
        ]

    def kind_options(self, codes: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
        """Return the element kinds (those given, or all), in vocabulary order."""
        keep = set(codes) if codes is not None else None
        return [
            (t.code, t.name_zh, t.name_en)
            for t in self.names.catalog.kinds.terms.values()
            if keep is None or t.code in keep
        ]

    def district_options(self, codes: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
        """Return districts and functional zones by name (those given, or all that plans list)."""
        names = self.names.boundary_names
        codes = sorted(set(codes if codes is not None else self.names.plan_districts))
        return [(c, *names.get(c, (c, c))) for c in codes]

    def precision_options(self, codes: Iterable[str]) -> list[tuple[str, str, str]]:
        """Return location precisions in the order of the map legend."""
        keep = set(codes)
        return [
            (k, v["label_zh"], v["label_en"])
            for k, v in self.names.styles.precision.items()
            if k in keep
        ]

    def plan_options(self) -> list[tuple[str, str, str]]:
        """Return every plan by title."""
        return [(pid, *self.names.plan_title(pid)) for pid in self.names.catalog.plans]

    # --- any value ----------------------------------------------------------------------------
    def listing(self, items: list[Markup], css: str = "") -> Markup:
        """Return items as an HTML list (EMPTY for none)."""
        if not items:
            return EMPTY
        cls = Markup(' class="{}"').format(css) if css else ""
        return Markup("<ul{}>{}</ul>").format(
            cls, Markup("").join(Markup("<li>{}</li>").format(i) for i in items)
        )

    def inline(self, values: Iterable[Any]) -> Markup:
        """Return short values as one line, separated by 、."""
        return self.listing([self.value(v) for v in values], "inline")

    FIELDS: Mapping[str, str] = {
        "sectors": "sectors",
        "kind": "kind",
        "districts": "districts",
        "plan": "plan",
        "location_precision": "precision",
        "related": "features",
        "targets": "targets",
        "amount": "money",
        "cap": "money",
        "jurisdiction": "district",
        "parent_adcode": "district",
        "stages": "inline",
        "link_from": "feature",
        "link_to": "feature",
        "distance_m": "distance",
        "sector_basis": "sector_basis",
    }

    def sector_basis(self, basis: Mapping[str, Any]) -> Markup:
        """Return which sectors a feature inherits and from which zone (docs/data-model.md)."""
        return Markup(f"{self.sectors(basis.get('sectors') or [])} {self.t('inherited_from')} "
                      f"{self.feature(basis['inherited_from'])}")

    def field(self, row: Mapping[str, Any], key: str) -> Markup:
        """Return one property of a record, formatted by what it is (code, list, citation …)."""
        value = row.get(key)
        if key == "sectors" and "jurisdiction" in row and not present(value):
            return self.t("all_sectors_of_plan")  # an incentive's [] (docs/data-model.md)
        if not present(value):
            return EMPTY
        if key == "source" and isinstance(value, Mapping):
            return self.citation(value, row.get("id"), row.get("plan"))
        if key in ("level", "status"):
            return self.t(str(value))
        if key == "geometry_basis":
            return self.t(f"geometry_basis.{value}")
        method = self.FIELDS.get(key)
        if method is not None:
            return getattr(self, method)(value)
        return self.value(value)

    def value(self, value: Any) -> Markup:
        """Return any JSON-like value readably: lists as lists, objects as small tables."""
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, np.generic):
            value = value.item()
        if not present(value):
            return EMPTY
        if isinstance(value, bool):
            return self.t("yes" if value else "no")
        if isinstance(value, (int, float)):
            return Markup(number(value))
        if isinstance(value, Mapping):
            rows = [
                Markup("<tr><th>{}</th><td>{}</td></tr>").format(self.t(str(k)), self.value(v))
                for k, v in value.items()
                if present(v)
            ]
            return (
                Markup('<table class="small">{}</table>').format(Markup("").join(rows))
                if rows
                else EMPTY
            )
        if isinstance(value, (list, tuple)):
            if value and all(isinstance(v, Mapping) for v in value):
                return self.records(value)
            return self.listing([self.value(v) for v in value])
        if isinstance(value, pd.Timestamp):
            return Markup("{}").format(value.isoformat())
        return Markup("{}").format(value)

    def records(self, records: list[Mapping[str, Any]]) -> Markup:
        """Return a list of objects as a table, one column per key that any of them has."""
        keys = list(dict.fromkeys(k for r in records for k, v in r.items() if present(v)))
        head = Markup("").join(Markup("<th>{}</th>").format(self.t(k)) for k in keys)
        body = Markup("").join(
            Markup("<tr>{}</tr>").format(
                Markup("").join(Markup("<td>{}</td>").format(self.value(r.get(k))) for k in keys)
            )
            for r in records
        )
        return Markup('<table class="small"><tr>{}</tr>{}</table>').format(head, body)
