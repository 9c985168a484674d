"""Time building every map page, their sizes, and the time to first render in Chromium.

Run: .venv/bin/python bench/maps.py [rounds] [firms]
The browser part needs Debian's chromium (apt-get install chromium) and playwright; it serves
the pages with uvicorn on a free 127.0.0.1 port and blocks every request leaving the machine.
With a number of firms (e.g. 1000000), a synthetic firm layer is added as the pages would show
it: the time to count firms per plan polygon (once per process), the overview's size with the
layer, and the vector tiles the layer loads over Yantai (memory store: time and bytes).
"""

from __future__ import annotations

import gzip
import shutil
import socket
import statistics
import sys
import threading
import time

from geoservice.catalog import build_catalog
from geoservice.maps import assets
from geoservice.maps.registry import Atlas
from geoservice.settings import PACKAGE_ROOT, Settings

DATA = PACKAGE_ROOT / "data"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def build_times(rounds: int) -> dict[str, tuple[float, int, int]]:
    """Build each page `rounds` times from a fresh atlas; return median s, bytes, gzip bytes."""
    catalog = build_catalog(DATA)
    names = list(Atlas(catalog, DATA).specs())
    out = {}
    for name in names:
        times = []
        for _ in range(rounds):
            page = Atlas(catalog, DATA).page(name, "offline", "/maps/assets/")
            times.append(page.seconds)
        out[name] = (statistics.median(times), page.bytes, len(gzip.compress(page.html.encode())))
    return out


def first_render(names: list[str], rounds: int) -> dict[str, float]:
    """Return the median time from navigation to the atlas being drawn, per page (ms)."""
    import uvicorn
    from playwright.sync_api import sync_playwright

    from geoservice.api.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(data_dir=DATA)), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    results = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
            for name in names:
                url = f"http://127.0.0.1:{port}/maps/{name}?basemap=offline"
                times = []
                for i in range(rounds + 1):   # the first load also builds the page server-side: dropped
                    page = browser.new_page(viewport={"width": 1280, "height": 800})
                    page.route("**/*", lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort())
                    start = time.perf_counter()
                    page.goto(url)
                    page.wait_for_selector("html[data-atlas-ready]", timeout=60_000)
                    if i:
                        times.append((time.perf_counter() - start) * 1000)
                    page.close()
                results[name] = statistics.median(times)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return results


def firm_layer_figures(n: int) -> None:
    """Print what a firm layer of n synthetic firms costs the map pages."""
    from geoservice import firms
    from geoservice.catalog import Collection
    from geoservice.store.tiles import MemoryTiles, tms

    catalog = build_catalog(DATA)
    start = time.perf_counter()
    frame = firms.synthesize(catalog, n)
    print(f"firm layer: {n:,} synthetic firms made in {time.perf_counter() - start:.1f} s")
    catalog = catalog.with_collections([Collection("firms", "Synthetic firms", "Synthetic firms", frame)])
    atlas = Atlas(catalog, DATA)
    start = time.perf_counter()
    layers = atlas.firm_layers()
    print(f"firms per plan polygon counted in {time.perf_counter() - start:.2f} s "
          f"({sum(1 for v in layers[0].zones.values() if v)} polygons hold firms)")
    page = atlas.page("overview", "offline", "/maps/assets/")
    print(f"overview with the firm layer: {page.bytes:,} B ({len(gzip.compress(page.html.encode())):,} B gzipped)")
    tiles = MemoryTiles(catalog)
    min_zoom = int(atlas.styles.firms["min_zoom"])
    print("| zoom | tile over 芝罘区 (Yantai) | encode | bytes |")
    print("|---|---|---|---|")
    for z in sorted({min_zoom, 8, 10, 12, 13, 14}):
        t = tms().tile(121.40, 37.54, z)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            data = tiles.tile("firms", t.z, t.x, t.y)
            times.append(time.perf_counter() - start)
        print(f"| {z} | {t.z}/{t.x}/{t.y} | {statistics.median(times) * 1000:.0f} ms | {len(data):,} |")


def main(rounds: int = 3, n_firms: int = 0) -> None:
    """Print one table row per page."""
    built = build_times(rounds)
    shared = assets.total_bytes()
    shared_gz = sum(len(gzip.compress(assets.asset_bytes(n))) for n in assets.sources())
    render = first_render(list(built), rounds) if shutil.which("chromium") else {}
    print(f"shared assets: {shared:,} bytes ({shared_gz:,} gzipped)")
    print("| map | build | page | page gzipped | first render (Chromium, served) |")
    print("|---|---|---|---|---|")
    for name, (seconds, size, zipped) in built.items():
        shown = f"{render[name]:.0f} ms" if name in render else "n/a (no chromium)"
        print(f"| `{name}` | {seconds * 1000:.0f} ms | {size:,} B | {zipped:,} B | {shown} |")
    print(f"all pages: {sum(b[0] for b in built.values()) * 1000:.0f} ms to build")
    if n_firms:
        firm_layer_figures(n_firms)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3, int(sys.argv[2]) if len(sys.argv) > 2 else 0)
