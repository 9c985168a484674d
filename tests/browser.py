"""Browser tests' shared parts: the service under uvicorn, Debian's Chromium, a watched page.

Registered as a pytest plugin by conftest.py, so every test module gets the `server`, `browser`
and `watched` fixtures without importing them. Every request leaving 127.0.0.1 is recorded and
aborted, so a page that tried to reach a CDN or a tile server fails instead of going out.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from geoservice.catalog import Catalog
from geoservice.settings import PACKAGE_ROOT, Settings
from tests.servers import served
from tests.system import require

_DATA_DIR = PACKAGE_ROOT / "data"

SCREENSHOTS = PACKAGE_ROOT / "build" / "screenshots"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server(catalog: Catalog):
    """Serve the API (and the maps) with uvicorn on a free loopback port; stop it afterwards."""
    from geoservice.api.app import create_app

    with served(create_app(Settings(data_dir=_DATA_DIR), catalog)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Launch Debian's chromium through Playwright."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install '.[test]' (playwright)")
    executable = require("chromium", "chromium")
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class Watched:
    """A page with its console errors and the requests that tried to leave the machine."""

    def __init__(self, page) -> None:
        """Start watching a page."""
        self.page = page
        self.errors: list[str] = []
        self.external: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.route("**/*", self._route)

    def _route(self, route) -> None:
        """Let loopback and file requests through; record and abort everything else."""
        url = route.request.url
        host = urlparse(url).hostname
        if url.startswith(("file:", "data:")) or host in ("127.0.0.1", "localhost", "::1"):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def open(self, url: str) -> "Watched":
        """Load a map page and wait until atlas.js has drawn it."""
        self.page.goto(url)
        self.page.wait_for_selector("html[data-atlas-ready]", timeout=30_000)
        return self

    def counts(self) -> dict[str, dict[str, int]]:
        """Return what atlas.js says is drawn: plan → kind → count."""
        return self.page.evaluate("Atlas.counts()")


@pytest.fixture
def watched(browser):
    """Return a fresh watched page (desktop viewport)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield Watched(context.new_page())
    context.close()
