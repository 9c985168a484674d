"""Time building the catalog from data/ (parse, validate references, geometry, spatial indexes).

Run: .venv/bin/python bench/catalog_load.py [rounds]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

from geoservice.catalog import build_catalog
from geoservice.settings import PACKAGE_ROOT


def main(rounds: int = 5) -> None:
    """Build the catalog cold (empty parse cache), then warm; print the times."""
    with tempfile.TemporaryDirectory() as empty:
        os.environ["GEOSERVICE_CACHE_DIR"] = empty
        start = time.perf_counter()
        build_catalog(PACKAGE_ROOT / "data")
        cold = time.perf_counter() - start
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            catalog = build_catalog(PACKAGE_ROOT / "data")
            times.append(time.perf_counter() - start)
    features = sum(len(c.frame) for c in catalog.collections.values())
    print(f"catalog build: {len(catalog.collections)} collections, {features} features: "
          f"cold (empty parse cache) {cold * 1000:.0f} ms; warm median {statistics.median(times) * 1000:.0f} ms, best {min(times) * 1000:.0f} ms "
          f"over {rounds} rounds")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
