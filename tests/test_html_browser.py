"""The HTML pages of the API in a real Chromium (Debian's), served by a uvicorn started here.

Each page type in both languages: no console error, no request leaving 127.0.0.1 (they are
recorded and aborted), no raw Python value in the visible text, the small map drawn where there
is one. Also: the language switch and its memory, the items filter form, the print stylesheet.
"""

from __future__ import annotations

import re
import urllib.request
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest

from geoservice.catalog import Catalog
from tests.browser import SCREENSHOTS, Watched
from tests.test_html_pages import PAGES, RAW_VALUES

WITH_MAP = {"items", "feature", "boundary", "search", "lookup", "nearest", "within"}


class PageWatch(Watched):
    """A watched page of the API (site.js marks it ready once forms and maps are wired)."""

    def open(self, url: str) -> "PageWatch":
        """Load a page and wait until site.js has run."""
        self.page.goto(url)
        self.page.wait_for_selector("html[data-page-ready]", timeout=30_000)
        return self

    def lang(self, lang: str) -> None:
        """Click the language switch."""
        self.page.click(f".lang-switch [data-set-lang='{lang}']")
        assert self.page.get_attribute("html", "data-lang") == lang

    def text(self) -> str:
        """Return the text the reader sees."""
        return self.page.inner_text("body")


@pytest.fixture
def watched(browser):
    """Return a fresh watched page (desktop viewport, an English-speaking browser)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    yield PageWatch(context.new_page())
    context.close()


def url(server: str, name: str) -> str:
    """Return the HTML page of one page type."""
    path = PAGES[name]
    return f"{server}{path}{'&' if '?' in path else '?'}f=html"


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_reads_well_offline(server: str, watched: PageWatch, name: str, lang: str) -> None:
    watched.open(url(server, name))
    watched.lang(lang)
    text = watched.text()
    assert not RAW_VALUES.findall(text), RAW_VALUES.findall(text)
    cjk = re.findall(r"[\u4e00-\u9fff]", watched.page.inner_text("header.site nav"))
    assert bool(cjk) == (lang == "zh")  # the page's own words are in the chosen language
    if name in WITH_MAP:
        assert (
            watched.page.locator(".page-map .leaflet-map-pane .leaflet-overlay-pane").count() == 1
        )
        assert watched.page.locator(".page-map .leaflet-overlay-pane path").count() > 0
    else:
        assert watched.page.locator(".page-map").count() == 0
    assert watched.errors == []
    assert watched.external == []


def test_the_map_draws_every_sited_feature_of_the_page(
    server: str, watched: PageWatch, catalog: Catalog
) -> None:
    watched.open(f"{server}/collections/yantai-isotopes/items?f=html&limit=100")
    sited = catalog["yantai-isotopes"].frame.geometry.notna().sum()
    drawn = watched.page.evaluate("""() => { let n = 0;
        document.querySelector('.page-map')._leaflet.eachLayer(
            l => { if (l.feature && l.feature.properties.href) n++; });
        return n; }""")
    assert drawn == sited


def test_language_switch_shows_one_language_and_is_remembered(
    server: str, browser, catalog: Catalog
) -> None:
    fid = "yantai-biomed-1p3x.core-zone"
    row = catalog["yantai-biomed-1p3x"].frame.set_index("id").loc[fid]
    context = browser.new_context(locale="en-US")
    watched = PageWatch(context.new_page()).open(
        f"{server}/collections/yantai-biomed-1p3x/items/{fid}?f=html"
    )
    h1 = watched.page.locator("h1")
    assert h1.inner_text().strip() == row["name_en"]  # an English browser starts in English
    watched.lang("zh")
    assert h1.inner_text().strip() == row["name_zh"]
    districts = watched.page.inner_text("table.record tr:has(th:has-text('所在区县')) td")
    assert "牟平区" in districts and "Muping" not in districts
    watched.open(
        f"{server}/collections/yantai-biomed-1p3x/items?f=html"
    )  # another page: still Chinese
    assert watched.page.get_attribute("html", "data-lang") == "zh"
    assert watched.page.locator("select[name=kind] option[value=park]").inner_text() == "产业园区"
    context.close()
    chinese = browser.new_context(locale="zh-CN")
    page = PageWatch(chinese.new_page()).open(f"{server}/?f=html")
    assert page.page.get_attribute("html", "data-lang") == "zh"
    chinese.close()


def test_items_form_builds_the_url_an_api_client_would(server: str, watched: PageWatch) -> None:
    watched.open(f"{server}/collections/yantai-biomed-1p3x/items?f=html")
    watched.page.select_option("select[name=sector]", "bio.innovative-drugs")
    watched.page.select_option("select[name=kind]", "park")
    watched.page.fill("input[name=filter]", "location_precision <> 'unsited'")
    api_url = watched.page.inner_text("p.api-url a")
    assert dict(parse_qsl(urlsplit(api_url).query)) == {
        "sector": "bio.innovative-drugs",
        "kind": "park",
        "filter": "location_precision <> 'unsited'",
    }
    with watched.page.expect_navigation():
        watched.page.click("form.filters button[type=submit]")
    page_url = watched.page.url
    assert urlsplit(page_url).path == "/collections/yantai-biomed-1p3x/items"
    assert dict(parse_qsl(urlsplit(page_url).query)) == {
        **dict(parse_qsl(urlsplit(api_url).query)),
        "f": "html",
    }
    watched.page.wait_for_selector("html[data-page-ready]")
    with urllib.request.urlopen(api_url) as response:  # the same query as JSON
        body = orjson.loads(response.read())
    shown = int(watched.page.inner_text("p.count b").replace(",", ""))
    assert body["numberMatched"] == shown > 0
    assert watched.page.locator("table.features tbody tr").count() == min(shown, 10)
    assert watched.errors == [] and watched.external == []


def test_print_stylesheet_keeps_the_content_and_drops_the_controls(
    server: str, watched: PageWatch
) -> None:
    watched.open(url(server, "feature"))
    watched.page.emulate_media(media="print")
    hidden = watched.page.evaluate("""() => ['header.site nav', '.lang-switch', '.formats']
        .map(s => getComputedStyle(document.querySelector(s)).display)""")
    assert hidden == ["none", "none", "none"]
    assert watched.page.locator("figure.citation").is_visible()
    assert watched.page.locator("table.record").is_visible()
    pdf = watched.page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("feature", "/collections/yantai-biomed-1p3x/items/yantai-biomed-1p3x.blue-valley?f=html"),
        ("items", "/collections/yantai-biomed-1p3x/items?f=html&kind=park&limit=8"),
    ],
)
def test_screenshots_of_the_pages(server: str, browser, name: str, path: str) -> None:
    """Screenshots for the README (build/screenshots; copies are committed in docs/screenshots)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    watched = PageWatch(context.new_page()).open(f"{server}{path}")
    watched.page.wait_for_timeout(300)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    watched.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert watched.errors == [] and watched.external == []
    context.close()
