"""Scaling of the two stores with the synthetic firm layer: bbox query, CQL2 filter, point lookup.

    .venv/bin/python bench/scaling.py --database-url postgresql://… [--sizes 10000 100000 1000000]

Prints the median time per query for each store and size, and how it grows with data size. The
point lookup returns the feature's frame (HTML, other CRSs); "id → position" is the async lookup
behind a GeoJSON single feature.
The PostGIS database must be a scratch one: the firm tables (`firms_<n>`) are replaced.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from shapely.geometry import box

from geoservice.catalog import Collection, build_catalog
from geoservice.filters import parse
from geoservice.firms import synthesize
from geoservice.query import Query
from geoservice.settings import PACKAGE_ROOT
from geoservice.store.memory import MemoryStore

ROUNDS = 30
BBOX = box(121.30, 37.40, 121.50, 37.56)  # central Yantai (芝罘区/莱山区)
FILTER = "size = 'large' AND employees > 5000"


def timed(fn, rounds: int = ROUNDS) -> float:
    """Return the median wall time of fn in milliseconds (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def queries(store, cid: str, some_id: str) -> dict[str, float]:
    """Time the three queries on one store."""
    tree = parse(FILTER, "cql2-text")
    loop = asyncio.new_event_loop()
    try:
        return {
            "bbox (page of 100)": timed(lambda: store.query(Query(collection=cid, bbox=BBOX, limit=100))),
            "CQL2 filter (page of 100)": timed(lambda: store.query(Query(collection=cid, filter=tree, limit=100))),
            "point lookup (one id)": timed(lambda: store.get(cid, some_id)),
            "id → position (async)": timed(lambda: loop.run_until_complete(store.feature_positions(cid, some_id))),
        }
    finally:
        loop.run_until_complete(store.aclose())
        loop.close()


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="a scratch PostGIS database (omit: memory store only)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    base = build_catalog(PACKAGE_ROOT / "data")
    results: dict[tuple[str, str, int], float] = {}
    if args.database_url:
        from geoservice.store.pgload import load_catalog

        load_catalog(args.database_url, base)  # the store serves the whole catalog plus the firm layer
    for n in args.sizes:
        cid = f"firms_{n}"
        layer = synthesize(base, n, seed=42)
        catalog = base.with_collections([Collection(cid, f"SYNTHETIC firms ({n:,})", "synthetic", layer)])
        some_id = layer["id"].iloc[n // 2]
        stores = {"memory": MemoryStore(catalog)}
        if args.database_url:
            from geoservice.store.pgload import load
            from geoservice.store.postgis import PostGISStore

            start = time.perf_counter()
            load(args.database_url, [catalog[cid]])
            print(f"loaded {n:,} firms into PostGIS in {time.perf_counter() - start:.1f} s", flush=True)
            stores["postgis"] = PostGISStore(catalog, args.database_url)
        for name, store in stores.items():
            for query, ms in queries(store, cid, some_id).items():
                results[(name, query, n)] = ms
                print(f"{name:8} {query:28} {n:>9,}  {ms:8.2f} ms", flush=True)
    print("\nstore    query                        " + "".join(f"{n:>12,}" for n in args.sizes) + "   growth")
    for name in ("memory", "postgis"):
        for query in ("bbox (page of 100)", "CQL2 filter (page of 100)", "point lookup (one id)", "id → position (async)"):
            row = [results.get((name, query, n)) for n in args.sizes]
            if None in row:
                continue
            growth = f"×{row[-1] / row[0]:.1f} for ×{args.sizes[-1] // args.sizes[0]} rows" if len(row) > 1 else ""
            print(f"{name:8} {query:28} " + "".join(f"{ms:10.2f}ms" for ms in row) + f"   {growth}")


if __name__ == "__main__":
    main()
