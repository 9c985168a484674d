"""The plan files of data/plans/: their schema, and parsing with located error messages."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from geoservice.problems import Problem
from geoservice.yamlfile import read_yaml

Precision = Literal[
    "admin_boundary", "surveyed", "approximate", "district_centroid", "schematic", "unsited",
    "official",  # a boundary from the authority's own GIS, imported into data/geometry/
]
POINT_PRECISIONS = ("surveyed", "approximate")
DISTRICT_PRECISIONS = ("admin_boundary", "district_centroid")
ID_PATTERN = r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"


class _Strict(BaseModel):
    """Forbid unknown keys, so a misspelt field is reported, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Source(_Strict):
    """The clause of the plan a record comes from."""

    section: str = Field(min_length=1)
    quote: str = Field(min_length=1)


class Target(_Strict):
    """A numeric goal: metric, value, unit, year."""

    metric: str = Field(min_length=1)
    metric_zh: str | None = None
    value: float
    unit: str
    year: int | None = None
    note: str | None = None
    source: Source | None = None


class Money(_Strict):
    """An amount of money with its unit and what it is counted per."""

    value: float | None = None
    unit: str = "万元"
    per: str | None = None
    note: str | None = None


class Condition(_Strict):
    """A fact a clause applies under: one of `any_of` (a choice fact) or at least `min` (a number,
    达到…以上; in `unit` when the clause writes it otherwise than the fact, e.g. 亿元 for 万元)."""

    fact: str
    any_of: list[str] = []
    min: float | None = None
    unit: str | None = None


class Step(_Strict):
    """One row of a table by value: from `min` on, `value` (in the clause's amount unit)."""

    min: float
    value: float


class Tiers(_Strict):
    """A table by value: the highest step the fact reaches gives the amount (晋级补差: a higher
    step replaces a lower one, never adds to it)."""

    fact: str
    unit: str | None = None
    steps: list[Step] = Field(min_length=1)


class Prorate(_Strict):
    """The base counts for at most `max` of a fact (e.g. the rent of at most 500 m² of a floor)."""

    fact: str
    max: float = Field(gt=0)


class SharedCap(Money):
    """A ceiling on the sum of several clauses (e.g. 3 年累计…最高不超过 1000 万元)."""

    clauses: list[str] = Field(min_length=2)


class Rule(_Strict):
    """How the estimate computes a clause's amount from a project's facts (docs/data-model.md)."""

    base: str | None = None
    prorate: Prorate | None = None
    when: list[Condition] = []
    tiers: Tiers | None = None
    at_most: bool = False
    shared_cap: SharedCap | None = None
    included_in: list[str] = []
    excludes: list[str] = []
    recipient: Literal["applicant", "park", "institution", "district"] = "applicant"


class Incentive(_Strict):
    """One support measure: what it pays, to whom, on which conditions."""

    id: str = Field(pattern=ID_PATTERN)
    title_zh: str
    title_en: str
    sectors: list[str] = []
    stages: list[str] = []
    amount: Money | None = None
    cap: Money | None = None
    award: bool = True  # False: the amount is no support to an applicant (e.g. a fund's total size)
    rule: Rule | None = None
    conditions_zh: str = ""
    conditions_en: str = ""
    source: Source


class Location(_Strict):
    """How a feature's position was obtained, and the position when it is a point."""

    precision: Precision
    source: str = ""
    point: tuple[float, float] | None = None
    crs: Literal["WGS84", "GCJ-02", "BD-09"] = "WGS84"


class Link(_Strict):
    """A directed link between two features (a chain link)."""

    from_: str = Field(alias="from")
    to: str


class SectorBasis(_Strict):
    """Sectors a feature takes from the zone its text places it in, not from its own quote."""

    inherited_from: str
    sectors: list[str] = Field(min_length=1)


class Feature(_Strict):
    """One spatial element of a plan."""

    id: str = Field(pattern=ID_PATTERN)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    kind: str
    role_zh: str | None = None
    sectors: list[str] = []
    districts: list[str] = []
    planned_area_km2: float | None = Field(default=None, ge=0)
    # The text's own word for that area when it is not the whole element's (核心区规划面积).
    planned_area_zh: str | None = None
    targets: list[Target] = []
    enterprises: list[str] = []
    institutions: list[str] = []
    related: list[str] = []
    sector_basis: SectorBasis | None = None
    # Why `kind` differs from the kind word of the name or quote (the validator asks for one).
    kind_note: str | None = None
    description_en: str = ""
    location: Location
    link: Link | None = None
    source: Source

    @field_validator("districts", mode="before")
    @classmethod
    def _codes_as_strings(cls, value: object) -> object:
        """Accept adcodes written as YAML numbers."""
        return [str(v) for v in value] if isinstance(value, list) else value


class PlanHeader(_Strict):
    """The plan document itself."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    doc_number: str = ""
    title_zh: str
    title_en: str
    issuer_zh: str
    issuer_en: str
    date: dt.date | None = None
    status: Literal["issued", "draft-for-comment", "superseded"] = "issued"
    supersedes: str | None = None  # id of the plan (e.g. the draft) this one replaces
    region: str
    layout_zh: str | None = None
    summary_en: str = ""

    @field_validator("region", mode="before")
    @classmethod
    def _region_as_string(cls, value: object) -> object:
        """Accept an adcode written as a YAML number."""
        return str(value)


class PlanFile(_Strict):
    """A whole data/plans/<id>.yaml file."""

    plan: PlanHeader
    targets: list[Target] = []
    incentives: list[Incentive] = []
    features: list[Feature] = []


_ARTEFACTS = str.maketrans({"ꎬ": "，", "ꎮ": "。", "ꎻ": "；", "ꎪ": "：", "ꎯ": "？", "ꎰ": "！"})
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def clean_text(text: str) -> str:
    """Normalise the PDF-extraction artefacts of the seeds: odd punctuation, full-width digits."""
    return text.translate(_ARTEFACTS).translate(_FULLWIDTH_DIGITS)


def _location(error_loc: tuple, doc: dict) -> tuple[str, str]:
    """Turn a pydantic error location into (feature id, field path)."""
    if len(error_loc) >= 2 and error_loc[0] in ("features", "incentives"):
        items = doc.get(error_loc[0]) or []
        index = error_loc[1]
        item = items[index] if isinstance(index, int) and index < len(items) else {}
        name = item.get("id") if isinstance(item, dict) else None
        label = name or f"{error_loc[0]}[{index}]"
        rest = error_loc[2:]
    else:
        label, rest = "", error_loc
    path = ""
    for part in rest:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return label, path


def parse_plan_file(path: Path, display: str) -> tuple[PlanFile | None, list[Problem]]:
    """Parse and schema-check one plan file; return it or the problems found."""
    try:
        doc = read_yaml(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        return None, [Problem(display, f"YAML syntax error: {where}{getattr(exc, 'problem', exc)}")]
    if not isinstance(doc, dict):
        return None, [Problem(display, "expected a mapping with plan, targets, incentives, features")]
    try:
        return PlanFile.model_validate(doc), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            feature, field = _location(err["loc"], doc)
            problems.append(Problem(display, _message(err), feature, field))
        return None, problems


def _message(err: dict) -> str:
    """Word a pydantic error for a planner."""
    if err["type"] == "extra_forbidden":
        return "unknown field (misspelt?)"
    if err["type"] == "missing":
        return "required field is missing"
    value = err.get("input")
    shown = f" (got {value!r})" if isinstance(value, (str, int, float)) else ""
    return re.sub(r"\s+", " ", err["msg"]) + shown
