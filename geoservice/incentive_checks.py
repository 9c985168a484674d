"""Checks that keep each incentive's structured fields tied to its text, and its rule computable:

- every number in `amount`, `cap` and `rule` appears in the clause's quote (full-width digits and
  万/亿 normalised: 10 亿元 = 100000 万元);
- a number the quote gives after 最高 is a ceiling, never the `amount` (最高 is always a `cap`);
- a number the quote gives as a 规模 (a fund's size) is marked `award: false`;
- rules name known facts in consistent units, and point at clauses that exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from geoservice.catalog import Catalog
from geoservice.facts import Fact, convertible, is_money, load_facts, per_unit
from geoservice.plans import Incentive, Money
from geoservice.problems import Problem
from geoservice.sources import fold

NUMBER = r"(\d+(?:\.\d+)?)\s*([万亿]?)"
SCALE = {"": 1.0, "万": 1e4, "亿": 1e8}
# Words the clauses use for a whole share: 全额给予奖励, 全部返还 (encoded as 100 %).
WHOLE_SHARE = ("全额", "全部")


def check_incentives(catalog: Catalog, data_dir: Path) -> list[Problem]:
    """Run every incentive check over the catalog's plans."""
    facts = load_facts(data_dir / "vocab")
    ids = {inc.id for plan in catalog.plans.values() for inc in plan.incentives}
    problems = []
    for plan_id, plan in catalog.plans.items():
        for inc in plan.incentives:
            problems += [Problem(f"data/plans/{plan_id}.yaml", message, inc.id, field)
                         for field, message in _problems(inc, facts, ids)]
    return problems


def _problems(inc: Incentive, facts: Mapping[str, Fact], ids: set[str]) -> Iterator[tuple[str, str]]:
    """Yield (field, message) for one clause."""
    yield from _numbers_not_quoted(inc, facts)
    yield from _ceiling_as_amount(inc)
    yield from _fund_size_as_award(inc)
    yield from _rule_problems(inc, facts, ids)


def _scale(unit: str | None) -> float:
    """Return how many units of one a value in `unit` is: 万元 → 10⁴, 亿元 → 10⁸, % → 1."""
    return SCALE.get((unit or "")[:1], 1.0)


def _key(value: float) -> float:
    """Round a magnitude for comparison."""
    return round(value, 6)


def quote_numbers(quote: str) -> set[float]:
    """Every magnitude the quote writes: 3000 万元 → 3e7, 1 亿元 → 1e8, 40% → 40."""
    text = fold(quote)
    found = {_key(float(n) * SCALE[suffix]) for n, suffix in re.findall(NUMBER, text)}
    return found | ({100.0} if any(w in text for w in WHOLE_SHARE) else set())


def _after(word: str, quote: str) -> set[float]:
    """The magnitudes the quote gives right after a word (最高 3000 万元; 最高分别为 1000、2000 万元)."""
    found: set[float] = set()
    for match in re.finditer(word + r"[^\d，。；,;]{0,8}((?:\d[\d.]*\s*[万亿]?元?\s*、\s*)*\d[\d.]*\s*[万亿]?)",
                             fold(quote)):
        found |= {_key(float(n) * SCALE[s]) for n, s in re.findall(NUMBER, match.group(1))}
    return found


def structured_numbers(inc: Incentive, facts: Mapping[str, Fact]) -> Iterator[tuple[str, float, str | None]]:
    """Yield (field, value, unit) for every number the clause's fields state."""
    amount_unit = inc.amount.unit if inc.amount else None
    for name, money in (("amount", inc.amount), ("cap", inc.cap)):
        if money is not None and money.value is not None:
            yield f"{name}.value", money.value, money.unit
    rule = inc.rule
    if rule is None:
        return

    def fact_unit(name: str) -> str | None:
        return facts[name].unit if name in facts else None

    for i, cond in enumerate(rule.when):
        if cond.min is not None:
            yield f"rule.when[{i}].min", cond.min, cond.unit or fact_unit(cond.fact)
    if rule.tiers:
        for i, step in enumerate(rule.tiers.steps):
            yield f"rule.tiers.steps[{i}].min", step.min, rule.tiers.unit or fact_unit(rule.tiers.fact)
            yield f"rule.tiers.steps[{i}].value", step.value, amount_unit
    if rule.prorate:
        yield "rule.prorate.max", rule.prorate.max, fact_unit(rule.prorate.fact)
    if rule.shared_cap and rule.shared_cap.value is not None:
        yield "rule.shared_cap.value", rule.shared_cap.value, rule.shared_cap.unit


def _numbers_not_quoted(inc: Incentive, facts: Mapping[str, Fact]) -> Iterator[tuple[str, str]]:
    """Every structured number appears in the quote."""
    quoted = quote_numbers(inc.source.quote)
    for field, value, unit in structured_numbers(inc, facts):
        if _key(value * _scale(unit)) not in quoted:
            shown = f"{value:g} {unit}" if unit else f"{value:g}"
            yield field, f"{shown} is not in the quote ({inc.source.section})"


