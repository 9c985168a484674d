"""Time the downloads for desktop tools and report their sizes: each collection of the catalog as
CSV, Excel and GeoPackage (the encoders behind f=csv|xlsx|gpkg), and the styled GeoPackage of
`geoservice export --format gpkg`. In process, best of --repeat runs.

Run: .venv/bin/python bench/downloads.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from geoservice import formats
from geoservice.catalog import build_catalog
from geoservice.export import export_geopackage
from geoservice.settings import default_data_dir


def best(repeat: int, run) -> tuple[float, object]:
    """Return the fastest of `repeat` runs (seconds) and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data_dir = default_data_dir()
    catalog = build_catalog(data_dir)
    encoders = {
        "csv": lambda c: formats.to_csv(c.frame),
        "xlsx": lambda c: formats.to_xlsx(c.frame, c.properties, c.id),
        "gpkg": lambda c: formats.to_gpkg(c.frame, c.id),
    }
    print(f"{'collection':28} {'rows':>5}  " + "  ".join(f"{f:>18}" for f in encoders))
    for collection in catalog.collections.values():
        cells = []
        for encode in encoders.values():
            seconds, body = best(args.repeat, lambda: encode(collection))
            cells.append(f"{seconds * 1000:7.0f} ms {len(body) / 1e6:5.2f} MB")
        print(f"{collection.id:28} {len(collection.frame):5}  " + "  ".join(cells))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "geoservice.gpkg"
        seconds, layers = best(args.repeat, lambda: export_geopackage(catalog, data_dir, path))
        print(f"export --format gpkg: {len(layers)} layers, {path.stat().st_size / 1e6:.2f} MB "
              f"in {seconds:.2f} s")


if __name__ == "__main__":
    main()
