"""Incentive estimate: POST a project profile, get what each applicable clause would pay (JSON), or
fill in the form page (HTML). A thin layer over geoservice.analysis.estimate."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi import Query as Param
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)
from starlette.responses import Response

from geoservice.analysis.estimate import Estimate, Profile, ProfileError, estimate_incentives
from geoservice.api import render
from geoservice.api.errors import InvalidParameter
from geoservice.api.params import ServiceDep
from geoservice.catalog import BOUNDARIES_ID, Catalog
from geoservice.facts import Fact, load_facts

router = APIRouter(tags=["Incentives"])
MAX_FACTS = 64
MAX_SECTORS = 16
MAX_FORM_BYTES = 16_384

STATUS_NAMES = {
    "estimated": ("已估算", "Estimated"),
    "ceiling_only": ("仅有上限", "Ceiling only"),
    "needs": ("缺少事实", "Needs facts"),
    "no_amount": ("无可计算金额", "No computable amount"),
    "not_an_award": ("非奖励", "Not an award"),
    "not_met": ("条件不符", "Conditions not met"),
}
RECIPIENT_NAMES = {"applicant": "申请人 applicant", "park": "园区 park",
                   "institution": "临床试验机构 institution", "district": "区市 district"}


class EstimateBody(BaseModel):
    """A project profile: the site (a point or an adcode), sectors, stage and facts."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    point: list[float] | None = Field(  # a list, not a tuple: OpenAPI 3.0 has no prefixItems
        None, min_length=2, max_length=2, description="Site as [lon, lat] in WGS84 (CRS84)",
        examples=[[121.60, 37.39]])
    adcode: str | None = Field(None, description="Site as the adcode of a district, city or province",
                               examples=["370612"])
    sector: str | list[str] | None = Field(
        None, description="Sector code, Chinese or English name or synonym (or a list); none: every sector",
        examples=["创新药"])
    stage: str | None = Field(None, description="A word matched against the clauses' stages, e.g. clinical",
                              examples=["clinical"])
    facts: dict[str, StrictFloat | StrictInt | StrictStr | list[StrictStr]] = Field(
        default_factory=dict, description="Facts by name (GET /incentives/estimate lists them with units)",
        examples=[{"product_class": "new-drug-class-1", "clinical_rd_cost": 10000}])

    def profile(self) -> Profile:
        """Check the body's limits and turn it into a profile."""
        if len(self.facts) > MAX_FACTS:
            raise InvalidParameter(f"facts: at most {MAX_FACTS}")
        if isinstance(self.sector, list) and len(self.sector) > MAX_SECTORS:
            raise InvalidParameter(f"sector: at most {MAX_SECTORS} labels")
        if self.point is not None:
            lon, lat = self.point
            if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
                raise InvalidParameter(f"point: {list(self.point)} is not a WGS84 lon, lat")
        sectors = [self.sector] if isinstance(self.sector, str) else list(self.sector or [])
        point = (self.point[0], self.point[1]) if self.point is not None else None
        return Profile(point, self.adcode, tuple(sectors), self.stage or None,
                       {k: tuple(v) if isinstance(v, list) else v for k, v in self.facts.items()})


@lru_cache(maxsize=8)
def facts_of(data_dir: Path) -> Mapping[str, Fact]:
    """The facts vocabulary of a data directory (read once)."""
    return load_facts(data_dir / "vocab")


def run(service, body: EstimateBody) -> Estimate:
    """Estimate, turning a profile the analysis refuses into a 400."""
    try:
        return estimate_incentives(service.catalog, facts_of(service.settings.data_dir), body.profile())
    except ProfileError as exc:
        raise InvalidParameter(str(exc)) from None


def estimate_json(estimate: Estimate) -> dict:
    """The JSON answer."""
    return {
        "places": [dataclasses.asdict(p) for p in estimate.places],
        "sectors": list(estimate.sectors),
        "total": {"value": estimate.total, "unit": estimate.unit,
                  "counts": [c.id for c in estimate.clauses if c.counted]},
        "clauses": [dataclasses.asdict(c) for c in estimate.clauses],
        "message": estimate.message,
        "note": "Amounts are estimates from each clause's rule (data/plans/, docs/data-model.md); every "
                "award is decided by the responsible department on the conditions listed. The total "
                "counts computed awards to the applicant only, never a clause included in another "
                "counted one, never a fund's size; ceilings (ceiling_only) are not added.",
    }


