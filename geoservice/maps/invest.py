"""The investor map page (/maps/invest): pick a sector, see its candidate zones and parks ranked,
click anywhere for the site report, see isotope reach rings.

Everything the page needs without the service is embedded as one JSON block, computed by the
analysis library: the candidates' shapes, the ranking for every sector label the picker offers,
and the isotope rings. Only the site report of a clicked place is fetched from the service
(`/report`); a page opened from disk says so instead. Scripts and styles come from
/maps/assets/ (Leaflet, invest.js, invest.css): no CDN.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import shapely
from shapely.geometry import mapping

from geoservice.analysis.isotopes import reach_budget
from geoservice.analysis.ranking import candidates, rank
from geoservice.analysis.reach import production_sites
from geoservice.analysis.sites import resolve_sector, site_index
from geoservice.catalog import Catalog
from geoservice.maps.basemaps import Basemap
from geoservice.maps.builder import script_json
from geoservice.maps.display import boundaries_geojson, boundary_frame

INVEST = "invest"
TITLE_ZH, TITLE_EN = "投资选址地图", "Investor site finder"
SIMPLIFY_DEG = 0.005
DECIMALS = 4


def _sector_options(catalog: Catalog) -> list[dict]:
    """Return what the picker offers: every plan sector, then every GB/T 4754 class."""
    out = [{"key": t.code, "name_zh": t.name_zh, "name_en": t.name_en, "gbt": None}
           for t in catalog.sectors.terms.values()]
    out += [{"key": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "gbt": c.code}
            for c in catalog.sectors.industry]
    return [{**o, "nuclear": resolve_sector(catalog, o["key"]).nuclear} for o in out]


def page_data(catalog: Catalog, data_dir: Path, basemap: Basemap, api_base: str, key: str = "") -> dict:
    """Return the page's JSON block (geometries in the basemap's datum)."""
    index = site_index(catalog, data_dir)
    cands = candidates(index, data_dir)
    shapes = shapely.set_precision(shapely.simplify(cands.geoms, SIMPLIFY_DEG), 10 ** -DECIMALS)
    features = [{
        "type": "Feature", "id": r["id"],
        "geometry": mapping(basemap.shift(g)),
        "properties": {k: r[k] for k in ("name_zh", "name_en", "kind", "plan", "location_precision")},
    } for r, g in zip(cands.records, shapes)]
    options = _sector_options(catalog)
    rankings = {}
    for option in options:
        body = rank(cands, option["key"], limit=200)
        rankings[option["key"]] = [[c["id"], c["score"], c["components"]["sector_fit"]["value"]]
                                   for c in body["candidates"]]
    rings = []
    for iso in index.isotopes.isotopes.values():
        budget = reach_budget(iso, index.isotopes.transport, 0.5, "road")
        for site in production_sites(index, iso):
            if site["sited"] and budget.radius_m > 0:
                centre = basemap.shift(shapely.points(*site["point"]))
                rings.append({"nuclide": iso.nuclide, "code": iso.code, "site_zh": site["name_zh"],
                              "site_en": site["name_en"], "centre": [centre.y, centre.x],
                              "radius_m": round(budget.radius_m), "capped": budget.capped})
    bounds = boundary_frame(data_dir, ("province", "city"), None)
    return {
        "title": {"zh": TITLE_ZH, "en": TITLE_EN},
        "api_base": api_base, "datum": basemap.datum,
        "report_crs": {"GCJ-02": "GCJ-02", "BD-09": "BD-09"}.get(basemap.datum, ""),
        "tiles": basemap.tile_urls(key),
        "max_zoom": basemap.max_zoom,
        "sectors": options, "rankings": rankings,
        "candidates": {"type": "FeatureCollection", "features": features},
        "boundaries": boundaries_geojson(bounds, basemap, 0.01) if basemap.tileless else None,
        "rings": rings, "plans": {pid: [p.plan.title_zh, p.plan.title_en] for pid, p in catalog.plans.items()},
        "kinds": {k: [t.name_zh, t.name_en] for k, t in catalog.kinds.terms.items()},
    }


def invest_page(catalog: Catalog, data_dir: Path, basemap: Basemap, asset_base: str,
                api_base: str = "", lang: str = "both", key: str = "") -> str:
    """Return the investor page's HTML."""
    data = {**page_data(catalog, data_dir, basemap, api_base, key), "lang": lang}
    base = escape(asset_base)
    return (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{TITLE_ZH} · {TITLE_EN}</title>"
        f'<link rel="stylesheet" href="{base}leaflet.css"><link rel="stylesheet" href="{base}invest.css">'
        '</head><body><div id="invest-side"></div><div id="invest-map"></div>'
        f'<script src="{base}leaflet.js"></script><script src="{base}invest.js"></script>'
        f'<script type="application/json" id="invest-data">{script_json(data)}</script>'
        "<script>Invest.start(JSON.parse(document.getElementById('invest-data').textContent));</script>"
        "</body></html>"
    )
