"""`geoservice validate` keeps each incentive tied to its quote and its rule computable: each check
is shown to catch an error planted in a copy of the data."""

from __future__ import annotations

from pathlib import Path

import pytest

from geoservice.validate import validate
from tests.test_validate import _edit, run_validate

YANTAI = "plans/yantai-biomed-1p3x.yaml"
SHANDONG = "plans/shandong-biomed-st-2025.yaml"
Y = "yantai-biomed-1p3x.inc."


def problems(data_dir: Path) -> list[str]:
    found, _ = validate(data_dir)
    return [str(p) for p in found]


def test_committed_incentives_pass(data_copy: Path) -> None:
    assert problems(data_copy) == []


@pytest.mark.parametrize("plan, old, new, expected", [
    # a number the quote does not give
    (YANTAI, "cap: {value: 3000, unit: 万元, per: product}\n    rule:\n      base: clinical_rd_cost",
     "cap: {value: 3500, unit: 万元, per: product}\n    rule:\n      base: clinical_rd_cost",
     f"feature {Y}drug-rd-cost-class1: field cap.value: 3500 万元 is not in the quote (附件3 二(一)1)"),
    # 10 万元 is not the text's 10 亿元: units are normalised, not just digits compared
    (YANTAI, "        fact: annual_sales\n        unit: 亿元", "        fact: annual_sales\n        unit: 万元",
     f"feature {Y}sales-milestones: field rule.tiers.steps[0].min: 10 万元 is not in the quote (附件3 四(四))"),
    # a threshold in the rule
    (YANTAI, "{fact: equipment_investment, min: 500}", "{fact: equipment_investment, min: 800}",
     f"feature {Y}equipment-investment: field rule.when[0].min: 800 万元 is not in the quote (附件3 四(一))"),
    # 最高 encoded as the amount
    (SHANDONG, "    amount: null\n    cap: {value: 200, unit: 万元, per: product}",
     "    amount: {value: 200, unit: 万元}\n    cap: null",
     ("feature shandong-biomed-st-2025.inc.innovative-device-review: field amount: the quote gives 200 万元 "
     "after 最高: a ceiling is a `cap`")),
    # a fund's size presented as an award
    (YANTAI, "    award: false\n", "",
     f"feature {Y}industry-fund: field award: 500 亿元 is a size (规模), not an award: mark `award: false`"),
    # rules: known facts, choices, units, real clauses
    (YANTAI, "base: clinical_rd_cost", "base: clinical_cost",
     f"feature {Y}drug-rd-cost-class1: field rule.base: unknown fact 'clinical_cost' (data/vocab/facts.yaml)"),
    (YANTAI, "any_of: [fortune-500-site]", "any_of: [fortune-500]",
     f"feature {Y}fortune-500: field rule.when[0].any_of: 'fortune-500' is not a choice of 'milestones'"),
    (YANTAI, "      base: park_area\n", "      base: annual_rent\n",
     (f"feature {Y}park-tax-per-mu: field rule.base: an amount in 万元/亩 needs a base in 亩, "
     "'annual_rent' is in 万元")),
    (YANTAI, f"included_in: [{Y}local-production-class1]", f"included_in: [{Y}local-production-class9]",
     f"feature {Y}drug-rd-cost-class1: field rule.included_in: no incentive clause '{Y}local-production-class9'"),
    (YANTAI, "    rule:\n      when: [{fact: milestones, any_of: [fortune-500-site]}]\n", "",
     f"feature {Y}fortune-500: field rule: a fixed sum needs a rule saying which facts trigger it (`when`)"),
])
def test_planted_error_is_reported(data_copy: Path, plan: str, old: str, new: str, expected: str) -> None:
    _edit(data_copy, plan, old, new)
    found = problems(data_copy)
    assert f"data/{plan}: {expected}" in found
    feature = expected.split(": field")[0]
    assert all(line.startswith(f"data/{plan}: {feature}: ") for line in found), found  # nothing else


def test_full_width_digits_and_yi_wan_are_normalised(data_copy: Path) -> None:
    # 10 亿元 written as 100000 万元 in the rule, and a quote in full-width digits: both still match
    _edit(data_copy, YANTAI, "steps: [{min: 10, value: 100}, {min: 30, value: 300}, {min: 50, value: 500}]",
          "steps: [{min: 100000, value: 100}, {min: 300000, value: 300}, {min: 500000, value: 500}]")
    _edit(data_copy, YANTAI, "        fact: annual_sales\n        unit: 亿元", "        fact: annual_sales\n        unit: 万元")
    _edit(data_copy, YANTAI, "一类新药最高扶持 3000 万元\"}", "一类新药最高扶持 ３０００ 万元\"}")
    assert problems(data_copy) == []


def test_the_cli_reports_incentive_problems(data_copy: Path) -> None:
    _edit(data_copy, YANTAI, "    award: false\n", "")
    result = run_validate(data_copy)
    assert result.returncode == 1
    assert f"feature {Y}industry-fund: field award:" in result.stdout
