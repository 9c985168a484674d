"""Incentive estimate: the library function on real places and the committed rules, and its API."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geoservice.analysis.estimate import Estimate, Profile, ProfileError, estimate_incentives
from geoservice.catalog import Catalog, build_catalog
from geoservice.facts import load_facts
from tests.conftest import DATA_DIR

MUPING = (121.60, 37.39)  # 牟平区, 烟台市
LESHAN = (103.76, 29.55)  # 市中区, 乐山市
BEIJING = (116.40, 39.90)
Y = "yantai-biomed-1p3x.inc."
CLASS1_RD = {"product_class": "new-drug-class-1", "clinical_rd_cost": 10000}


@pytest.fixture(scope="module")
def vocab():
    return load_facts(DATA_DIR / "vocab")


def run(catalog: Catalog, vocab, **profile) -> Estimate:
    return estimate_incentives(catalog, vocab, Profile(**profile))


def clause(estimate: Estimate, cid: str):
    (found,) = [c for c in estimate.clauses if c.id == cid]
    return found


def test_class1_clinical_rd_in_yantai_is_40_percent_capped_at_3000(catalog, vocab) -> None:
    est = run(catalog, vocab, point=MUPING, sectors=("创新药",), stage="clinical", facts=CLASS1_RD)
    assert [p.name_zh for p in est.places] == ["山东省", "烟台市", "牟平区"]
    rd = clause(est, Y + "drug-rd-cost-class1")
    assert (rd.status, rd.uncapped, rd.cap, rd.amount, rd.capped) == ("estimated", 4000, 3000, 3000, True)
    assert rd.counted
    assert est.total == 3000  # the phase payments are ceilings only, never added
    assert clause(est, Y + "drug-phase1-class1").status == "needs"
    assert clause(est, Y + "drug-rd-cost-class2").status == "not_met"


def test_a_missing_fact_is_listed_as_needed(catalog, vocab) -> None:
    est = run(catalog, vocab, adcode="370612", facts={"product_class": "new-drug-class-1"})
    rd = clause(est, Y + "drug-rd-cost-class1")
    assert (rd.status, rd.needs, rd.amount, rd.counted) == ("needs", ["clinical_rd_cost"], None, False)
    phase = clause(est, Y + "drug-phase2-class1")
    assert phase.needs == ["clinical_phase"]
    assert clause(est, Y + "equipment-investment").needs == ["equipment_investment"]


def test_a_clause_included_in_another_is_not_counted_twice(data_copy: Path, vocab) -> None:
    # The text: local production support "包括已发扶持资金" (includes clinical support already paid).
    # Give the production clause a computable amount, as a planner editing the data could.
    path = data_copy / "plans/yantai-biomed-1p3x.yaml"
    text = path.read_text(encoding="utf-8")
    old = "    amount: null\n    cap: {value: 5000, unit: 万元, per: product}\n"
    assert text.count(old) == 1
    path.write_text(text.replace(old, "    amount: {value: 4500, unit: 万元}\n"
                                      "    cap: {value: 5000, unit: 万元, per: product}\n"), encoding="utf-8")
    est = run(build_catalog(data_copy), vocab, adcode="370612", sectors=("创新药",), facts=CLASS1_RD)
    production, rd = clause(est, Y + "local-production-class1"), clause(est, Y + "drug-rd-cost-class1")
    assert production.counted and rd.status == "estimated" and not rd.counted
    assert rd.not_counted_clause == production.id
    assert est.total == 4500  # not 4500 + 3000


def test_clauses_that_exclude_each_other_count_the_higher_and_prorate_the_floor(catalog, vocab) -> None:
    est = run(catalog, vocab, adcode="370613", facts={
        "firm_type": "foreign-rd-firm", "paid_in_capital_usd": 1200, "annual_rent": 300, "floor_area": 800})
    small, large = clause(est, Y + "rent-foreign-rd-500"), clause(est, Y + "rent-foreign-rd-1000")
    assert small.uncapped == pytest.approx(300 * 500 / 800) and small.amount == 100  # 500 m² of 800, cap 100
    assert large.uncapped == 300 and large.amount == 200
    assert large.counted and not small.counted and small.not_counted_clause == large.id
    assert est.total == 200


def test_awards_paid_to_a_park_are_shown_not_counted(catalog, vocab) -> None:
    est = run(catalog, vocab, adcode="370612", facts={"project_investment": 20000, "equipment_investment": 6000})
    park = clause(est, Y + "park-project-100m")
    assert (park.status, park.amount, park.recipient, park.counted) == ("estimated", 20, "park", False)
    assert "park" in park.not_counted
    assert clause(est, Y + "equipment-investment").amount == 300  # 5 % × 6000: the project's own
    assert est.total == 300


def test_tiers_and_a_shared_cap(catalog, vocab) -> None:
    est = run(catalog, vocab, adcode="370600", facts={
        "annual_sales": 350000, "product_annual_sales": 20000, "milestones": ["mah-local-production"]})
    assert clause(est, Y + "sales-milestones").amount == 300  # 35 亿元 reaches the 30 亿元 step
    years = [clause(est, f"{Y}mah-local-production-y{n}") for n in (1, 2, 3)]
    assert [y.uncapped for y in years] == [600, 400, 200]
    assert sum(y.amount for y in years) == 1000  # 3 年累计…最高不超过 1000 万元
    assert est.total == 1300


def test_the_fund_size_is_never_counted(catalog, vocab) -> None:
    est = run(catalog, vocab, point=MUPING, facts=CLASS1_RD)
    fund = clause(est, Y + "industry-fund")
    assert fund.status == "not_an_award" and fund.amount is None and not fund.counted
    assert est.total == sum(c.amount for c in est.clauses if c.counted) < 500 * 10000


def test_a_sichuan_site_gets_no_yantai_or_shandong_clause(catalog, vocab) -> None:
    est = run(catalog, vocab, point=LESHAN, facts=CLASS1_RD)
    assert [p.name_zh for p in est.places][:2] == ["四川省", "乐山市"]
    assert est.clauses and {c.plan for c in est.clauses} == {"sichuan-nuclear-medicine"}
    assert est.total == 0


def test_outside_the_plans_no_clause_and_a_message(catalog, vocab) -> None:
    est = run(catalog, vocab, point=BEIJING)
    assert (est.places, est.clauses, est.total) == ((), (), 0)
    assert "outside" in est.message


@pytest.mark.parametrize("profile, words", [
    ({"point": MUPING, "facts": {"no_such_fact": 1}}, "unknown fact"),
    ({"point": MUPING, "facts": {"product_class": "class-9"}}, "not one of"),
    ({"point": MUPING, "facts": {"clinical_rd_cost": -5}}, "number ≥ 0"),
    ({"point": MUPING, "facts": {"clinical_rd_cost": float("nan")}}, "number ≥ 0"),
    ({"point": MUPING, "facts": {"clinical_rd_cost": True}}, "number ≥ 0"),
    ({"point": MUPING, "facts": {"product_class": ["new-drug-class-1", "generic-drug"]}}, "takes one code"),
    ({"point": MUPING, "sectors": ("no-such-sector",)}, "no sector code"),
    ({"adcode": "110000"}, "adcode"),
    ({}, "either a point or an adcode"),
])
def test_bad_profiles_are_refused(catalog, vocab, profile, words) -> None:
    with pytest.raises(ProfileError, match=words):
        run(catalog, vocab, **profile)


# --- the API: memory store only (the estimate reads the catalog, not the store) ---

@pytest.fixture(scope="module")
def api(catalog) -> TestClient:
    from geoservice.api.app import create_app
    from geoservice.settings import Settings

    with TestClient(create_app(Settings(data_dir=DATA_DIR), catalog)) as client:
        yield client


def test_api_estimates(api) -> None:
    response = api.post("/incentives/estimate", json={
        "point": list(MUPING), "sector": "创新药", "stage": "clinical", "facts": CLASS1_RD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == {"value": 3000, "unit": "万元", "counts": [Y + "drug-rd-cost-class1"]}
    assert body["places"][-1]["name_zh"] == "牟平区"
    first = body["clauses"][0]
    assert (first["id"], first["amount"], first["uncapped"], first["counted"]) == (
        Y + "drug-rd-cost-class1", 3000, 4000, True)


@pytest.mark.parametrize("body, words", [
    ({"point": [500, 37], "facts": {}}, "point"),
    ({"point": [121.6, 37.39], "facts": {"no_such_fact": 1}}, "unknown fact"),
    ({"point": [121.6, 37.39], "sector": "nothing-like-this"}, "sector"),
    ({"point": [121.6, 37.39], "unknown_field": 1}, "unknown_field"),
    ({"point": "here"}, "point"),
    ({"adcode": "999999"}, "adcode"),
])
def test_api_rejects_bad_input_with_ogc_400(api, body, words) -> None:
    response = api.post("/incentives/estimate", json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "InvalidParameterValue" and words in error["description"]


@pytest.mark.parametrize("raw", [
    b"{not json", b"[]", b'{"adcode": 370612}',
    b'{"adcode": "370612", "facts": {"clinical_rd_cost": NaN}}',
    b'{"adcode": "370612", "facts": {"clinical_rd_cost": Infinity}}',
    b'{"adcode": "370612", "facts": {"clinical_rd_cost": true}}',
])
def test_api_rejects_a_malformed_body(api, raw: bytes) -> None:
    response = api.post("/incentives/estimate", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == "InvalidParameterValue"


def test_api_lists_the_facts(api) -> None:
    body = api.get("/incentives/estimate").json()
    names = {f["name"]: f for f in body["facts"]}
    assert names["clinical_rd_cost"]["unit"] == "万元"
    assert {c["code"] for c in names["product_class"]["choices"]} >= {"new-drug-class-1", "generic-drug"}


def test_form_page_posts_the_profile_and_shows_names(api) -> None:
    page = api.get("/incentives/estimate?f=html")
    assert page.status_code == 200 and "单品种临床研发费用" in page.text and "<form" in page.text
    result = api.post("/incentives/estimate/form", content=(
        b"lon=121.60&lat=37.39&sector=bio.innovative-drugs&stage=clinical"
        b"&fact.product_class=new-drug-class-1&fact.clinical_rd_cost=10000"),
        headers={"content-type": "application/x-www-form-urlencoded"})
    assert result.status_code == 200, result.text
    html = result.text
    assert "3,000.00 万元" in html and "一类新药临床研发费用扶持" in html and "牟平区" in html
    assert "需要 needs 临床试验阶段" in html  # a fact by its name, not its code
    assert f'href="/plans/yantai-biomed-1p3x/source#cite-{Y}drug-rd-cost-class1"' in html
    for python_value in (">None<", ">nan<", "['", "clinical_phase<"):
        assert python_value not in html
    for form, words in ((b"lon=abc&lat=1", "not two numbers"), (b"stage=clinical", "either a point or an adcode")):
        bad = api.post("/incentives/estimate/form", content=form,
                       headers={"content-type": "application/x-www-form-urlencoded"})
        assert bad.status_code == 400 and "无法估算 Cannot estimate" in bad.text and words in bad.text
        assert "<form" in bad.text  # the form again, filled in, to correct
