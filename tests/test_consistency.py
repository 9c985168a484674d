"""Cross-plan consistency: each kind of finding, made on a copy of data/, through the analysis,
the API and `geoservice data check-plans`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from geoservice.analysis.consistency import check_plans
from geoservice.api.app import create_app
from geoservice.catalog import build_catalog
from geoservice.settings import PACKAGE_ROOT, Settings

LUYE_A, LUYE_B = "yantai-biomed-1p3x.luye", "yantai-health-2345.luye"
HOSPITAL = "yantai-isotopes.yantaishan-hospital"
TYPO = "yantai-isotopes.blue-valley-typo"


def _edit_plan(data: Path, plan: str, change) -> None:
    """Load a plan file of the copy, change it, write it back (layout does not matter here)."""
    path = data / "plans" / f"{plan}.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _feature(doc: dict, fid: str) -> dict:
    """Return a feature of a plan document by id."""
    return next(f for f in doc["features"] if f["id"] == fid)


@pytest.fixture(scope="module")
def disagreeing_data(tmp_path_factory) -> Path:
    """A copy of data/ where the plans disagree in every way the checks look for."""
    import shutil

    from tests.conftest import DATA_DIR

    data = tmp_path_factory.mktemp("consistency") / "data"
    shutil.copytree(DATA_DIR, data)

    def biomed(doc):  # (the firm's own clause names no sector: give it one to disagree with)
        _feature(doc, LUYE_A)["sectors"] = ["bio.innovative-drugs"]

    def health(doc):  # same element (same name 绿叶制药), another sector
        _feature(doc, LUYE_B)["sectors"] = ["bio.medical-aesthetics"]

    def isotopes(doc):
        _feature(doc, HOSPITAL)["related"].append(LUYE_B)  # a link the health plan does not return
        doc["targets"].append(
            {  # the city's biomedicine revenue, again, with another value
                "metric": "biomedicine industry main-business revenue",
                "metric_zh": "全市生物医药产业主营业务收入",
                "value": 1800,
                "unit": "亿元",
                "year": 2023,
                "source": {"section": "一(三)", "quote": "产值逾百亿元"},
            }
        )
        typo = {
            **_feature(doc, HOSPITAL),
            "id": TYPO,
            "name_zh": "烟台蓝色要谷",
            "name_en": "Blue valley (typo)",
            "related": [],
            "kind": "park",
        }
        doc["features"].append(typo)  # sounds like 烟台蓝色药谷

    _edit_plan(data, "yantai-biomed-1p3x", biomed)
    _edit_plan(data, "yantai-health-2345", health)
    _edit_plan(data, "yantai-isotopes", isotopes)
    text = data / "sources" / "yantai-isotopes.txt"
    text.write_text(
        text.read_text(encoding="utf-8") + "\n支持恒邦化工产业园建设同位素原料车间。\n",
        encoding="utf-8",
    )
    return data


@pytest.fixture(scope="module")
def findings(disagreeing_data):
    return check_plans(build_catalog(disagreeing_data), disagreeing_data)


def _pair(finding) -> set:
    return {finding.a.feature, finding.b.feature}


def test_same_element_with_other_sectors_is_found_with_both_clauses(findings):
    found = [x for x in findings if x.kind == "sector_role" and _pair(x) == {LUYE_A, LUYE_B}]
    assert len(found) == 1
    (x,) = found
    assert x.facts["sectors"] == [["bio.innovative-drugs"], ["bio.medical-aesthetics"]]
    assert "创新药物" in x.detail and "医美产品" in x.detail
    assert x.a.quote and x.b.quote and x.a.plan != x.b.plan and x.a.section and x.b.section


def test_roles_of_two_layouts_are_compared(findings):
    roles = [x for x in findings if x.kind == "sector_role" and "roles" in x.facts]
    assert any(set(x.facts["roles"]) == {"3", "四园"} for x in roles)


def test_an_element_another_plans_text_names_is_a_link_candidate(findings):
    found = [
        x
        for x in findings
        if x.kind == "link_candidate"
        and x.a.feature == "yantai-biomed-1p3x.hengbang-chem-park"
        and x.b.plan == "yantai-isotopes"
    ]
    assert len(found) == 1
    (x,) = found
    assert x.facts == {"match": "name", "name": "恒邦化工产业园"}
    assert (
        "恒邦化工产业园建设同位素原料车间" in x.b.quote
        and x.b.href == "/plans/yantai-isotopes/source"
    )


def test_pinyin_alike_names_are_link_candidates(findings):
    found = [
        x
        for x in findings
        if x.kind == "link_candidate" and x.facts.get("match") == "pinyin" and TYPO in _pair(x)
    ]
    assert {f for x in found for f in _pair(x)} >= {TYPO, "yantai-biomed-1p3x.blue-valley"}
    assert all(x.facts["similarity"] >= 0.86 for x in found)


def test_linked_elements_are_no_candidates(findings):
    """烟台蓝色药谷 and 中韩烟台蓝色药谷 are a data/links.yaml pair: never proposed again."""
    assert not any(
        x.kind == "link_candidate"
        and _pair(x) == {"yantai-biomed-1p3x.blue-valley", "yantai-health-2345.blue-valley"}
        for x in findings
    )


def test_differing_targets_on_one_metric_and_place(findings):
    found = [x for x in findings if x.kind == "target_mismatch"]
    assert len(found) == 1
    (x,) = found
    assert x.facts["values"] == [2000, 1800] and x.facts["years"] == [2023, 2023]
    assert {x.a.plan, x.b.plan} == {"yantai-biomed-1p3x", "yantai-isotopes"}
    assert "2000" in x.a.quote
    assert "2000 亿元 (2023)" in x.detail_en and "1800 亿元 (2023)" in x.detail_en


def test_one_way_cross_plan_link(findings):
    found = [x for x in findings if x.kind == "one_way_link" and x.a.feature == HOSPITAL]
    assert [x.b.feature for x in found] == [LUYE_B]
    assert found[0].detail.startswith("烟台山医院 → 绿叶制药")
    assert found[0].detail_en == "Yantai Yantaishan Hospital → Luye Pharma: the other plan does not link back"


def test_api_and_cli_show_the_findings(disagreeing_data):
    with TestClient(create_app(Settings(data_dir=disagreeing_data))) as client:
        body = client.get("/consistency", params={"kind": "target_mismatch,one_way_link"}).json()
        assert (
            set(body["counts"]) >= {"target_mismatch", "one_way_link"}
            and body["counts"]["target_mismatch"] == 1
        )
        assert {x["kind"] for x in body["findings"]} == {"target_mismatch", "one_way_link"}
        page = client.get("/consistency", params={"f": "html"}).text
        assert "同一指标的目标不同" in page and "恒邦化工产业园建设同位素原料车间" in page
        assert "None" not in page and "nan" not in page
        bad = client.get("/consistency", params={"kind": "gossip"})
        assert bad.status_code == 400 and bad.json()["code"] == "InvalidParameterValue"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "geoservice.cli",
            "--data-dir",
            str(disagreeing_data),
            "data",
            "check-plans",
            "--kind",
            "target_mismatch",
        ],
        capture_output=True,
        text=True,
        cwd=PACKAGE_ROOT,
        timeout=120,
    )
    assert result.returncode == 0
    assert "[target_mismatch]" in result.stdout and "1 finding(s)" in result.stderr
