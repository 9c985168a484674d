"""`geoservice export`: every collection as one RFC 7946 GeoJSON file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import shapely

from geoservice.catalog import Catalog
from tests.conftest import DATA_DIR


def test_export_writes_every_collection_as_rfc7946(catalog: Catalog, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "geoservice.cli", "--data-dir", str(DATA_DIR), "export",
         "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for cid, collection in catalog.collections.items():
        doc = json.loads((tmp_path / f"{cid}.geojson").read_text(encoding="utf-8"))
        assert doc["type"] == "FeatureCollection"
        assert "crs" not in doc  # RFC 7946 §4: WGS84 only, no crs member
        assert len(doc["features"]) == len(collection.frame)
        for feature in doc["features"]:
            assert feature["id"]
            geometry = feature["geometry"]
            if geometry is None:
                continue
            shape = shapely.geometry.shape(geometry)
            minx, miny, maxx, maxy = shape.bounds
            assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
            for polygon in getattr(shape, "geoms", [shape]):
                if polygon.geom_type == "Polygon":  # RFC 7946 §3.1.6: exterior rings counter-clockwise
                    assert polygon.exterior.is_ccw
                    assert not any(ring.is_ccw for ring in polygon.interiors)
