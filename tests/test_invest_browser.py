"""The investor map page in a real Chromium, served by uvicorn, offline (no request leaves 127.0.0.1)."""

from __future__ import annotations

import pytest

from geoservice.settings import PACKAGE_ROOT
from tests.browser import Watched

SCREENSHOT = PACKAGE_ROOT / "docs" / "screenshots" / "invest.png"


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    watched = Watched(context.new_page())
    yield watched
    context.close()


def open_invest(page: Watched, url: str) -> None:
    page.page.goto(url)
    page.page.wait_for_selector("html[data-invest-ready]", timeout=60_000)


def test_sector_ranking_report_and_isotope_rings(server: str, page: Watched) -> None:  # noqa: F811
    open_invest(page, f"{server}/maps/invest?basemap=offline")
    p = page.page
    # pick a sector by its GB/T 4754 code, as a firm knows it
    p.fill("#invest-sector", "C2761")
    p.dispatch_event("#invest-sector", "change")
    items = p.locator(".invest-rank li")
    assert items.count() > 3
    assert "生命科学创新引领核心区" in p.inner_text("#invest-list")
    # choose the core zone in the list (the map fits to it), then click inside it on the map
    p.locator(".invest-rank li", has_text="生命科学创新引领核心区").first.click()
    p.wait_for_timeout(500)
    box = p.locator("#invest-map").bounding_box()
    p.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    p.wait_for_selector("#invest-report .invest-clause", timeout=30_000)
    report = p.inner_text("#invest-report")
    assert "烟台市" in report and "生命科学创新引领核心区" in report
    assert "四川" not in report  # no Sichuan clause at a Yantai site
    assert "烟政发" in report  # clauses carry their citation
    # nuclear-medicine sector: reach rings per isotope and production site
    p.fill("#invest-sector", "放射性药物")
    p.dispatch_event("#invest-sector", "change")
    rings = p.locator("#invest-rings input[type=checkbox]")
    assert rings.count() >= 4
    assert "岷江试验堆" in p.inner_text("#invest-rings")
    assert "蓝色药谷·生命岛" in p.inner_text("#invest-list")
    # a site in Chengdu: Sichuan's clauses, then a view wide enough for the rings
    p.locator(".invest-rank li", has_text="成都医学城").first.click()
    p.wait_for_timeout(500)
    p.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    p.wait_for_function("document.querySelector('#invest-report').innerText.includes('四川')", timeout=30_000)
    assert "烟台" not in p.inner_text("#invest-report h2 + p")
    for _ in range(4):
        p.click(".leaflet-control-zoom-out")
        p.wait_for_timeout(300)
    p.screenshot(path=str(SCREENSHOT))
    # bilingual: English only
    p.click(".invest-langs button[data-lang=en]")
    assert "Investor site finder" in p.inner_text("#invest-side h1")
    assert "投资" not in p.inner_text("#invest-side h1")
    assert page.errors == [] and page.external == []


def test_page_opened_without_the_service_says_the_report_needs_it(server: str, page: Watched, tmp_path) -> None:  # noqa: F811
    from geoservice.catalog import build_catalog
    from geoservice.maps.registry import Atlas, write_maps
    from tests.conftest import DATA_DIR

    write_maps(Atlas(build_catalog(DATA_DIR), DATA_DIR), tmp_path, "offline")
    open_invest(page, (tmp_path / "invest.html").as_uri() + "?sector=放射性药物")
    assert page.page.locator(".invest-rank li").count() > 0
    box = page.page.locator("#invest-map").bounding_box()
    page.page.mouse.click(box["x"] + 200, box["y"] + 200)
    page.page.wait_for_selector("#invest-report .invest-note", timeout=10_000)
    assert "geoservice serve" in page.page.inner_text("#invest-report")
    assert page.external == []
