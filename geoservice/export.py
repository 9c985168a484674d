"""Write every collection as one RFC 7946 GeoJSON file named after the collection id."""

from __future__ import annotations

from pathlib import Path

import orjson

from geoservice.catalog import Catalog
from geoservice.geojson import feature_collection


def export_catalog(catalog: Catalog, out_dir: Path) -> dict[str, int]:
    """Write <out_dir>/<collection id>.geojson for every collection; return feature counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for c in catalog.collections.values():
        body = feature_collection(c.frame)
        (out_dir / f"{c.id}.geojson").write_bytes(orjson.dumps(body) + b"\n")
        counts[c.id] = len(c.frame)
    return counts
