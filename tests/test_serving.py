"""Serving for real: `geoservice serve --workers N --root-path … --forwarded-allow-ips …`, and every
link right behind a reverse proxy (X-Forwarded-Proto/Host) under a path prefix."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import orjson
import pytest
from fastapi.testclient import TestClient

from geoservice.settings import PACKAGE_ROOT, Settings
from tests.conftest import DATA_DIR
from tests.servers import free_port

PREFIX = "/geo"
PUBLIC = "https://maps.example"  # what the proxy is reached at
PROXIED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "maps.example"}
FEATURE = ("yantai-biomed-1p3x", "yantai-biomed-1p3x.blue-valley")
PAGED = "/collections/boundaries/items?limit=5&offset=5"
# Every resource with links, through the proxy (which strips PREFIX before forwarding).
JSON_PAGES = [
    "/", "/collections", f"/collections/{FEATURE[0]}",
    PAGED, f"/collections/{FEATURE[0]}/items/{FEATURE[1]}",
    f"/collections/{FEATURE[0]}/queryables", f"/collections/{FEATURE[0]}/tiles",
    f"/collections/{FEATURE[0]}/tiles/WebMercatorQuad", "/sectors", "/sectors/bio.innovative-drugs",
]
HTML_PAGES = ["/?f=html", "/collections?f=html", "/collections/boundaries/items?f=html&limit=5&offset=5",
              f"/collections/{FEATURE[0]}/items/{FEATURE[1]}?f=html", "/api.html", "/maps"]
MAP_PAGES = [f"/maps/{FEATURE[0]}?basemap=offline", "/maps/overview?basemap=offline"]
ROOT_RELATIVE = re.compile(r'(?:href|src)=\\?"(/[^"\\]*)')
ABSOLUTE = re.compile(r'(?:href|src)=\\?"(https?://[^"\\]*)')


def hrefs(body) -> list[str]:
    """Return every link href and URL template in a JSON document."""
    if isinstance(body, dict):
        found = [body["href"]] if isinstance(body.get("href"), str) else []
        found += [t for t in body.get("tiles", []) if isinstance(t, str)]
        found += [body["$id"]] if "$id" in body else []
        return found + [h for k, v in body.items() if k != "href" for h in hrefs(v)]
    if isinstance(body, list):
        return [h for v in body for h in hrefs(v)]
    return []


def check_links(get) -> None:
    """Every link of every page points through the proxy, under the prefix."""
    for path in JSON_PAGES:
        found = hrefs(orjson.loads(get(path)))
        assert found, path
        wrong = [h for h in found if not h.startswith(f"{PUBLIC}{PREFIX}/")]
        assert not wrong, (path, wrong)
    rels = {link["rel"] for link in orjson.loads(get(PAGED))["links"]}
    assert {"self", "alternate", "next", "prev", "collection"} <= rels
    for path in HTML_PAGES + MAP_PAGES:
        html = get(path).decode()
        local = ROOT_RELATIVE.findall(html)
        absolute = [u for u in ABSOLUTE.findall(html) if u.startswith("http://testserver") or "maps.example" in u
                    or "127.0.0.1" in u]
        assert local or absolute, path
        assert all(u.startswith(f"{PREFIX}/") for u in local), (path, [u for u in local if not u.startswith(PREFIX)])
        assert all(u.startswith(f"{PUBLIC}{PREFIX}/") for u in absolute), (path, absolute)
    popup_links = re.findall(r'href=\\"(/[^"\\]*/collections/[^"\\]*)', get(MAP_PAGES[0]).decode())
    assert popup_links and all(u.startswith(f"{PREFIX}/collections/") for u in popup_links)


def test_links_behind_a_proxy_under_a_prefix(catalog) -> None:
    from geoservice.api.app import create_app

    app = create_app(Settings(data_dir=DATA_DIR, root_path=PREFIX, forwarded_allow_ips=("10.0.0.0/8",)), catalog)
    with TestClient(app, client=("10.1.2.3", 40000)) as client:  # the proxy's address
        check_links(lambda path: client.get(path, headers=PROXIED).content)
        assert client.get("/collections", headers=PROXIED).status_code == 200


def test_forwarded_headers_of_an_untrusted_peer_are_ignored(catalog) -> None:
    from geoservice.api.app import create_app

    app = create_app(Settings(data_dir=DATA_DIR, forwarded_allow_ips=("10.0.0.0/8",)), catalog)
    with TestClient(app, client=("192.0.2.7", 40000)) as client:
        links = client.get("/collections", headers=PROXIED).json()["links"]
    assert all(link["href"].startswith("http://testserver/") for link in links)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`geoservice serve --workers 2` behind an imagined proxy at PUBLIC/geo (loopback is trusted),
    with the JSON access log in a file."""
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "server.log"
    command = [sys.executable, "-m", "geoservice.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", "2", "--root-path", PREFIX, "--forwarded-allow-ips", "127.0.0.1", "--access-log", "json"]
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}
    process = subprocess.Popen(command, cwd=PACKAGE_ROOT, env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/health", timeout=5).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                pytest.fail(f"the server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)
    yield base, process, log
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def fetch(url: str, headers: dict | None = None) -> bytes:
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30).read()


def test_workers_serve_links_through_the_proxy(server) -> None:
    base, _, _ = server
    check_links(lambda path: fetch(base + path, PROXIED))


def test_requests_spread_over_forked_workers_and_metrics_add_up(server) -> None:
    base, process, log = server
    workers = {int(p) for p in subprocess.run(["ps", "-o", "pid=", "--ppid", str(process.pid)],
                                              capture_output=True, text=True).stdout.split()}
    assert len(workers) == 2  # forked by the master that loaded the app
    before = _health_count(base)
    for _ in range(150):  # a new connection each: the kernel hands them to either worker
        assert orjson.loads(fetch(f"{base}/health")) == {"status": "ok"}
    assert _health_count(base) - before == 150  # /metrics sums every worker's counts
    time.sleep(0.5)
    records = [orjson.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    health = [r for r in records if r["route"] == "/health"]
    assert {r["pid"] for r in health} == workers
    assert {"time", "client", "method", "path", "query", "status", "bytes", "ms"} <= set(health[0])
    assert health[0]["path"] == f"{PREFIX}/health" and health[0]["status"] == 200


def _health_count(base: str) -> float:
    """Return the count of answered /health requests, from /metrics."""
    metrics = fetch(f"{base}/metrics").decode()
    found = re.search(r'geoservice_requests_total\{method="GET",route="/health",status="200"\} (\S+)', metrics)
    return float(found.group(1)) if found else 0.0
