"""The incentive estimate form in a real Chromium, as a person fills it: names to pick, a number to
type, one click, the result table."""

from __future__ import annotations

from urllib.parse import urlparse


def test_the_form_estimates_a_class1_drug_in_muping(server: str, browser) -> None:
    page = browser.new_page()
    outside = []
    page.on("request", lambda r: outside.append(r.url) if urlparse(r.url).hostname != "127.0.0.1" else None)
    page.goto(f"{server}/incentives/estimate?f=html")
    page.select_option("select[name=adcode]", label="牟平区 Muping District")
    page.select_option("select[name=sector]", label="创新药物 · Innovative drugs")
    page.select_option("select[name='fact.product_class']", label="一类新药 · Class 1 new drug")
    page.fill("input[name='fact.clinical_rd_cost']", "10000")
    with page.expect_navigation():
        page.click("button[type=submit]")
    total = page.inner_text("p.total")
    assert "3,000.00 万元" in total
    first = page.locator("tr.counted").first.inner_text()
    assert "一类新药临床研发费用扶持" in first and "4,000.00" in first  # uncapped 40 %, shown beside the cap
    assert page.input_value("input[name='fact.clinical_rd_cost']") == "10000"  # the form stays filled
    assert outside == []
    page.close()
