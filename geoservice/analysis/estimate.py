"""Incentive estimate: a project profile → what each applicable clause would pay, what a person must
still check, which facts are missing, and a total that counts nothing twice.

Every number comes from the clause's `amount`, `cap` and `rule` in data/plans/ (docs/data-model.md,
"Incentive rules"); this module knows no clause by name.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from shapely.geometry import Point

from geoservice.analysis.incentives import applicable_incentives
from geoservice.catalog import BOUNDARIES_ID, Catalog
from geoservice.facts import Fact, convert, is_money, per_unit
from geoservice.plans import Condition, Incentive, Rule
from geoservice.vocab import normalise

UNIT = "万元"  # every estimated amount and the total are in 万元
LEVELS = {"province": 0, "city": 1, "district": 2}
FactValue = float | str | tuple[str, ...]


class ProfileError(ValueError):
    """A profile the estimate cannot use: unknown sector, fact, choice or place."""


@dataclass(frozen=True)
class Profile:
    """A project: where (a WGS84 lon/lat point or an adcode), which sectors (labels; none: any),
    which stage (a word matched against the clauses' stages; None: any) and its facts."""

    point: tuple[float, float] | None = None
    adcode: str | None = None
    sectors: tuple[str, ...] = ()
    stage: str | None = None
    facts: Mapping[str, FactValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Place:
    """An administrative unit that contains the site."""

    adcode: str
    level: str
    name_zh: str
    name_en: str


@dataclass
class ClauseEstimate:
    """One applicable clause and what it would pay.

    status: `estimated` (amount computed), `needs` (facts missing: `needs`), `ceiling_only` (the
    text gives only a ceiling: `cap`), `no_amount` (the text gives no amount the facts can compute),
    `not_met` (a given fact rules it out: `unmet`), `not_an_award` (e.g. a fund's total size)."""

    id: str
    plan: str
    title_zh: str
    title_en: str
    status: str
    amount: float | None = None
    uncapped: float | None = None
    cap: float | None = None
    capped: bool = False
    at_most: bool = False
    per: str | None = None
    needs: list[str] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)
    counted: bool = False
    not_counted: str | None = None
    not_counted_clause: str | None = None
    recipient: str = "applicant"
    all_sectors: bool = False
    conditions_zh: str = ""
    conditions_en: str = ""
    source: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Estimate:
    """The answer: the places containing the site, every applicable clause, the total in 万元."""

    places: tuple[Place, ...]
    sectors: tuple[str, ...]
    clauses: tuple[ClauseEstimate, ...]
    total: float
    unit: str = UNIT
    message: str | None = None


def estimate_incentives(catalog: Catalog, facts: Mapping[str, Fact], profile: Profile) -> Estimate:
    """Estimate the support a project would receive from every clause that applies at its site."""
    given = check_facts(facts, profile.facts)
    places = site_places(catalog, profile.point, profile.adcode)
    sectors = resolve_sectors(catalog, profile.sectors)
    frame = applicable_incentives(catalog, [p.adcode for p in places], sectors or None)
    frame = frame[frame["stages"].map(lambda stages: _stage_matches(stages, profile.stage)).astype(bool)]
    by_id = {inc.id: inc for plan in catalog.plans.values() for inc in plan.incentives}
    results = [
        _evaluate(by_id[cid], plan, source, match == "all_sectors", facts, given)
        for cid, plan, source, match in zip(
            frame["id"], frame["plan"], frame["source"], frame["sector_match"])
    ]
    rules = {r.id: by_id[r.id].rule or Rule() for r in results}
    _apply_shared_caps(results, rules)
    _count(results, rules)
    message = None if places else (
        "The site lies outside the regions the plans cover (Shandong and Sichuan): no clause applies.")
    return Estimate(tuple(places), tuple(sorted(sectors)), tuple(sorted(results, key=_order)),
                    round(sum(r.amount for r in results if r.counted), 4), message=message)


def site_places(catalog: Catalog, point: tuple[float, float] | None, adcode: str | None) -> list[Place]:
    """Return the province, city and district units containing a point, or an adcode and its parents."""
    frame = catalog[BOUNDARIES_ID].frame
    if (point is None) == (adcode is None):
        raise ProfileError("give the site as either a point or an adcode")
    columns = {c: frame[c].to_numpy() for c in ("adcode", "level", "name_zh", "name_en", "parent_adcode")}
    if point is not None:
        positions = list(frame.sindex.query(Point(point), predicate="intersects"))
    else:
        index = {code: i for i, code in enumerate(columns["adcode"])}
        if adcode not in index:
            raise ProfileError(f"adcode {adcode!r} is not one of the administrative units the service knows")
        positions = [index[adcode]]
        while (parent := columns["parent_adcode"][positions[-1]]) in index:
            positions.append(index[parent])
    places = [Place(*(str(columns[c][i]) for c in ("adcode", "level", "name_zh", "name_en")))
              for i in positions]
    return sorted(places, key=lambda p: LEVELS.get(p.level, len(LEVELS)))


def resolve_sectors(catalog: Catalog, labels: tuple[str, ...]) -> frozenset[str]:
    """Resolve sector labels (codes, Chinese or English names, synonyms) to codes."""
    codes: set[str] = set()
    for label in labels:
        found = catalog.sectors.resolve(label)
        if not found:
            known = [lbl for t in catalog.sectors.terms.values() for lbl in t.labels()]
            close = difflib.get_close_matches(label, known, n=5, cutoff=0.4)
            hint = f"; closest: {', '.join(close)}" if close else ""
            raise ProfileError(f"sector {label!r} is no sector code, name or synonym{hint}")
        codes |= found
    return frozenset(codes)


def check_facts(facts: Mapping[str, Fact], given: Mapping[str, FactValue]) -> dict[str, FactValue]:
    """Check a profile's facts against the vocabulary; return them with choices as tuples."""
    out: dict[str, FactValue] = {}
    for name, value in given.items():
        fact = facts.get(name)
        if fact is None:
            close = difflib.get_close_matches(name, list(facts), n=3)
            hint = f"; closest: {', '.join(close)}" if close else ""
            raise ProfileError(f"unknown fact {name!r}{hint}")
        if fact.is_number:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
                raise ProfileError(f"fact {name}: expected a number ≥ 0 in {fact.unit}, got {value!r}")
            out[name] = float(value)
            continue
        codes = tuple(value) if isinstance(value, (list, tuple)) else (value,)
        if len(codes) != 1 and not fact.many:
            raise ProfileError(f"fact {name}: takes one code, got {len(codes)}")
        unknown = [c for c in codes if not isinstance(c, str) or fact.choice(c) is None]
        if unknown:
            allowed = ", ".join(c.code for c in fact.choices)
            raise ProfileError(f"fact {name}: {unknown[0]!r} is not one of {allowed}")
        out[name] = codes
    return out


def _stage_matches(stages: list[str], stage: str | None) -> bool:
    """A clause fits a stage when it names no stage, 'all', or a stage containing the word."""
    if stage is None or not len(stages) or "all" in stages:
        return True
    word = normalise(stage)
    return any(word in normalise(s) for s in stages)


def _evaluate(inc: Incentive, plan: str, source: dict, all_sectors: bool, facts: Mapping[str, Fact],
              given: dict[str, FactValue]) -> ClauseEstimate:
    """Evaluate one clause against the facts."""
    rule = inc.rule or Rule()
    out = ClauseEstimate(
        id=inc.id, plan=plan, title_zh=inc.title_zh, title_en=inc.title_en, status="no_amount",
        at_most=rule.at_most, recipient=rule.recipient, all_sectors=all_sectors,
        conditions_zh=inc.conditions_zh, conditions_en=inc.conditions_en, source=dict(source),
        cap=convert(inc.cap.value, inc.cap.unit, UNIT) if inc.cap and inc.cap.value is not None
        and is_money(inc.cap.unit) else None,
        per=inc.cap.per if inc.cap else inc.amount.per if inc.amount else None,
    )
    if not inc.award:
        out.status = "not_an_award"
        return out
    for condition in rule.when:
        verdict = _test(condition, facts[condition.fact], given.get(condition.fact))
        if verdict is None:
            out.needs.append(condition.fact)
        elif verdict:
            out.unmet.append(verdict)
    numbers = [f for f in (rule.base, rule.prorate and rule.prorate.fact,
                           rule.tiers and rule.tiers.fact) if f]
    out.needs += [f for f in numbers if f not in given and f not in out.needs]
    if out.unmet:
        out.status, out.needs = "not_met", []
        return out
    if out.needs:
        out.status = "needs"
        return out
    value, unit = _stated_amount(inc, rule, facts, given, out)
    if out.unmet:
        out.status = "not_met"
        return out
    # without a rule nothing says which facts trigger the clause: never guess that it pays
    amount = _compute(value, unit, rule, facts, given) if value is not None and inc.rule else None
    if amount is None:
        out.status = "ceiling_only" if out.cap is not None else "no_amount"
        return out
    out.status, out.uncapped = "estimated", amount
    out.capped = out.cap is not None and amount > out.cap
    out.amount = min(amount, out.cap) if out.cap is not None else amount
    return out


def _test(condition: Condition, fact: Fact, value: FactValue | None) -> str | None:
    """Return None when the fact is missing, '' when the condition holds, else why it fails."""
    if value is None:
        return None
    if condition.any_of:
        if set(value) & set(condition.any_of):
            return ""
        needed = " or ".join(_choice_name(fact, c) for c in condition.any_of)
        given = ", ".join(_choice_name(fact, c) for c in value)
        return f"{_fact_name(fact)}: {given}; the clause needs {needed}"
    threshold = convert(condition.min, condition.unit or fact.unit, fact.unit)
    if value >= threshold:
        return ""
    return f"{_fact_name(fact)}: {value:g} {fact.unit} is below {threshold:g} {fact.unit}"


def _fact_name(fact: Fact) -> str:
    """Name a fact for a person."""
    return f"{fact.name_zh} ({fact.name_en})"


def _choice_name(fact: Fact, code: str) -> str:
    """Name a choice for a person."""
    choice = fact.choice(code)
    return f"{choice.name_zh} ({choice.name_en})" if choice else code


def _stated_amount(inc: Incentive, rule: Rule, facts: Mapping[str, Fact], given: dict[str, FactValue],
                   out: ClauseEstimate) -> tuple[float | None, str | None]:
    """Return the clause's amount (a sum, a rate or a sum per unit), from its tier table if it has one."""
    unit = inc.amount.unit if inc.amount else None
    if rule.tiers is None:
        return (inc.amount.value if inc.amount else None), unit
    fact = facts[rule.tiers.fact]
    value = given[rule.tiers.fact]
    reached = [s for s in rule.tiers.steps
               if value >= convert(s.min, rule.tiers.unit or fact.unit, fact.unit)]
    if not reached:
        lowest = rule.tiers.steps[0]
        out.unmet.append(f"{_fact_name(fact)}: {value:g} {fact.unit} is below the lowest step "
                         f"({lowest.min:g} {rule.tiers.unit or fact.unit})")
        return None, unit
    return max(reached, key=lambda s: s.min).value, unit


def _compute(value: float, unit: str, rule: Rule, facts: Mapping[str, Fact], given) -> float | None:
    """Turn a stated amount into 万元: a sum as is, a rate × its base, a sum per unit × the quantity."""
    if unit == "%" or per_unit(unit):
        if rule.base is None:
            return None  # a rate of something no fact records (e.g. a tax share): no amount
        base = given[rule.base]
        if rule.prorate is not None:
            quantity = given[rule.prorate.fact]
            base = base * min(quantity, rule.prorate.max) / quantity if quantity else 0.0
        if unit == "%":
            return value / 100 * convert(base, facts[rule.base].unit, UNIT)
        return convert(value, unit.partition("/")[0], UNIT) * base
    return convert(value, unit, UNIT) if is_money(unit) else None


def _apply_shared_caps(results: list[ClauseEstimate], rules: Mapping[str, Rule]) -> None:
    """Hold the sum of clauses sharing a ceiling (累计…不超过) to it, filling them in their order."""
    done: set[tuple[str, ...]] = set()
    by_id = {r.id: r for r in results}
    for rule in rules.values():
        shared = rule.shared_cap
        if shared is None or tuple(shared.clauses) in done:
            continue
        done.add(tuple(shared.clauses))
        remaining = convert(shared.value, shared.unit, UNIT)
        for cid in shared.clauses:
            r = by_id.get(cid)
            if r is None or r.status != "estimated":
                continue
            if r.amount > remaining:
                r.amount, r.capped = remaining, True
            remaining -= r.amount


def _count(results: list[ClauseEstimate], rules: Mapping[str, Rule]) -> None:
    """Decide which estimated amounts the total counts: awards to the applicant, none included in
    another counted clause, and of clauses that exclude each other only the highest (从优、就高)."""
    by_id = {r.id: r for r in results}
    for r in results:
        if r.status == "not_an_award":
            r.not_counted = "not an award (e.g. a fund's total size)"
        elif r.status == "estimated" and r.recipient != "applicant":
            r.not_counted = f"paid to the {r.recipient}, not to the project"
    memo: dict[str, bool] = {}

    def counted(cid: str) -> bool:
        if cid not in memo:
            r = by_id.get(cid)
            memo[cid] = False  # a cycle (refused by validate) ends here
            memo[cid] = bool(r and r.status == "estimated" and r.not_counted is None
                             and not any(counted(b) for b in rules[cid].included_in))
        return memo[cid]

    for r in results:
        if r.status == "estimated" and r.not_counted is None and not counted(r.id):
            host = next(by_id[b] for b in rules[r.id].included_in if counted(b))
            r.not_counted = f"included in {host.title_zh} ({host.title_en})"
            r.not_counted_clause = host.id
    exclusive = {(a, b) for a, rule in rules.items() for b in rule.excludes}
    exclusive |= {(b, a) for a, b in exclusive}
    kept: list[ClauseEstimate] = []
    for r in sorted((r for r in results if counted(r.id)), key=lambda r: -r.amount):
        rival = next((k for k in kept if (r.id, k.id) in exclusive), None)
        if rival is None:
            kept.append(r)
            r.counted = True
        else:
            r.not_counted = (f"not combinable with {rival.title_zh} ({rival.title_en}), which pays more "
                             "(从优、就高、不重复)")
            r.not_counted_clause = rival.id


_STATUS_ORDER = {s: i for i, s in enumerate(
    ("estimated", "ceiling_only", "needs", "no_amount", "not_an_award", "not_met"))}


def _order(r: ClauseEstimate) -> tuple:
    """Sort: counted first, then by status, then by amount."""
    return (not r.counted, _STATUS_ORDER[r.status], -(r.amount or r.cap or 0.0), r.id)

