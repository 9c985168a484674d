"""Every numeric target of every plan and plan element, in one table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geoservice.catalog import Catalog
from geoservice.layers import citation
from geoservice.yamlfile import read_yaml

# The columns of the targets table, in order.
TARGET_COLUMNS = (
    "plan",
    "plan_title_zh",
    "plan_title_en",
    "level",
    "feature",
    "place_zh",
    "place_en",
    "places",
    "metric_zh",
    "metric_en",
    "value",
    "unit",
    "year",
    "family",
    "note",
    "citation",
)
# Element kinds whose targets are set for a zone (an area of several parks or districts).
ZONE_KINDS = frozenset({"zone", "belt", "pole"})


@dataclass(frozen=True)
class MetricFamily:
    """Metrics whose units can share a chart axis."""

    code: str
    name_zh: str
    name_en: str
    units: tuple[str, ...]


def load_families(data_dir: Path) -> tuple[MetricFamily, ...]:
    """Read data/vocab/metric_families.yaml (the last family takes every unit not listed)."""
    doc = read_yaml(data_dir / "vocab" / "metric_families.yaml")
    return tuple(
        MetricFamily(f["code"], f["name_zh"], f["name_en"], tuple(f.get("units") or ()))
        for f in doc["families"]
    )


def _family_of(unit: str, families: tuple[MetricFamily, ...]) -> str:
    """Return the code of the family a unit belongs to."""
    return next((f.code for f in families if unit in f.units), families[-1].code)


def all_targets(catalog: Catalog, families: tuple[MetricFamily, ...]) -> pd.DataFrame:
    """Return one row per target: plan-wide ones (level: the plan region's province or city) and
    those of plan elements (level zone for zones, belts and poles; park for sited elements;
    the region's level for a region feature). `places` lists the adcodes or zone ids the target's
    place covers; `citation` is the target's own clause, else its element's."""
    levels = catalog.boundaries.frame["level"]
    rows = []
    for pid, plan in catalog.plans.items():
        header, region = plan.plan, plan.plan.region
        for i, t in enumerate(plan.targets, 1):
            cited = (
                citation(plan, t.source, f"{pid}.target-{i}")
                if t.source
                else _plan_citation(header)
            )
            rows.append(
                _row(
                    plan,
                    t.model_dump(),
                    levels.get(region, "city"),
                    None,
                    catalog.boundaries.name_zh(region),
                    _name_en(catalog, region),
                    [region],
                    cited,
                )
            )
    for collection in catalog.plan_collections():
        plan = catalog.plans[collection.plan]
        frame = collection.frame[collection.frame["targets"].map(len) > 0]
        for f in frame.itertuples():
            if f.kind == "region":
                level = levels.get(f.districts[0], "city") if f.districts else "city"
            else:
                level = "zone" if f.kind in ZONE_KINDS else "park"
            for i, t in enumerate(f.targets, 1):
                cited = (
                    citation(plan, _Source(**t["source"]), f"{f.id}.target-{i}")
                    if t.get("source")
                    else f.source
                )
                rows.append(
                    _row(plan, t, level, f.id, f.name_zh, f.name_en, list(f.districts), cited)
                )
    table = pd.DataFrame(rows, columns=list(TARGET_COLUMNS))
    table["family"] = table["unit"].map(lambda u: _family_of(u, families))
    table["year"] = table["year"].astype("Int64")
    table["feature"] = table["feature"].astype(object).where(table["feature"].notna(), None)
    return table


@dataclass(frozen=True)
class _Source:
    """A clause given as a plain mapping (targets inside a frame are dicts)."""

    section: str
    quote: str


def _row(
    plan,
    t: dict,
    level: str,
    feature: str | None,
    place_zh: str,
    place_en: str,
    places: list[str],
    cited: dict,
) -> dict:
    """Make one row of the targets table."""
    return {
        "plan": plan.plan.id,
        "plan_title_zh": plan.plan.title_zh,
        "plan_title_en": plan.plan.title_en,
        "level": level,
        "feature": feature,
        "place_zh": place_zh,
        "place_en": place_en,
        "places": places,
        "metric_zh": t.get("metric_zh") or t["metric"],
        "metric_en": t["metric"],
        "value": t["value"],
        "unit": t["unit"],
        "year": t.get("year"),
        "family": "",
        "note": t.get("note") or "",
        "citation": cited,
    }


def _plan_citation(header) -> dict:
    """Cite the plan document as a whole (a plan-wide target recorded without its clause)."""
    return {
        "doc": header.doc_number,
        "title": header.title_zh,
        "section": "",
        "quote": "",
        "href": f"/plans/{header.id}/source",
    }


def _name_en(catalog: Catalog, code: str) -> str:
    """Return the English name of an adcode or functional zone."""
    zones = catalog.boundaries.zones
    return (
        zones[code].name_en if code in zones else str(catalog.boundaries.frame.at[code, "name_en"])
    )


def filter_targets(
    table: pd.DataFrame,
    catalog: Catalog,
    plan: str | None = None,
    place: str | None = None,
    metric: str | None = None,
    year: int | None = None,
) -> pd.DataFrame:
    """Keep the targets of one plan, place, metric and year (each optional).

    place: an adcode or zone id (a target matches when its place covers it, its host districts
    included), or a Chinese/English name fragment of the place. metric: a fragment of the
    Chinese or English metric name, any case."""
    keep = pd.Series(True, index=table.index)
    if plan is not None:
        keep &= table["plan"] == plan
    if place is not None:
        keep &= _place_matches(table, catalog, place)
    if metric is not None:
        needle = metric.casefold()
        keep &= table["metric_zh"].str.casefold().str.contains(needle, regex=False) | table[
            "metric_en"
        ].str.casefold().str.contains(needle, regex=False)
    if year is not None:
        keep &= table["year"] == year
    return table[keep.fillna(False)]


def _place_matches(table: pd.DataFrame, catalog: Catalog, place: str) -> pd.Series:
    """Tell which targets concern a place given as a code or a name fragment."""
    bounds = catalog.boundaries
    if bounds.knows(place):
        wanted = {place, *bounds.hosts((place,))[0]}
        return table["places"].map(
            lambda codes: bool(wanted & {*codes, *bounds.hosts(tuple(codes))[0]})
        )
    needle = place.casefold()
    named = bounds.frame[
        bounds.frame["name_zh"].str.contains(place, regex=False)
        | bounds.frame["name_en"].str.casefold().str.contains(needle, regex=False)
    ]
    in_named = pd.Series(False, index=table.index)
    for code in named["adcode"]:
        in_named |= _place_matches(table, catalog, code)
    return (
        in_named
        | table["place_zh"].str.contains(place, regex=False)
        | table["place_en"].str.casefold().str.contains(needle, regex=False)
    )
