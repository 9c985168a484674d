"""Operations endpoints: /health, /ready, /metrics (Prometheus text format)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from geoservice.settings import Settings
from tests.conftest import DATA_DIR

ITEMS = "/collections/boundaries/items"


@pytest.fixture(scope="module")
def ops_client(catalog):
    """A client of an app of its own (its metrics count only this module's requests)."""
    from geoservice.api.app import create_app

    with TestClient(create_app(Settings(data_dir=DATA_DIR), catalog)) as client:
        yield client


def samples(client) -> dict[tuple[str, frozenset], float]:
    """Return every sample of /metrics by (name, labels), parsed by prometheus_client's own parser."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_health_and_ready_answer_without_caching(ops_client) -> None:
    for path, body in (("/health", {"status": "ok"}), ("/ready", {"status": "ready"})):
        response = ops_client.get(path)
        assert response.status_code == 200
        assert response.json().items() >= body.items()
        assert response.headers["cache-control"] == "no-store"


def test_requests_are_counted_by_route_template_and_status(ops_client) -> None:
    before = samples(ops_client)
    ops_client.get(f"{ITEMS}?limit=3")
    ops_client.get(f"{ITEMS}?limit=4")
    ops_client.get("/collections/no-such-collection/items")
    ops_client.get("/no/such/path")
    after = samples(ops_client)
    template = "/collections/{collection_id}/items"
    assert value(after, "geoservice_requests_total", route=template, method="GET", status="200") - \
        value(before, "geoservice_requests_total", route=template, method="GET", status="200") == 2
    assert value(after, "geoservice_requests_total", route=template, method="GET", status="404") - \
        value(before, "geoservice_requests_total", route=template, method="GET", status="404") == 1
    assert value(after, "geoservice_requests_total", route="(unmatched)", method="GET", status="404") >= 1
    assert not any("no-such" in dict(labels).get("route", "") for _, labels in after)  # bounded label values


def test_latency_and_store_time_are_histograms(ops_client) -> None:
    ops_client.get(f"{ITEMS}?limit=2")
    ops_client.get("/collections/boundaries/tiles/WebMercatorQuad/6/53/24")
    found = samples(ops_client)
    template = "/collections/{collection_id}/items"
    count = value(found, "geoservice_request_duration_seconds_count", route=template)
    assert count >= 1
    assert value(found, "geoservice_request_duration_seconds_bucket", route=template, le="+Inf") == count
    assert value(found, "geoservice_store_seconds_count", operation="query") >= 1
    assert value(found, "geoservice_store_seconds_sum", operation="query") > 0


def test_http_cache_outcomes_are_counted(ops_client) -> None:
    before = samples(ops_client)
    first = ops_client.get(f"{ITEMS}?limit=50", headers={"Accept-Encoding": "gzip"})
    ops_client.get(f"{ITEMS}?limit=50", headers={"Accept-Encoding": "gzip"})
    revalidated = ops_client.get(f"{ITEMS}?limit=50", headers={"If-None-Match": first.headers["etag"]})
    assert revalidated.status_code == 304
    after = samples(ops_client)
    for outcome in ("gzip_miss", "gzip_hit", "not_modified"):
        assert value(after, "geoservice_http_cache_total", outcome=outcome) - \
            value(before, "geoservice_http_cache_total", outcome=outcome) >= 1, outcome
    assert value(after, "geoservice_requests_total", route="/collections/{collection_id}/items", method="GET",
                 status="304") >= 1  # the status the client got


def test_metrics_are_text_exposition_format(ops_client) -> None:
    text = ops_client.get("/metrics").text
    assert re.search(r"^# TYPE geoservice_requests_total counter$", text, re.M)
    assert re.search(r"^# TYPE geoservice_request_duration_seconds histogram$", text, re.M)
