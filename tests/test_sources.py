"""The plans' texts live in the project: /plans, /plans/{id}/source, every citation linked to its passage."""

from __future__ import annotations

import html
import re

import pytest

from geoservice.catalog import INCENTIVES_ID, Catalog
from geoservice.sources import citations, fold, quote_fragments
from tests.browser import SCREENSHOTS, Watched


def test_plans_lists_every_plan_with_its_text(client, catalog: Catalog) -> None:
    body = client.get("/plans").json()
    assert [p["id"] for p in body["plans"]] == sorted(catalog.plans)
    isotopes = client.get("/plans/yantai-isotopes").json()
    assert isotopes["date"] == "2023-03-03" and "此件公开发布" in isotopes["published_zh"]
    assert any(link["href"].endswith("/plans/yantai-isotopes/source?f=html") for link in isotopes["links"])


def test_source_text_is_the_published_text(client) -> None:
    response = client.get("/plans/yantai-isotopes/source?f=txt")
    assert response.headers["content-type"].startswith("text/plain")
    assert "烟台市医用同位素健康产业发展规划" in response.text and not response.text.startswith("---")


@pytest.mark.parametrize("plan_id", ["yantai-biomed-1p3x", "sichuan-nuclear-medicine"])
def test_every_citation_of_a_plan_is_anchored_on_its_source_page(client, catalog: Catalog, plan_id: str) -> None:
    page = client.get(f"/plans/{plan_id}/source", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    anchors = set(re.findall(r'id="(cite-[^"]+)"', page.text))
    cited = [c for c in citations(catalog.plans) if c.plan_id == plan_id]
    assert {f"cite-{c.record_id}" for c in cited} <= anchors
    marked = fold(html.unescape("".join(re.findall(r"<mark[^>]*>([^<]*)</mark>", page.text))))
    assert all(fragment in marked for c in cited for fragment in quote_fragments(c.quote))


def test_feature_and_incentive_citations_link_to_their_passage(client, catalog: Catalog) -> None:
    feature = client.get("/collections/yantai-biomed-1p3x/items/yantai-biomed-1p3x.core-zone").json()
    assert feature["properties"]["source"]["href"] == (
        "http://testserver/plans/yantai-biomed-1p3x/source#cite-yantai-biomed-1p3x.core-zone")  # absolute, per request
    incentive_id = catalog[INCENTIVES_ID].frame["id"].iloc[0]
    incentive = client.get(f"/collections/{INCENTIVES_ID}/items/{incentive_id}").json()
    href = incentive["properties"]["source"]["href"]
    page = client.get(href.split("#")[0] + "?f=html").text
    assert f'id="{href.split("#")[1]}"' in page


def test_unknown_plan_and_format_are_4xx(client) -> None:
    missing = client.get("/plans/no-such-plan/source")
    assert missing.status_code == 404 and missing.json()["code"] == "NotFound"
    assert client.get("/plans/yantai-isotopes/source?f=pdf").status_code == 400


def test_source_page_in_a_browser_scrolls_to_the_cited_passage(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    watched = Watched(context.new_page())
    anchor = "cite-yantai-biomed-1p3x.core-zone"
    watched.page.goto(f"{server}/plans/yantai-biomed-1p3x/source?f=html#{anchor}")
    watched.page.wait_for_selector(f"[id='{anchor}']", state="attached")
    mark = watched.page.locator(f"[id='{anchor}'] + mark")
    assert "生命科学创新引领核心区" in mark.inner_text() or "牟平区" in mark.inner_text()
    top = mark.evaluate("m => m.getBoundingClientRect().top")
    assert 0 <= top < 800, "the cited passage is scrolled into view"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    watched.page.screenshot(path=str(SCREENSHOTS / "source.png"))
    assert watched.errors == [] and watched.external == []
    context.close()
