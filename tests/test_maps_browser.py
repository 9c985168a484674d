"""The map pages in a real Chromium (Debian's), served by a uvicorn started here, offline mode.

Every request leaving 127.0.0.1 is recorded and aborted, so a page that tried to reach a CDN
or a tile server fails the test instead of reaching the internet.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import pytest

from geoservice.catalog import Catalog
from geoservice.maps.registry import OVERVIEW, Atlas, write_maps
from tests.browser import SCREENSHOTS, Watched
from tests.conftest import DATA_DIR

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install '.[test]' (playwright)")

MAPS = [OVERVIEW, "yantai-biomed-1p3x", "yantai-health-2345", "yantai-isotopes",
        "sichuan-nuclear-medicine", "shandong-biomed-st-2025"]



def _expected(catalog: Catalog, plans: list[str], sectors: set[str] | None = None) -> dict[str, dict[str, int]]:
    """Return plan → kind → number of sited features (optionally only those of some sectors)."""
    out: dict[str, dict[str, int]] = {}
    for pid in plans:
        frame = catalog[pid].frame
        frame = frame[frame.geometry.notna()]
        if sectors is not None:
            frame = frame[frame["sectors"].map(lambda s: bool(set(s) & sectors))]
        counts = Counter(frame["kind"])
        if counts:
            out[pid] = dict(counts)
    return out


def drawn_features(watched: Watched) -> int:
    """Features drawn on their own plus markers drawn inside a cluster icon (the overview)."""
    return watched.page.locator(".atlas-feature").count() + watched.page.evaluate("Atlas.clustered()")


def _plans(name: str, catalog: Catalog) -> list[str]:
    """Return the plans a map shows."""
    return [c.plan for c in catalog.plan_collections()] if name == OVERVIEW else [name]


@pytest.mark.parametrize("name", MAPS)
def test_map_loads_offline_with_every_feature_drawn(server: str, watched: Watched, catalog: Catalog, name: str) -> None:
    watched.open(f"{server}/maps/{name}?basemap=offline")
    expected = _expected(catalog, _plans(name, catalog))
    assert watched.counts() == expected
    assert drawn_features(watched) == sum(sum(k.values()) for k in expected.values())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    watched.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    assert watched.errors == []
    assert watched.external == []


def test_unsited_elements_are_listed_in_the_side_panel(server: str, watched: Watched, catalog: Catalog) -> None:
    frame = catalog["yantai-isotopes"].frame
    unsited = set(frame.loc[frame.geometry.isna(), "id"])
    watched.open(f"{server}/maps/yantai-isotopes?basemap=offline")
    listed = set(watched.page.eval_on_selector_all(".atlas-unsited > li", "els => els.map(e => e.dataset.id)"))
    assert listed == unsited
    assert watched.page.locator(".atlas-feature[data-id='yantai-isotopes.isotope-reactor']").count() == 0


def test_precision_is_visible_in_the_symbol(server: str, watched: Watched) -> None:
    watched.open(f"{server}/maps/yantai-health-2345?basemap=offline")
    styles = watched.page.evaluate("""() => ['approximate', 'district_centroid'].map(p => {
        const s = document.querySelector('.atlas-pt.prec-' + p + ' .sym');
        return getComputedStyle(s).borderTopStyle; })""")
    assert styles == ["dashed", "dotted"]


def test_click_on_a_park_opens_its_popup_with_citation(server: str, watched: Watched, catalog: Catalog) -> None:
    fid = "yantai-biomed-1p3x.blue-valley"
    park = catalog["yantai-biomed-1p3x"].frame.set_index("id").loc[fid]
    watched.open(f"{server}/maps/yantai-biomed-1p3x?basemap=offline")
    watched.page.evaluate(f"Atlas.map.setView([{park.geometry.y}, {park.geometry.x}], 14, {{animate: false}})")
    watched.page.locator(f".atlas-pt[data-id='{fid}']").click()
    popup = watched.page.locator(".leaflet-popup-content .atlas-popup")
    popup.wait_for(timeout=5_000)
    text = popup.inner_text()
    assert park["name_zh"] in text
    assert park["source"]["doc"] in text and park["source"]["quote"] in text
    link = popup.locator("a.geojson").get_attribute("href")
    assert link.startswith(f"/collections/yantai-biomed-1p3x/items/{fid}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    watched.page.wait_for_timeout(400)  # the popup fades in
    watched.page.screenshot(path=str(SCREENSHOTS / "popup-yantai-biomed-1p3x.png"))
    assert watched.errors == [] and watched.external == []


def test_popup_link_returns_the_feature_geojson(server: str, watched: Watched) -> None:
    watched.open(f"{server}/maps/yantai-biomed-1p3x?basemap=offline")
    body = watched.page.evaluate("""async () => {
        const html = Atlas.state.records.find(r => r.id === 'yantai-biomed-1p3x.blue-valley').props.popup;
        const href = new DOMParser().parseFromString(html, 'text/html').querySelector('a.geojson').getAttribute('href');
        return (await fetch(href)).json(); }""")
    assert body["type"] == "Feature" and body["id"] == "yantai-biomed-1p3x.blue-valley"


@pytest.mark.parametrize("sector", ["bio.cell-gene-therapy", "nuc.isotopes"])
def test_sector_filter_hides_and_shows_the_right_features(server: str, watched: Watched, catalog: Catalog,
                                                          sector: str) -> None:
    watched.open(f"{server}/maps/{OVERVIEW}?basemap=offline")
    plans = _plans(OVERVIEW, catalog)
    watched.page.select_option("select.atlas-sector", sector)
    covers = set(catalog.sectors.expand(sector))
    expected = _expected(catalog, plans, covers)
    assert watched.counts() == expected
    assert drawn_features(watched) == sum(sum(k.values()) for k in expected.values())
    if sector == "bio.cell-gene-therapy":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        watched.page.screenshot(path=str(SCREENSHOTS / "overview-sector-filter.png"))
    watched.page.select_option("select.atlas-sector", "")
    assert watched.counts() == _expected(catalog, plans)


def test_kind_layer_toggle_hides_that_kind(server: str, watched: Watched, catalog: Catalog) -> None:
    watched.open(f"{server}/maps/yantai-biomed-1p3x?basemap=offline")
    watched.page.evaluate("Atlas.map.removeLayer(Atlas.groups.kinds.park); Atlas.map.fire('overlayremove', {layer: Atlas.groups.kinds.park})")
    counts = watched.counts()["yantai-biomed-1p3x"]
    assert "park" not in counts and counts["zone"] == _expected(catalog, ["yantai-biomed-1p3x"])["yantai-biomed-1p3x"]["zone"]


def test_language_switch(server: str, watched: Watched, catalog: Catalog) -> None:
    fid = "yantai-biomed-1p3x.core-zone"
    row = catalog["yantai-biomed-1p3x"].frame.set_index("id").loc[fid]
    watched.open(f"{server}/maps/yantai-biomed-1p3x?basemap=offline")
    watched.page.evaluate(f"Atlas.open('{fid}')")
    title = watched.page.locator(".leaflet-popup-content .atlas-popup h3")
    title.wait_for()
    assert row["name_zh"] in title.inner_text() and row["name_en"] in title.inner_text()   # both by default
    watched.page.click(".atlas-lang button.lang-en")
    assert title.inner_text().strip() == row["name_en"]
    watched.page.click(".atlas-lang button.lang-zh")
    assert title.inner_text().strip() == row["name_zh"]
    assert watched.page.locator(".atlas-toolbar .atlas-title").inner_text().strip() == catalog.plans["yantai-biomed-1p3x"].plan.title_zh


def test_search_by_english_or_chinese_name_opens_the_feature(server: str, watched: Watched) -> None:
    watched.open(f"{server}/maps/yantai-biomed-1p3x?basemap=offline")
    watched.page.fill("input.atlas-search", "blue pharma valley")
    watched.page.locator(".atlas-results li").first.click()
    assert "烟台蓝色药谷" in watched.page.locator(".leaflet-popup-content").inner_text()
    watched.page.fill("input.atlas-search", "蓝色药谷")
    assert watched.page.locator(".atlas-results li").count() >= 1


def test_osm_page_reaches_only_the_tile_server(server: str, watched: Watched) -> None:
    """With tiles, the only requests leaving the machine are tiles (they are aborted here)."""
    watched.open(f"{server}/maps/yantai-isotopes?basemap=osm")
    watched.page.wait_for_timeout(300)
    assert watched.external and all(urlparse(u).hostname == "tile.openstreetmap.org" for u in watched.external)


def test_exported_page_works_opened_from_disk(watched: Watched, catalog: Catalog, tmp_path: Path) -> None:
    write_maps(Atlas(catalog, DATA_DIR, api_base="http://127.0.0.1:8000"), tmp_path, "offline")
    watched.open((tmp_path / "sichuan-nuclear-medicine.html").as_uri())
    assert watched.counts() == _expected(catalog, ["sichuan-nuclear-medicine"])
    assert watched.page.locator(".atlas-arrow").count() == 3          # one arrowhead per chain link
    assert watched.errors == [] and watched.external == []


def test_phone_viewport_folds_legend_and_panel(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 760}, device_scale_factor=2, is_mobile=True)
    page = Watched(context.new_page()).open(f"{server}/maps/{OVERVIEW}?basemap=offline").page
    assert page.locator(".atlas-panel.closed").count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "overview-phone.png"))
    context.close()


def test_chromium_is_debians(browser) -> None:
    assert shutil.which("chromium") and browser.version
