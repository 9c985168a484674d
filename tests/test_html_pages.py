"""The HTML face of every resource over HTTP: negotiation, and pages that read well — every feature
of every collection rendered and checked for raw Python values and bare codes.

The same pages in a real browser (scripts, maps, language switch): test_html_browser.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from geoservice.api.params import ITEMS_PARAMETERS
from geoservice.catalog import Catalog
from geoservice.settings import Settings
from tests.conftest import DATA_DIR

# One path per page type (the browser tests open the same ones).
PAGES = {
    "landing": "/",
    "conformance": "/conformance",
    "collections": "/collections",
    "collection": "/collections/yantai-biomed-1p3x",
    "items": "/collections/yantai-biomed-1p3x/items",
    "feature": "/collections/yantai-biomed-1p3x/items/yantai-biomed-1p3x.core-zone",
    "incentive": "/collections/incentives/items/yantai-biomed-1p3x.inc.original-new-drug-project",
    "boundary": "/collections/boundaries/items/370612",
    "queryables": "/collections/yantai-biomed-1p3x/queryables",
    "sectors": "/sectors",
    "sector": "/sectors/医用同位素",
    "search": "/search?sector=放射性药物&kind=园区",
    "lookup": "/lookup?point=121.45,37.46",
    "nearest": "/collections/yantai-isotopes/nearest?point=121.45,37.46&k=5",
    "within": "/collections/yantai-biomed-1p3x/within?point=121.45,37.46&distance_km=20",
}
# What a page must never show a person: Python's or JavaScript's raw values.
RAW_VALUES = re.compile(r"\bnan\b|\bNaN\b|\bNone\b|\bundefined\b|\['|\{'|\[\]|\{\}")


class VisibleText(HTMLParser):
    """Collect the text a reader sees (both languages: the switch only hides one of them)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    """Return a page's visible text."""
    parser = VisibleText()
    parser.feed(page)
    return " ".join(parser.parts)


@pytest.fixture(scope="module")
def http(catalog: Catalog):
    """An HTTP client of the app on the memory store (for the walks over every feature)."""
    from geoservice.api.app import create_app

    with TestClient(create_app(Settings(data_dir=DATA_DIR), catalog)) as client:
        yield client


