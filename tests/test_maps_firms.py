"""Maps at scale: a firm layer drawn from the service's vector tiles, and marker clustering on the
overview. Firms are synthetic (`firms.synthesize`), served as an extra collection the way
`geoservice serve --collections FILE` does; the browser part runs Debian's chromium offline (no
request may leave 127.0.0.1), as tests/test_maps_browser.py does."""

from __future__ import annotations

import gzip
import re

import geopandas as gpd
import pytest
import shapely

from geoservice import firms
from geoservice.catalog import Catalog
from geoservice.extra import load_extra_collections
from geoservice.maps import assets, firm_layer
from geoservice.maps.registry import (
    OVERVIEW,
    OVERVIEW_BUDGET_BYTES,
    OVERVIEW_BUDGET_GZIP_BYTES,
    Atlas,
)
from tests.browser import SCREENSHOTS
from tests.conftest import DATA_DIR
from tests.servers import served
from tests.test_maps_browser import _expected, _plans, drawn_features

N_FIRMS = 20_000
LAYER = "firms"
ZONE = "yantai-biomed-1p3x.core-zone"


@pytest.fixture(scope="module")
def with_firms(catalog: Catalog, tmp_path_factory) -> tuple[Catalog, gpd.GeoDataFrame, object]:
    """The catalog plus a synthetic firm layer read back from a GeoPackage (as --collections does)."""
    folder = tmp_path_factory.mktemp("firms")
    layer = firms.synthesize(catalog, N_FIRMS, seed=5)
    firms.write(layer, folder / "firms.gpkg")
    config = folder / "extra.yaml"
    config.write_text(f"- {{id: {LAYER}, title: Synthetic firms, path: firms.gpkg}}\n")
    return catalog.with_collections(load_extra_collections(config)), layer, config


def test_firm_layers_are_points_with_sectors_and_no_plan(with_firms) -> None:
    extended, _, _ = with_firms
    assert [c.id for c in firm_layer.firm_collections(extended)] == [LAYER]


def test_zone_counts_agree_with_a_spatial_join(with_firms) -> None:
    """The vectorised counts match geopandas' sjoin (the oracle) for every plan polygon."""
    extended, layer, _ = with_firms
    counts = firm_layer.zone_counts(extended, extended[LAYER])
    polygons = gpd.GeoDataFrame(
        [row for c in extended.plan_collections() for _, row in c.frame.iterrows()
         if row.geometry is not None and row.geometry.geom_type in firm_layer.POLYGONS], crs=4326)
    joined = gpd.sjoin(layer[["geometry"]], polygons[["id", "geometry"]], predicate="intersects")
    oracle = joined.groupby("id").size()
    assert counts[ZONE] > 0
    assert {k: v for k, v in counts.items() if v} == oracle.to_dict()


def test_page_points_at_the_tilejson_and_carries_counts_of_its_zones(with_firms) -> None:
    extended, _, _ = with_firms
    atlas = Atlas(extended, DATA_DIR)
    html = atlas.page("yantai-biomed-1p3x", "offline", "/geo/maps/assets/", api_root="/geo").html
    config = atlas_config(html)["firms"]
    (layer,) = config["layers"]
    assert layer["tilejson"] == f"/geo/collections/{LAYER}/tiles/WebMercatorQuad"
    assert layer["zones"][ZONE] == firm_layer.zone_counts(extended, extended[LAYER])[ZONE]
    assert all(z.startswith("yantai-biomed-1p3x.") for z in layer["zones"])  # only this page's polygons
    assert config["sectors"]["bio.tcm"]["colour"] == atlas.styles.sector_colour("bio.tcm", extended.sectors)
    assert '/geo/maps/assets/Leaflet.VectorGrid.bundled.js' in html


def test_a_gcj02_basemap_leaves_the_wgs84_tiles_out_and_says_so(with_firms) -> None:
    extended, _, _ = with_firms
    html = Atlas(extended, DATA_DIR).page("yantai-biomed-1p3x", "amap", "/maps/assets/").html
    assert atlas_config(html)["firms"] == {"layers": [], "hidden": True}
    assert "VectorGrid" not in html


def test_only_the_overview_clusters_and_pages_without_firms_load_no_vector_grid(catalog: Catalog) -> None:
    atlas = Atlas(catalog, DATA_DIR)
    overview = atlas.page(OVERVIEW, "offline", "/maps/assets/").html
    plan = atlas.page("yantai-isotopes", "offline", "/maps/assets/").html
    assert "markerClusterGroup" in overview and "/maps/assets/leaflet.markercluster.js" in overview
    assert "markerClusterGroup" not in plan and "VectorGrid" not in overview + plan


def test_overview_with_firms_keeps_the_page_budget(with_firms) -> None:
    extended, _, _ = with_firms
    page = Atlas(extended, DATA_DIR).page(OVERVIEW, "osm", "/maps/assets/")
    shared = assets.total_bytes()
    assert page.bytes + shared <= OVERVIEW_BUDGET_BYTES
    zipped = len(gzip.compress(page.html.encode())) + sum(
        len(gzip.compress(assets.asset_bytes(n))) for n in assets.sources())
    assert zipped <= OVERVIEW_BUDGET_GZIP_BYTES


