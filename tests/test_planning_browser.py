"""The workbench pages in a real Chromium, offline: the sector map draws every district with its
shade and tooltip, and the matrix, targets and consistency pages render without a script error
or a request leaving the machine."""

from __future__ import annotations

import pytest

from geoservice.analysis.matrix import sector_matrix
from geoservice.catalog import Catalog
from geoservice.maps.display import boundary_frame
from tests.browser import SCREENSHOTS
from tests.conftest import DATA_DIR

SECTOR = "bio.innovative-drugs"


def test_sector_map_shades_each_district_by_its_elements(server: str, watched, catalog: Catalog):
    page = watched.page
    page.goto(f"{server}/maps/sector/{SECTOR}?basemap=offline")
    page.wait_for_selector("path.leaflet-interactive", timeout=30_000)
    result = sector_matrix(catalog, "district", sectors=[SECTOR])
    regions = sorted({catalog.plans[p].plan.region for p in set(result.cells["plan"])})
    shown = boundary_frame(DATA_DIR, ("district", "city"), regions)
    paths = page.locator("path.leaflet-interactive")
    assert paths.count() == len(shown)
    fills = [paths.nth(i).get_attribute("fill") for i in range(paths.count())]
    shaded = [f for f in fills if f not in ("#ffffff", "none")]
    assert len(shaded) == result.cells["place"].nunique()
    legend = page.get_by_text("Plan elements per district")
    assert legend.is_visible()
    districts = shown[shown["level"] == "district"].reset_index(drop=True)
    muping = int(districts.index[districts["adcode"] == "370612"][0])
    district_paths = [i for i, f in enumerate(fills) if f != "none"]
    paths.nth(district_paths[muping]).hover(force=True)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for(timeout=5_000)
    assert "牟平区" in tooltip.inner_text() and "Muping District" in tooltip.inner_text()
    assert watched.errors == [] and watched.external == []


@pytest.mark.parametrize("path, name", [("/matrix?f=html", "matrix"), ("/targets?f=html", "targets"),
                                        ("/consistency?f=html", "consistency")])
def test_workbench_pages_render_offline(server: str, watched, path: str, name: str):
    page = watched.page
    page.goto(f"{server}{path}")
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text()
    if name == "targets":
        assert page.locator("svg").count() >= 5
    if name == "matrix":
        page.locator("table.heat a[href^='#cell-']").first.click()
        assert page.evaluate("location.hash").startswith("#cell-")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    assert watched.errors == [] and watched.external == []
