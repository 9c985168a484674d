"""Map pages without a browser: what the builder embeds, the CLI export, the API routes, the budget."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import prcoords
import pytest
import shapely
import shapely.geometry
from pyproj import Geod

from geoservice.catalog import Catalog
from geoservice.cli import main
from geoservice.maps import assets
from geoservice.maps.builder import page_config
from geoservice.maps.registry import (
    OVERVIEW,
    OVERVIEW_BUDGET_BYTES,
    OVERVIEW_BUDGET_GZIP_BYTES,
    Atlas,
)
from tests.conftest import DATA_DIR

GEOD = Geod(ellps="WGS84")
LINKS = re.compile(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"')


@pytest.fixture(scope="module")
def atlas(catalog: Catalog) -> Atlas:
    """Return the atlas of the committed data (popups link to a root-relative API)."""
    return Atlas(catalog, DATA_DIR, api_base="")


def _config(atlas: Atlas, name: str, basemap: str) -> dict:
    """Return the JSON block of one page."""
    return page_config(atlas.inputs(atlas.specs()[name]), atlas.basemap(basemap), "both")


def _features(config: dict) -> dict[str, dict]:
    """Return the page's features by id."""
    return {f["id"]: f for f in config["features"]["features"]}


def test_one_map_per_plan_plus_overview(atlas: Atlas, catalog: Catalog) -> None:
    assert list(atlas.specs()) == [OVERVIEW, *[c.plan for c in catalog.plan_collections()]]


@pytest.mark.parametrize("basemap", ["offline", "osm", "amap"])
def test_every_script_and_style_is_served_locally(atlas: Atlas, basemap: str) -> None:
    for name in atlas.specs():
        html = atlas.page(name, basemap, "/maps/assets/").html
        links = LINKS.findall(html)
        assert links and all(link.startswith("/maps/assets/") or link == "data:," for link in links), links
        assert "cdn" not in html.lower()


def test_offline_pages_name_no_remote_host(atlas: Atlas) -> None:
    html = atlas.page(OVERVIEW, "offline", "/maps/assets/").html
    code = "\n".join(line for line in html.splitlines() if not line.strip().startswith("//"))  # comments
    assert re.findall(r"https?://[^\s\"'<>]+", code) == []


def test_page_states_its_own_size(atlas: Atlas) -> None:
    page = atlas.page("yantai-isotopes", "offline", "/maps/assets/")
    stated = int(re.search(r'"page":\{"bytes":(\d+)', page.html).group(1))
    assert stated == page.bytes


def test_overview_stays_within_its_byte_budget(atlas: Atlas) -> None:
    page = atlas.page(OVERVIEW, "osm", "/maps/assets/")
    shared = assets.total_bytes()
    assert page.bytes + shared <= OVERVIEW_BUDGET_BYTES
    zipped = len(gzip.compress(page.html.encode())) + sum(
        len(gzip.compress(assets.asset_bytes(n))) for n in assets.sources())
    assert zipped <= OVERVIEW_BUDGET_GZIP_BYTES


def test_unsited_features_carry_no_geometry(atlas: Atlas, catalog: Catalog) -> None:
    for pid in ("yantai-isotopes", "sichuan-nuclear-medicine"):
        frame = catalog[pid].frame
        feats = _features(_config(atlas, pid, "offline"))
        assert len(feats) == len(frame)
        unsited = set(frame.loc[frame["location_precision"] == "unsited", "id"])
        assert {i for i, f in feats.items() if f["geometry"] is None} == unsited


def test_popup_has_names_citation_and_geojson_link(atlas: Atlas, catalog: Catalog) -> None:
    frame = catalog["yantai-biomed-1p3x"].frame
    park = frame[frame["id"] == "yantai-biomed-1p3x.blue-valley"].iloc[0]
    popup = _features(_config(atlas, "yantai-biomed-1p3x", "offline"))[park["id"]]["properties"]["popup"]
    assert park["name_zh"] in popup and park["name_en"] in popup
    assert park["source"]["quote"].replace("“", "&ldquo;")[:6] in popup or park["source"]["quote"][:6] in popup
    assert park["source"]["doc"] in popup
    assert f'href="/collections/yantai-biomed-1p3x/items/{park["id"]}' in popup
    assert 'class="zh"' in popup and 'class="en"' in popup


def test_polygons_are_simplified_for_display(atlas: Atlas, catalog: Catalog) -> None:
    frame = catalog["yantai-health-2345"].frame
    feats = _features(_config(atlas, "yantai-health-2345", "offline"))
    polygons = frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])]
    assert len(polygons) > 5
    full = int(shapely.get_num_coordinates(polygons.geometry.values).sum())
    shown = int(sum(shapely.get_num_coordinates(shapely.geometry.shape(feats[i]["geometry"])) for i in polygons["id"]))
    assert shown < full / 3


def test_sector_filter_offers_parents_with_their_children(atlas: Atlas) -> None:
    sectors = {s["code"]: s for s in _config(atlas, OVERVIEW, "offline")["sectors"]}
    assert "bio.cell-gene-therapy" in sectors
    isotopes = sectors["nuc.isotopes"]
    assert isotopes["name_zh"] == "医用同位素"
    assert "nuc.isotopes" in isotopes["covers"] and any(c.startswith("iso.") for c in isotopes["covers"])