def atlas_config(html: str) -> dict:
    """The JSON block a page hands to atlas.js."""
    import orjson

    text = re.search(r"Atlas\.init\([^,]+, (\{.*?\}), \{\s*boundaries:", html, re.S).group(1)
    return orjson.loads(text.replace("<\\/", "</"))


# ---- in the browser -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(catalog: Catalog, with_firms):
    """Serve the API with the firm layer as an extra collection (uvicorn, a free loopback port)."""
    from geoservice.api.app import create_app
    from geoservice.settings import Settings

    with served(create_app(Settings(data_dir=DATA_DIR, extra_collections=with_firms[2]), catalog)) as url:
        yield url


def test_overview_clusters_yantai_markers_until_zoomed_in(server: str, watched, catalog: Catalog) -> None:
    watched.open(f"{server}/maps/{OVERVIEW}?basemap=offline")
    expected = _expected(catalog, _plans(OVERVIEW, catalog))
    assert watched.counts() == expected  # every feature is on the map, some inside clusters
    clustered = watched.page.evaluate("Atlas.clustered()")
    assert clustered > 0 and watched.page.locator(".marker-cluster").count() > 0
    assert drawn_features(watched) == sum(sum(k.values()) for k in expected.values())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    watched.page.screenshot(path=str(SCREENSHOTS / "overview-clusters.png"))
    # at the zoom where clustering stops, every Yantai marker in view stands on its own
    watched.page.evaluate("Atlas.map.setView([37.50, 121.40], 11, {animate: false})")
    watched.page.wait_for_timeout(300)
    assert watched.page.evaluate("Atlas.clustered()") == 0
    assert watched.page.evaluate("Atlas.open('yantai-biomed-1p3x.blue-valley')")  # a marker that was clustered
    watched.page.locator(".leaflet-popup-content .atlas-popup").wait_for(timeout=5_000)
    assert watched.errors == [] and watched.external == []


def test_firm_layer_is_drawn_from_the_tiles_with_zone_counts_in_its_popup(server: str, watched, with_firms) -> None:
    extended, layer, _ = with_firms
    counts = firm_layer.zone_counts(extended, extended[LAYER])
    zone = extended["yantai-biomed-1p3x"].frame.set_index("id").loc[ZONE, "geometry"]
    firm = layer[layer.within(zone)].iloc[0]
    tiles: list[tuple[int, int]] = []  # (zoom, status) of every tile response
    watched.page.on("response", lambda r: tiles.append((int(r.url.split("/WebMercatorQuad/")[1].split("/")[0]), r.status))
                    if f"/collections/{LAYER}/tiles/WebMercatorQuad/" in r.url else None)
    watched.open(f"{server}/maps/yantai-biomed-1p3x?basemap=offline")
    watched.page.evaluate(f"Atlas.map.setView([{firm.geometry.y}, {firm.geometry.x}], 14, {{animate: false}})")
    watched.page.wait_for_function("Atlas.state.firmGrids.length === 1")
    watched.page.wait_for_timeout(800)  # tiles load and draw
    statuses = {status for _, status in tiles}
    assert statuses <= {200, 204} and 200 in statuses
    assert min(z for z, _ in tiles) >= firm_layer_min_zoom(with_firms[0])  # nothing asked below min_zoom
    assert watched.page.locator(".leaflet-tile-container canvas, .leaflet-pane canvas").count() > 0
    watched.page.mouse.click(*_screen_point(watched, firm.geometry.y, firm.geometry.x))
    popup = watched.page.locator(".leaflet-popup-content .atlas-firm")
    popup.wait_for(timeout=5_000)
    text = popup.inner_text()
    assert "SYNTHETIC" in text and "Firms in the zone" in text
    name = extended["yantai-biomed-1p3x"].frame.set_index("id").loc[ZONE, "name_en"]
    assert f"{name}: {counts[ZONE]:,}" in text.replace("\xa0", " ")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    watched.page.wait_for_timeout(400)  # the popup fades in
    watched.page.screenshot(path=str(SCREENSHOTS / "firms-yantai.png"))
    # the firm canvas lies over the zone: a click where no firm is still opens the zone's popup
    spot = zone.representative_point()
    assert shapely.distance(layer.geometry.values, spot).min() > 0.002  # ~200 m: no firm under the cursor
    watched.page.evaluate(f"Atlas.map.closePopup(); Atlas.map.setView([{spot.y}, {spot.x}], 14, {{animate: false}})")
    watched.page.wait_for_timeout(500)
    watched.page.mouse.click(*_screen_point(watched, spot.y, spot.x))
    title = watched.page.locator(".leaflet-popup-content .atlas-popup h3")
    title.wait_for(timeout=5_000)
    assert extended["yantai-biomed-1p3x"].frame.set_index("id").loc[ZONE, "name_zh"] in title.inner_text()
    assert watched.errors == [] and watched.external == []


def _screen_point(watched, lat: float, lon: float) -> list[float]:
    """The page coordinates of a place on the map."""
    return watched.page.evaluate("""([lat, lon]) => {
        const p = Atlas.map.latLngToContainerPoint([lat, lon]), box = Atlas.map.getContainer().getBoundingClientRect();
        return [box.left + p.x, box.top + p.y]; }""", [lat, lon])


def firm_layer_min_zoom(catalog: Catalog) -> int:
    """The firm layer's min_zoom of data/maps/styles.yaml."""
    return int(Atlas(catalog, DATA_DIR).styles.firms["min_zoom"])