def html_of(http, path: str) -> str:
    """GET a path as HTML (f=html) and return the page."""
    response = http.get(path + ("&" if "?" in path else "?") + "f=html")
    assert response.status_code == 200, (path, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    return response.text


@pytest.mark.parametrize("name", list(PAGES))
def test_every_resource_answers_html_by_f_or_accept_and_json_by_default(client, name: str) -> None:
    """On both stores (the `client` fixture: memory and PostGIS)."""
    path = PAGES[name]
    assert (
        client.get(path, headers={"Accept": "text/html"})
        .headers["content-type"]
        .startswith("text/html")
    )
    assert "<html" in html_of(client, path)
    default = client.get(path)
    assert default.status_code == 200
    assert re.match(r"application/(geo\+|schema\+)?json", default.headers["content-type"])


@pytest.mark.parametrize("name", list(PAGES))
def test_pages_show_no_raw_values(client, name: str) -> None:
    text = visible_text(html_of(client, PAGES[name]))
    assert not RAW_VALUES.findall(text), RAW_VALUES.findall(text)


def test_every_feature_page_reads_well(http, catalog: Catalog) -> None:
    """All features of all collections: no raw values, no sector code or kind code shown as such."""
    codes = re.compile("|".join(re.escape(c) for c in catalog.sectors.terms))
    for collection in catalog.collections.values():
        for fid in collection.frame["id"]:
            text = visible_text(html_of(http, f"/collections/{collection.id}/items/{fid}"))
            assert not RAW_VALUES.findall(text), (fid, RAW_VALUES.findall(text))
            assert not codes.findall(text), (fid, codes.findall(text))


@pytest.mark.parametrize(
    "collection_id",
    [
        "yantai-biomed-1p3x",
        "yantai-health-2345",
        "yantai-isotopes",
        "sichuan-nuclear-medicine",
        "shandong-biomed-st-2025",
        "incentives",
        "boundaries",
    ],
)
def test_whole_collections_as_one_items_page_read_well(
    http, catalog: Catalog, collection_id: str
) -> None:
    page = html_of(http, f"/collections/{collection_id}/items?limit=1000")
    text = visible_text(page)
    assert not RAW_VALUES.findall(text), RAW_VALUES.findall(text)
    links = set(
        re.findall(rf'href="[^"]*/collections/{collection_id}/items/([^"?]+)\?f=html"', page)
    )
    assert links >= set(catalog[collection_id].frame["id"])  # every row links to its page


def test_feature_page_names_codes_and_links_related_features(http, catalog: Catalog) -> None:
    fid = "yantai-biomed-1p3x.core-zone"
    row = catalog["yantai-biomed-1p3x"].frame.set_index("id").loc[fid]
    page = html_of(http, f"/collections/yantai-biomed-1p3x/items/{fid}")
    text = visible_text(page)
    for code in row["sectors"]:
        term = catalog.sectors.terms[code]
        assert term.name_zh in text and term.name_en in text
    assert "牟平区" in text and "Muping District" in text  # adcode 370612 by its names
    for target in row["targets"]:
        assert target["metric_zh"] in text
    for related in row["related"]:
        plan = related.split(".")[0]
        assert f'/collections/{plan}/items/{related}?f=html"' in page


def test_citation_links_to_the_quote_in_its_context(http, catalog: Catalog) -> None:
    for collection_id, fid in [
        ("yantai-isotopes", "yantai-isotopes.life-island"),
        ("incentives", "yantai-biomed-1p3x.inc.original-new-drug-project"),
    ]:
        row = catalog[collection_id].frame.set_index("id").loc[fid]
        page = html_of(http, f"/collections/{collection_id}/items/{fid}")
        text = visible_text(page)
        assert row["source"]["quote"] in text and row["source"]["section"] in text
        href = row["source"].get("href") or f"/plans/{row['plan']}/source#cite-{fid}"
        assert re.search(
            rf'<a class="in-context" href="(http://testserver)?{re.escape(href)}"', page
        )


def test_items_form_asks_only_for_the_api_parameters(http, catalog: Catalog) -> None:
    """The filter form's fields are items parameters or queryables: its URLs are the API's own."""
    for collection in catalog.collections.values():
        page = html_of(http, f"/collections/{collection.id}/items")
        form = page[page.index('<form class="filters"') : page.index("</form>")]
        names = set(re.findall(r'name="([^"]+)"', form))
        assert names <= ITEMS_PARAMETERS | set(collection.properties), names
        action = re.search(r'action="([^"]+)"', form).group(1)
        assert urlsplit(action).path == f"/collections/{collection.id}/items"


def test_items_page_keeps_the_query_in_its_form_and_paging(http) -> None:
    page = html_of(
        http, "/collections/yantai-biomed-1p3x/items?kind=park&limit=3&bbox=121,37,122,38"
    )
    assert '<option value="park" data-zh="产业园区" data-en="Industrial park" selected>' in page
    assert '<input type="hidden" name="bbox" value="121,37,122,38">' in page
    next_link = re.search(r'<a href="([^"]+)" rel="next">', page).group(1).replace("&amp;", "&")
    assert dict(parse_qsl(urlsplit(next_link).query)) == {
        "kind": "park",
        "limit": "3",
        "bbox": "121,37,122,38",
        "f": "html",
        "offset": "3",
    }


def test_search_page_without_criteria_shows_the_form(http) -> None:
    page = html_of(http, "/search")
    assert 'action="http://testserver/search"' in page
    assert http.get("/search").status_code == 400  # the API still asks for a criterion


def test_html_responses_are_documented(http) -> None:
    paths = http.get("/api", headers={"Accept": "application/json"}).json()["paths"]
    for path in (
        "/sectors",
        "/sectors/{label}",
        "/search",
        "/lookup",
        "/collections/{collection_id}/nearest",
        "/collections/{collection_id}/within",
        "/collections/{collection_id}/queryables",
    ):
        assert "text/html" in paths[path]["get"]["responses"]["200"]["content"], path
