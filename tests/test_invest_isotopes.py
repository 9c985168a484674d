"""Isotopes: half-lives against an independent table, and how reach follows decay."""

from __future__ import annotations

import math

import pytest

from geoservice.analysis.isotopes import load_isotopes, reach_budget, remaining_fraction
from tests.conftest import DATA_DIR

TABLE = load_isotopes(DATA_DIR / "vocab" / "isotopes.yaml")


def test_every_isotope_the_plans_name_is_in_the_table(catalog):
    named = {c for frame in (c.frame for c in catalog.plan_collections())
             for codes in frame["sectors"] for c in codes if c.startswith("iso.")}
    assert named <= {i.code for i in TABLE.isotopes.values()}
    assert {i.code for i in TABLE.isotopes.values()} <= set(catalog.sectors.terms)
    for iso in TABLE.isotopes.values():
        assert "NNDC" in iso.half_life.source and iso.half_life.value > 0
        for site in iso.sites:
            assert any(site.feature in c.frame["id"].values for c in catalog.plan_collections()), site


@pytest.mark.parametrize("nuclide", sorted(TABLE.isotopes))
def test_half_lives_match_an_independent_table(nuclide):
    rd = pytest.importorskip("radioactivedecay")  # ICRP Publication 107
    expected_hours = rd.Nuclide(nuclide).half_life("h")
    assert TABLE.isotopes[nuclide].half_life.hours == pytest.approx(expected_hours, rel=0.01)


def test_half_of_the_activity_remains_after_one_half_life():
    lu = TABLE.isotopes["Lu-177"]
    assert remaining_fraction(lu, lu.half_life.hours) == pytest.approx(0.5)


def test_reach_grows_with_half_life():
    uncapped = []
    for iso in TABLE.isotopes.values():
        budget = reach_budget(iso, TABLE.transport, 0.9, "road")
        if not budget.capped and budget.radius_m > 0:
            uncapped.append((iso.half_life.hours, budget.radius_m))
    assert len(uncapped) >= 4
    radii = [r for _, r in sorted(uncapped)]
    assert radii == sorted(radii) and radii[0] < radii[-1]


def test_reach_shrinks_as_min_fraction_rises():
    lu = TABLE.isotopes["Lu-177"]
    radii = [reach_budget(lu, TABLE.transport, f, "road").radius_m for f in (0.7, 0.8, 0.9, 0.95)]
    assert radii == sorted(radii, reverse=True) and radii[0] > radii[-1]
    budget = reach_budget(lu, TABLE.transport, 0.9, "road")
    t = TABLE.transport
    assert budget.radius_m == pytest.approx(
        (lu.half_life.hours * math.log2(1 / 0.9) - t.handling_hours) * t.road_speed_kmh / t.detour_factor * 1000)


def test_isotope_pages(client):
    body = client.get("/isotopes").json()
    assert {i["nuclide"] for i in body["isotopes"]} >= {"Mo-99", "Lu-177", "Ac-225", "Ga-68"}
    lu = client.get("/isotopes/177Lu").json()
    assert lu["half_life"]["unit"] == "d" and lu["name_zh"] == "镥-177"
    sites = {s["id"]: s for s in lu["production_sites"]}
    assert sites["sichuan-nuclear-medicine.minjiang-test-reactor"]["sited"] is True
    assert client.get("/isotopes?f=html").status_code == 200
    assert client.get("/isotopes/Xe-999").status_code == 404


def test_reach_polygon_hospitals_and_stated_assumptions(client):
    def reach(**params):
        response = client.get("/isotopes/Lu-177/reach", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    wide, narrow = reach(min_fraction=0.8), reach(min_fraction=0.95)
    assert "detour factor" in wide["method"] and wide["assumptions"]["detour_factor"] > 1
    by_origin = {f["properties"]["origin"]["id"]: f for f in wide["features"]}
    minjiang = by_origin["sichuan-nuclear-medicine.minjiang-test-reactor"]
    assert minjiang["geometry"]["type"] == "Polygon"
    narrow_minjiang = {f["properties"]["origin"]["id"]: f for f in narrow["features"]}[
        "sichuan-nuclear-medicine.minjiang-test-reactor"]
    assert narrow_minjiang["properties"]["radius_m"] < minjiang["properties"]["radius_m"]
    wide_h = {h["id"] for h in minjiang["properties"]["hospitals"]}
    assert {h["id"] for h in narrow_minjiang["properties"]["hospitals"]} <= wide_h
    assert "sichuan-nuclear-medicine.west-china-hospital" in wide_h
    air = reach(min_fraction=0.8, mode="air", **{"from": "sichuan-nuclear-medicine.minjiang-test-reactor"})
    assert len(air["features"]) == 1 and "air" in air["method"]
    unsited = client.get("/isotopes/Ac-225/reach").json()
    assert unsited["features"] == [] and "no site" in unsited["message"]


@pytest.mark.parametrize("query", ["min_fraction=0", "min_fraction=1.5", "min_fraction=nan", "mode=sea",
                                   "from=no-such-feature"])
def test_bad_reach_parameters_are_400(client, query):
    assert client.get(f"/isotopes/Lu-177/reach?{query}").status_code == 400


def test_validate_reports_a_production_site_that_is_no_feature(data_copy):
    from geoservice.validate import validate

    path = data_copy / "vocab" / "isotopes.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "sichuan-nuclear-medicine.minjiang-test-reactor", "sichuan-nuclear-medicine.no-such-reactor"), encoding="utf-8")
    problems, _ = validate(data_copy)
    assert any("no-such-reactor" in p.message and p.file == "data/vocab/isotopes.yaml" for p in problems)
