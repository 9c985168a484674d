"""Plan revisions: `geoservice data diff` between two data directories or two git revisions, and
GET /plans/{id}/changes for a plan that supersedes its draft."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from geoservice.analysis.revisions import diff_plans, read_plans
from geoservice.api.app import create_app
from geoservice.settings import PACKAGE_ROOT, Settings
from tests.conftest import DATA_DIR

DRAFT = "yantai-health-2345"
ISSUED = "yantai-health-2345-issued"


def _revise(doc: dict, plan_id: str) -> dict:
    """Make the 'issued' version of the health plan: one element dropped, one added, a target
    raised, an incentive added, a park given another sector."""
    doc["features"] = [f for f in doc["features"] if f["id"] != f"{plan_id}.ftz"]
    added = {
        **doc["features"][-1],
        "id": f"{plan_id}.new-park",
        "name_zh": "新建康养园",
        "name_en": "New wellness park",
        "related": [],
    }
    doc["features"].append(added)
    doc["targets"][0]["value"] = doc["targets"][0]["value"] + 500
    doc["incentives"].append(
        {
            "id": f"{plan_id}.rent-subsidy",
            "title_zh": "房租补贴",
            "title_en": "Rent subsidy",
            "amount": {"value": 50, "unit": "万元"},
            "source": doc["features"][0]["source"],
        }
    )
    park = next(f for f in doc["features"] if f["id"] == f"{plan_id}.blue-valley")
    park["sectors"] = ["bio.tcm"]
    return doc


def _write_revised(data: Path, plan_id: str, source_id: str = DRAFT) -> dict:
    """Write the revised plan as data/plans/<plan_id>.yaml; return the edited ids and values."""
    text = (data / "plans" / f"{source_id}.yaml").read_text(encoding="utf-8")
    if plan_id != source_id:
        text = text.replace(f"{source_id}.", f"{plan_id}.").replace(
            f"id: {source_id}\n", f"id: {plan_id}\n"
        )
    doc = _revise(yaml.safe_load(text), plan_id)
    if plan_id != source_id:
        doc["plan"] |= {"status": "issued", "supersedes": source_id}
    (data / "plans" / f"{plan_id}.yaml").write_text(
        yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return doc


def _check_changes(changes: dict) -> None:
    """The revision's changes, as every interface reports them."""
    by = {(c["section"], c["change"], c["key"]): c for c in changes["changes"]}
    assert ("features", "removed", "ftz") in by
    assert by[("features", "added", "new-park")]["name"] == "新建康养园"
    park = by[("features", "changed", "blue-valley")]
    assert [f["field"] for f in park["fields"]] == ["sectors"]
    assert park["fields"][0]["new"] == ["bio.tcm"]
    target = next(c for (s, ch, _), c in by.items() if s == "targets" and ch == "changed")
    assert [f["field"] for f in target["fields"]] == ["value"]
    assert target["fields"][0]["new"] - target["fields"][0]["old"] == 500
    assert by[("incentives", "added", "rent-subsidy")]["name"] == "房租补贴"
    assert changes["summary"]["features"] == {"added": 1, "removed": 1, "changed": 1}


def test_diff_plans_field_by_field(data_copy):
    old = read_plans(DATA_DIR)[DRAFT]
    _write_revised(data_copy, DRAFT)
    new = read_plans(data_copy)[DRAFT]
    _check_changes(diff_plans(old, new).as_dict())
    assert diff_plans(old, old).records == ()


def test_plan_changes_route_compares_with_the_superseded_draft(data_copy):
    _write_revised(data_copy, ISSUED)
    with TestClient(create_app(Settings(data_dir=data_copy))) as client:
        body = client.get(f"/plans/{ISSUED}/changes").json()
        assert (body["old"], body["new"]) == (DRAFT, ISSUED)
        _check_changes(body)
        page = client.get(f"/plans/{ISSUED}/changes", params={"f": "html"}).text
        assert "新建康养园" in page and "房租补贴" in page and "None" not in page
        assert "中医药" in page and "bio.tcm" not in page  # codes shown as their names
        none = client.get(f"/plans/{DRAFT}/changes")
        assert (
            none.status_code == 404 and "records no earlier version" in none.json()["description"]
        )
        assert client.get("/plans/nope/changes").status_code == 404


def _cli(*args: str, cwd: Path = PACKAGE_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "geoservice.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={"PYTHONPATH": str(PACKAGE_ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_diff_of_two_data_directories(data_copy, tmp_path):
    _write_revised(data_copy, DRAFT)
    result = _cli("data", "diff", str(DATA_DIR), str(data_copy))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "removed feature ftz (自贸区)" in out and "added feature new-park (新建康养园)" in out
    assert (
        "sectors:" in out
        and "'bio.tcm'" in out
        and "added incentive rent-subsidy (房租补贴)" in out
    )


def test_diff_of_two_git_revisions(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(DATA_DIR, repo / "data", ignore=shutil.ignore_patterns("boundaries", "sources"))
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "draft"], check=True)
    _write_revised(repo / "data", DRAFT)
    subprocess.run([*git, "commit", "-qam", "issued"], check=True)
    result = _cli("--data-dir", str(repo / "data"), "data", "diff", "HEAD~1", "HEAD")
    assert result.returncode == 0, result.stderr
    assert "removed feature ftz (自贸区)" in result.stdout
    bad = _cli("--data-dir", str(repo / "data"), "data", "diff", "no-such-rev", "HEAD")
    assert bad.returncode == 2 and "neither a data directory nor a git revision" in bad.stderr


@pytest.mark.parametrize("status", ["superseded"])
def test_plan_files_record_status_and_supersedes(data_copy, status):
    path = data_copy / "plans" / f"{DRAFT}.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "status: draft-for-comment", f"status: {status}", 1
    )
    path.write_text(text, encoding="utf-8")
    _write_revised(data_copy, ISSUED)
    plans = read_plans(data_copy)
    assert plans[DRAFT].plan.status == "superseded" and plans[ISSUED].plan.supersedes == DRAFT