@router.post("/incentives/estimate", name="incentive_estimate",
             summary="Estimate the support a project would receive at a site")
def estimate(service: ServiceDep, body: EstimateBody) -> Response:
    """For each clause that applies at the site for the sectors and stage: the estimated amount in
    万元 (rate × base, capped; tier tables), what a person must still check, the facts still
    needed, and a total that counts nothing twice."""
    return render.json_response(estimate_json(run(service, body)))


@router.get("/incentives/estimate", name="incentive_estimate_form",
            summary="The facts a profile may give (JSON), or the estimate form (f=html)",
            responses=render.JSON_OR_HTML)
def facts_or_form(request: Request, service: ServiceDep,
                  f: Annotated[str | None, Param(description="json (default) or html")] = None) -> Response:
    """List the facts (names, units, choices) for clients; f=html: the form page."""
    facts = facts_of(service.settings.data_dir)
    if f == "html":
        return _page(request, service.catalog, facts, {}, None)
    if f not in (None, "json"):
        raise InvalidParameter(f"f: {f!r} is not json or html")
    return render.json_response({"facts": [
        {k: v for k, v in dataclasses.asdict(fact).items() if v not in (None, (), "", False)}
        for fact in facts.values()]})


@router.post("/incentives/estimate/form", name="incentive_estimate_page", include_in_schema=False)
async def form_post(request: Request, service: ServiceDep) -> Response:
    """The form page's submission (urlencoded): the result table under the filled form."""
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise InvalidParameter(f"form: larger than {MAX_FORM_BYTES} bytes")
    form = parse_qs(raw.decode("utf-8", "replace"))
    facts = facts_of(service.settings.data_dir)
    try:
        try:
            body = EstimateBody.model_validate(_body_from_form(form, facts))
        except ValidationError as exc:
            raise InvalidParameter("; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
        return _page(request, service.catalog, facts, form, run(service, body))
    except InvalidParameter as exc:  # a person filled the form: answer on the page, still a 400
        page = _page(request, service.catalog, facts, form, None, error=str(exc))
        page.status_code = 400
        return page


def _body_from_form(form: dict[str, list[str]], facts: Mapping[str, Fact]) -> dict:
    """Read the form fields: site, sector, stage and one field per fact (empty fields are absent)."""
    def one(name: str) -> str | None:
        value = (form.get(name) or [""])[0].strip()
        return value or None

    lon, lat = one("lon"), one("lat")
    body: dict = {"adcode": one("adcode"), "sector": one("sector"), "stage": one("stage"), "facts": {}}
    if lon or lat:
        try:
            body["point"], body["adcode"] = (float(lon or ""), float(lat or "")), None
        except ValueError:
            raise InvalidParameter(f"lon, lat: {lon!r}, {lat!r} are not two numbers") from None
    for name, fact in facts.items():
        values = [v for v in form.get(f"fact.{name}", []) if v.strip()]
        if not values:
            continue
        if fact.is_number:
            try:
                body["facts"][name] = float(values[0])
            except ValueError:
                raise InvalidParameter(
                    f"{fact.name_zh} ({fact.name_en}): {values[0]!r} is not a number") from None
        else:
            body["facts"][name] = values if fact.many else values[0]
    return body


def _page(request: Request, catalog: Catalog, facts: Mapping[str, Fact], form: dict,
          estimate: Estimate | None, error: str | None = None) -> Response:
    """Render the form, and the result table when there is one."""
    units = catalog[BOUNDARIES_ID].frame.sort_values("adcode")
    return render.html_response(
        "estimate.html", request, facts=list(facts.values()), form=form, estimate=estimate,
        fact_names={f.name: f"{f.name_zh} {f.name_en}" for f in facts.values()},
        units=list(units[["adcode", "name_zh", "name_en", "level"]].itertuples(index=False)),
        sectors=list(catalog.sectors.terms.values()), plans=catalog.plans, statuses=STATUS_NAMES,
        recipients=RECIPIENT_NAMES, error=error,
    )
