"""A real GIS client: GDAL's OGC API – Features driver (OAPIF) against `geoservice serve`.

The service runs as a subprocess (uvicorn, 127.0.0.1, a free port) with the OGC CQL2 test
collections added through --collections; ogrinfo must list every collection with the right
feature count, read every feature through the paging links, and ogr2ogr must copy a collection
into a GeoPackage without losing features.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from geoservice.settings import PACKAGE_ROOT
from tests.servers import free_port, serve_command
from tests.system import require

EXTRA = Path(__file__).parent / "data" / "ne_110m.yaml"
OGC_DATA = PACKAGE_ROOT.parent / "shared" / "testdata" / "ne_110m"



def _get_json(url: str) -> dict:
    """GET a JSON document from the local server."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> str:
    """Start `geoservice serve` on a free loopback port; yield its base URL; stop it."""
    port = free_port()
    command = [sys.executable, "-m", "geoservice.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if OGC_DATA.is_dir():
        command += ["--collections", str(EXTRA)]
    log = tmp_path_factory.mktemp("server") / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with serve_command(command, f"{base}/healthz", log, cwd=PACKAGE_ROOT):
        yield base


@pytest.fixture(scope="module")
def counts(server) -> dict[str, int]:
    """Return each collection's feature count as the service states it."""
    collections = _get_json(f"{server}/collections")["collections"]
    return {c["id"]: c["numberOfFeatures"] for c in collections}


def _run(*args: str, timeout: int = 300) -> str:
    """Run a GDAL command; fail with its output unless it succeeds."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert "ERROR" not in done.stderr, done.stderr[-2000:]
    return done.stdout


def test_ogrinfo_lists_every_collection_with_its_feature_count(server, counts) -> None:
    ogrinfo = require("ogrinfo", "gdal-bin")
    listing = _run(ogrinfo, "-ro", "-so", f"OAPIF:{server}")
    listed = re.findall(r"^\d+: (\S+)", listing, flags=re.MULTILINE)
    assert sorted(listed) == sorted(counts)
    summary = _run(ogrinfo, "-ro", "-so", "-al", f"OAPIF:{server}")
    stated = dict(re.findall(r"^Layer name: (\S+)\n(?:.*\n)*?Feature Count: (\d+)", summary, flags=re.MULTILINE))
    assert {k: int(v) for k, v in stated.items()} == counts


def test_ogrinfo_reads_every_feature_through_the_paging_links(server, counts) -> None:
    ogrinfo = require("ogrinfo", "gdal-bin")
    for collection, expected in counts.items():
        features = _run(ogrinfo, "-ro", "-al", "-q", f"OAPIF:{server}", collection)
        assert len(re.findall(r"^OGRFeature\(", features, flags=re.MULTILINE)) == expected, collection


@pytest.mark.filterwarnings("ignore:Could not parse column")  # GDAL stores lists of objects as text
@pytest.mark.parametrize("collection", ["yantai-biomed-1p3x", "boundaries"])
def test_ogr2ogr_copies_a_collection_to_a_geopackage(server, counts, tmp_path, collection: str) -> None:
    ogr2ogr = require("ogr2ogr", "gdal-bin")
    ogrinfo = require("ogrinfo", "gdal-bin")
    out = tmp_path / f"{collection}.gpkg"
    _run(ogr2ogr, "-f", "GPKG", str(out), f"OAPIF:{server}", collection)
    copied = _run(ogrinfo, "-ro", "-so", str(out), collection)
    assert int(re.search(r"Feature Count: (\d+)", copied).group(1)) == counts[collection]
    import geopandas as gpd

    frame = gpd.read_file(out, layer=collection)
    assert len(frame) == counts[collection]
    assert frame.crs is not None and frame.crs.to_epsg() == 4326
    assert frame["id"].is_unique