def test_sichuan_chain_links_are_directed_lines_between_poles(atlas: Atlas, catalog: Catalog) -> None:
    frame = catalog["sichuan-nuclear-medicine"].frame
    feats = _features(_config(atlas, "sichuan-nuclear-medicine", "offline"))
    links = frame[frame["kind"] == "chain_link"]
    assert len(links) == 3
    for _, link in links.iterrows():
        line = feats[link["id"]]["geometry"]
        assert line["type"] == "LineString"
        start = frame.loc[frame["id"] == link["link_from"]].geometry.iloc[0]
        assert start.buffer(1e-6).contains(shapely.Point(line["coordinates"][0]))


def first(geometry: dict) -> list[float]:
    """Return the first vertex of a GeoJSON point or (multi)polygon."""
    coords = geometry["coordinates"]
    for _ in range({"Point": 0, "Polygon": 2, "MultiPolygon": 3}[geometry["type"]]):
        coords = coords[0]
    return coords


@pytest.mark.parametrize("fid", ["yantai-biomed-1p3x.blue-valley", "yantai-biomed-1p3x.core-zone"])
def test_amap_overlays_are_shifted_to_gcj02(atlas: Atlas, catalog: Catalog, fid: str) -> None:
    """On AMap tiles (GCJ-02) every overlay vertex is the GCJ-02 image of its WGS84 position."""
    wgs = _features(_config(atlas, "yantai-biomed-1p3x", "osm"))[fid]["geometry"]
    gcj = _features(_config(atlas, "yantai-biomed-1p3x", "amap"))[fid]["geometry"]
    lon, lat = first(wgs)
    expected = prcoords.wgs_gcj((lat, lon))
    got_lon, got_lat = first(gcj)
    _, _, error = GEOD.inv(expected.lon, expected.lat, got_lon, got_lat)
    _, _, shift = GEOD.inv(lon, lat, got_lon, got_lat)
    assert error < 15 if wgs["type"] != "Point" else error < 0.5   # polygons are rounded to 1e-4°
    assert 200 < shift < 1000                                       # hundreds of metres around Yantai


def test_amap_boundaries_are_shifted_too(atlas: Atlas) -> None:
    osm = _config(atlas, "yantai-isotopes", "osm")["boundaries"]["features"][0]["geometry"]
    amap = _config(atlas, "yantai-isotopes", "amap")["boundaries"]["features"][0]["geometry"]
    assert osm["coordinates"] != amap["coordinates"]


def test_cli_writes_standalone_pages_with_relative_assets(tmp_path: Path, capsys) -> None:
    out = tmp_path / "maps"
    assert main(["maps", "build", "--out", str(out), "--basemap", "offline"]) == 0
    pages = sorted(p.name for p in out.glob("*.html"))
    assert pages == sorted(["index.html", "overview.html", "shandong-biomed-st-2025.html",
                            "sichuan-nuclear-medicine.html", "yantai-biomed-1p3x.html",
                            "yantai-health-2345.html", "yantai-isotopes.html", "invest.html"])
    for name in assets.sources():
        assert (out / "assets" / name).read_bytes() == assets.asset_bytes(name)
    html = (out / "overview.html").read_text(encoding="utf-8")
    assert all(link.startswith("assets/") or link == "data:," for link in LINKS.findall(html))
    assert "overview.html" in (out / "index.html").read_text(encoding="utf-8")
    assert "overview.html" in capsys.readouterr().out


def test_cli_refuses_tianditu_without_a_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GEOSERVICE_TIANDITU_KEY", raising=False)
    assert main(["maps", "build", "--out", str(tmp_path), "--basemap", "tianditu"]) == 2


def test_tianditu_key_goes_into_the_tile_urls(catalog: Catalog) -> None:
    html = Atlas(catalog, DATA_DIR, keys={"tianditu": "KEY123"}).page("yantai-isotopes", "tianditu", "a/").html
    assert "tk=KEY123" in html and "tianditu.gov.cn" in html


# --- served by the API ---------------------------------------------------------------------

def test_api_lists_the_maps(client) -> None:
    r = client.get("/maps")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for name in ("overview", "yantai-biomed-1p3x", "sichuan-nuclear-medicine"):
        assert f"/maps/{name}?basemap=offline" in r.text


def test_api_serves_a_page_with_local_assets(client) -> None:
    r = client.get("/maps/yantai-health-2345", params={"basemap": "offline"})
    assert r.status_code == 200
    assert all(link.startswith("/maps/assets/") or link == "data:," for link in LINKS.findall(r.text))
    for link in LINKS.findall(r.text):
        if link.startswith("/maps/assets/"):
            asset = client.get(link)
            assert asset.status_code == 200 and asset.headers["content-type"].startswith(("text/javascript", "text/css"))


@pytest.mark.parametrize(("path", "status"), [
    ("/maps/no-such-map", 404),                       # unknown map
    ("/maps/overview?basemap=bing", 400),             # unknown basemap
    ("/maps/overview?lang=fr", 400),                  # unknown language
    ("/maps/assets/jquery.js", 404),                  # an asset we do not ship
])
def test_api_map_errors(client, path: str, status: int) -> None:
    r = client.get(path)
    assert r.status_code == status
    assert "code" in r.json()


def test_api_tianditu_without_key_is_a_400(client) -> None:
    assert client.get("/maps/overview", params={"basemap": "tianditu"}).status_code == 400


def test_landing_page_links_to_the_maps(client) -> None:
    assert 'href="http://testserver/maps"' in client.get("/", headers={"accept": "text/html"}).text  # under the root path