def _ceiling_as_amount(inc: Incentive) -> Iterator[tuple[str, str]]:
    """最高 … is a ceiling: it belongs in `cap`, never in `amount`."""
    money = inc.amount
    if money is None or money.value is None or money.unit == "%":
        return
    if _key(money.value * _scale(money.unit)) in _after("最高", inc.source.quote):
        yield "amount", f"the quote gives {money.value:g} {money.unit} after 最高: a ceiling is a `cap`"


def _fund_size_as_award(inc: Incentive) -> Iterator[tuple[str, str]]:
    """A number the quote gives as a 规模 is a fund's size, not support: `award: false`."""
    money = inc.amount
    if not inc.award or money is None or money.value is None:
        return
    if _key(money.value * _scale(money.unit)) in _after("规模", inc.source.quote):
        yield "award", f"{money.value:g} {money.unit} is a size (规模), not an award: mark `award: false`"


def _rule_problems(inc: Incentive, facts: Mapping[str, Fact], ids: set[str]) -> Iterator[tuple[str, str]]:
    """The rule names known facts in consistent units and real clauses."""
    rule, amount = inc.rule, inc.amount
    if rule is None:
        if inc.award and amount is not None and amount.value is not None and is_money(amount.unit):
            yield "rule", "a fixed sum needs a rule saying which facts trigger it (`when`)"
        return
    for field, money in (("cap", inc.cap), ("rule.shared_cap", rule.shared_cap)):
        if money is not None and not is_money(money.unit):
            yield f"{field}.unit", f"a ceiling must be money (万元, 亿元, 元), got {money.unit!r}"
    yield from _conditions(rule, facts)
    for field, name in (("rule.base", rule.base), ("rule.prorate.fact", rule.prorate and rule.prorate.fact),
                        ("rule.tiers.fact", rule.tiers and rule.tiers.fact)):
        if name and name not in facts:
            yield field, f"unknown fact {name!r} (data/vocab/facts.yaml)"
        elif name and not facts[name].is_number:
            yield field, f"fact {name!r} is a choice, not a number"
    yield from _units(inc, rule, facts)
    for field, targets in (("rule.included_in", rule.included_in), ("rule.excludes", rule.excludes),
                           ("rule.shared_cap.clauses", rule.shared_cap.clauses if rule.shared_cap else [])):
        for target in targets:
            if target not in ids:
                yield field, f"no incentive clause {target!r}"
    if inc.id in rule.included_in or inc.id in rule.excludes:
        yield "rule", "a clause cannot be included in or exclude itself"
    if rule.shared_cap and inc.id not in rule.shared_cap.clauses:
        yield "rule.shared_cap.clauses", "must list this clause too"


def _conditions(rule, facts: Mapping[str, Fact]) -> Iterator[tuple[str, str]]:
    """Each condition tests a known fact the way its kind allows."""
    for i, cond in enumerate(rule.when):
        field = f"rule.when[{i}]"
        fact = facts.get(cond.fact)
        if fact is None:
            yield f"{field}.fact", f"unknown fact {cond.fact!r} (data/vocab/facts.yaml)"
        elif bool(cond.any_of) == (cond.min is not None):
            yield field, "give either any_of (a choice fact) or min (a number fact)"
        elif cond.any_of and fact.is_number:
            yield f"{field}.any_of", f"fact {fact.name!r} is a number: use min"
        elif cond.min is not None and not fact.is_number:
            yield f"{field}.min", f"fact {fact.name!r} is a choice: use any_of"
        elif cond.any_of:
            for code in cond.any_of:
                if fact.choice(code) is None:
                    yield f"{field}.any_of", f"{code!r} is not a choice of {fact.name!r}"
        elif cond.unit and not convertible(cond.unit, fact.unit):
            yield f"{field}.unit", f"{cond.unit!r} does not convert to {fact.name}'s unit {fact.unit!r}"


def _units(inc: Incentive, rule, facts: Mapping[str, Fact]) -> Iterator[tuple[str, str]]:
    """The amount's unit agrees with its base: a rate (%) of money, a sum per unit × that unit."""
    amount: Money | None = inc.amount
    unit = amount.unit if amount else None
    if rule.tiers:
        if amount is None or amount.value is not None:
            yield "amount", "a tiered clause gives its unit in `amount` and its values in the steps"
        tier_fact = facts.get(rule.tiers.fact)
        tier_unit = rule.tiers.unit
        if tier_fact and tier_fact.unit and tier_unit and not convertible(tier_unit, tier_fact.unit):
            yield "rule.tiers.unit", f"{tier_unit!r} does not convert to {tier_fact.unit!r}"
    base = facts.get(rule.base) if rule.base else None
    if base is None or not base.is_number:
        if rule.base is None and unit and per_unit(unit):
            yield "rule.base", f"an amount in {unit} needs a base in {per_unit(unit)}"
        return
    if unit == "%" and not is_money(base.unit):
        yield "rule.base", f"a rate (%) needs a base in money, {base.name!r} is in {base.unit}"
    elif unit and per_unit(unit) and per_unit(unit) != base.unit:
        yield "rule.base", (f"an amount in {unit} needs a base in {per_unit(unit)}, "
                            f"{base.name!r} is in {base.unit}")
    elif unit and is_money(unit):
        yield "rule.base", f"a fixed sum ({unit}) takes no base"
