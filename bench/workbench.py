"""Time the planners' workbench analyses and pages over the committed data.

Each analysis is timed as a Python call (median of rounds) and each page as a request through
the app in process (first request, then the median of the following ones: the consistency
findings and the sector map pages are kept per app after their first request).

Run: .venv/bin/python bench/workbench.py [rounds]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from geoservice.analysis.consistency import check_plans
from geoservice.analysis.geometry_import import import_geometry
from geoservice.analysis.matrix import sector_matrix
from geoservice.analysis.targets import all_targets, load_families
from geoservice.catalog import build_catalog
from geoservice.settings import PACKAGE_ROOT, Settings

DATA = PACKAGE_ROOT / "data"
PAGES = ("/targets", "/targets?f=html", "/targets?f=csv", "/matrix", "/matrix?f=html",
         "/matrix?rows=zone&f=html", "/consistency", "/maps/sector/bio.innovative-drugs?basemap=offline")


def _median_ms(run, rounds: int) -> float:
    """Return the median wall time of a call, in milliseconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(rounds: int = 5) -> None:
    """Print one line per analysis and per page."""
    from fastapi.testclient import TestClient

    from geoservice.api.app import create_app

    catalog = build_catalog(DATA)
    families = load_families(DATA)
    analyses = {
        "all_targets": lambda: all_targets(catalog, families),
        "sector_matrix district": lambda: sector_matrix(catalog, "district"),
        "sector_matrix zone": lambda: sector_matrix(catalog, "zone"),
        "check_plans (all four kinds)": lambda: check_plans(catalog, DATA),
    }
    for name, run in analyses.items():
        print(f"{name:32s} median {_median_ms(run, rounds):8.1f} ms")
    with TestClient(create_app(Settings(data_dir=DATA), catalog)) as client:
        for path in PAGES:
            start = time.perf_counter()
            first = client.get(path)
            first_ms = (time.perf_counter() - start) * 1000
            again = _median_ms(lambda: client.get(path), rounds)
            print(f"GET {path:52s} first {first_ms:7.1f} ms, then median {again:7.1f} ms, "
                  f"{len(first.content):,} bytes")
    _time_import(catalog, rounds)


def _time_import(catalog, rounds: int) -> None:
    """Time importing one GeoPackage polygon (GCJ-02) into a copy of data/, checks included."""
    import shutil

    import geopandas as gpd
    from shapely.geometry import box

    from geoservice.chinese_datums import transform_geometry, wgs84_to_gcj02

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(DATA, data)
        shape = transform_geometry(box(121.585, 37.385, 121.600, 37.395), wgs84_to_gcj02)
        path = Path(tmp) / "zone.gpkg"
        gpd.GeoDataFrame(geometry=[shape], crs=4326).to_file(path, engine="pyogrio")
        ms = _median_ms(lambda: import_geometry(catalog, data, path, feature="yantai-biomed-1p3x.core-zone",
                                                datum="GCJ-02"), rounds)
        print(f"{'import-geometry (1 polygon, GCJ-02)':32s} median {ms:8.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
