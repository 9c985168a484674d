"""docs/adding-a-plan.md, done: the guide's example plan (docs/examples/data) dropped into a copy of
data/ passes `geoservice validate` and shows in the API, the matrix, the targets and the maps,
with no code changed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from fastapi.testclient import TestClient

from geoservice.api.app import create_app
from geoservice.settings import PACKAGE_ROOT, Settings

EXAMPLE = PACKAGE_ROOT / "docs" / "examples" / "data"
PLAN = "example-marine-biomed"


def test_a_new_plan_needs_only_its_text_and_its_yaml(data_copy):
    shutil.copy(EXAMPLE / "plans" / f"{PLAN}.yaml", data_copy / "plans")
    shutil.copy(EXAMPLE / "sources" / f"{PLAN}.txt", data_copy / "sources")

    result = subprocess.run(
        [sys.executable, "-m", "geoservice.cli", "--data-dir", str(data_copy), "validate"],
        capture_output=True,
        text=True,
        cwd=PACKAGE_ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout
    assert f"{PLAN} 2" in result.stderr  # its collection, with both features

    with TestClient(create_app(Settings(data_dir=data_copy))) as client:
        items = client.get(f"/collections/{PLAN}/items").json()
        assert {f["id"] for f in items["features"]} == {f"{PLAN}.demo-zone", f"{PLAN}.pilot-base"}
        zone = next(f for f in items["features"] if f["id"] == f"{PLAN}.demo-zone")
        assert zone["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert zone["properties"]["source"]["quote"] == "重点发展海洋创新药物。以牟平区为主体，规划面积 5 平方公里，到 2027 年示范区营业收入达到 50 亿元"

        matrix = client.get("/matrix", params={"plans": PLAN}).json()
        (cell,) = matrix["cells"]
        assert (cell["place_zh"], cell["sector_zh"], cell["count"], cell["area_km2"]) == (
            "牟平区",
            "创新药物",
            2,
            5,
        )

        targets = client.get("/targets", params={"plan": PLAN}).json()["targets"]
        assert {(t["metric_zh"], t["value"], t["level"]) for t in targets} == {
            ("全市海洋生物医药产业营业收入", 80, "city"),
            ("示范区营业收入", 50, "zone"),
        }

        page = client.get(f"/maps/{PLAN}", params={"basemap": "offline"})
        assert page.status_code == 200 and "海洋生物医药示范区" in page.text
        assert PLAN in client.get("/maps").text
        sector_page = client.get(
            "/maps/sector/bio.innovative-drugs", params={"basemap": "offline"}
        ).text
        assert (
            json.dumps("海洋生物医药示范区")[1:-1] in sector_page
        )  # in 牟平区's tooltip (JSON-escaped)
