"""The map of one sector across districts: a choropleth of how many plan elements each
district hosts in that sector, bilingual and offline like the plan maps."""

from __future__ import annotations

from html import escape

import folium
import numpy as np
from branca.element import Element

from geoservice.analysis.matrix import Matrix
from geoservice.maps.builder import render_page
from geoservice.maps.display import boundaries_geojson, boundary_frame
from geoservice.maps.registry import Atlas

LEGEND_STEPS = 5


def _mix(colour: str, share: float) -> str:
    """Blend white into a colour: share 0 gives white, 1 the colour itself."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(255 + (c - 255) * share):02x}" for c in (r, g, b))


def sector_map_html(atlas: Atlas, matrix: Matrix, basemap_name: str, asset_base: str) -> str:
    """Return the page: districts of the regions whose plans place the sector, shaded by the
    number of its elements there, a tooltip per district (names in both languages, count per
    plan), and a legend."""
    column = matrix.sectors[0]
    basemap = atlas.basemap(basemap_name)
    catalog = atlas.catalog
    counts = matrix.totals().set_index("place")["count"] if len(matrix.cells) else {}
    by_plan = {}
    for row in matrix.cells.itertuples():
        title = catalog.plans[row.plan].plan.title_zh
        by_plan.setdefault(row.place, []).append(
            f"{title}：{row.count}（{'、'.join(row.names[:6])}{'…' if len(row.names) > 6 else ''}）"
        )
    plans = set(matrix.cells["plan"]) or set(catalog.plans)
    regions = sorted({catalog.plans[p].plan.region for p in plans})
    bounds = boundary_frame(atlas.data_dir, ("district", "city"), regions)
    top = max(counts.values if len(counts) else [0], default=0)
    colour = atlas.styles.sector_colour(column.code, catalog.sectors)
    drawn = boundaries_geojson(bounds, basemap)
    for feature in drawn["features"]:
        props = feature["properties"]
        n = int(counts.get(props["adcode"], 0)) if props["level"] == "district" else None
        props["count"] = n
        props["fill"] = (
            _mix(colour, (n / top) ** 0.7 if n and top else 0.0) if n is not None else "none"
        )
        props["tip"] = (
            f"<b>{escape(props['name_zh'])}</b> {escape(props['name_en'])}<br>"
            f"{column.name_zh} {column.name_en}：{n} 个要素 elements"
            + "".join(f"<br>{escape(t)}" for t in by_plan.get(props["adcode"], []))
        )
    fmap = folium.Map(
        location=None, tiles=None, control_scale=True, max_zoom=basemap.max_zoom, min_zoom=3
    )
    root = fmap.get_root()
    root.title = f"{column.name_zh} · {column.name_en} — 各区县分布 · by district"
    root.header.add_child(Element('<link rel="icon" href="data:,">'), name="favicon")
    for i, layer in enumerate(basemap.tile_urls(atlas.keys.get(basemap_name, ""))):
        folium.TileLayer(
            tiles=layer["url"],
            attr=layer.get("attribution") or basemap.label_en,
            name=f"{basemap.label_zh} {basemap.label_en}",
            overlay=i > 0,
            control=False,
            max_zoom=basemap.max_zoom,
            subdomains=layer.get("subdomains", "abc"),
        ).add_to(fmap)
    folium.GeoJson(
        drawn,
        name=f"{column.name_zh} {column.name_en}",
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 0.85 if f["properties"]["level"] == "district" else 0,
            "color": "#343a40" if f["properties"]["level"] == "city" else "#868e96",
            "weight": 2 if f["properties"]["level"] == "city" else 0.7,
        },
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    ).add_to(fmap)
    districts = bounds[bounds["level"] == "district"]
    minx, miny, maxx, maxy = basemap.shift_frame(
        districts if len(districts) else bounds
    ).total_bounds
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    root.html.add_child(Element(_legend(column, colour, int(top), matrix)))
    return render_page(fmap, asset_base)


def _legend(column, colour: str, top: int, matrix: Matrix) -> str:
    """Return the title box and the colour legend of the page."""
    steps = sorted({int(v) for v in np.linspace(0, top, LEGEND_STEPS)}) if top else [0]
    swatches = "".join(
        f'<span style="display:inline-block;width:1.6em;height:1em;border:1px solid #adb5bd;'
        f'background:{_mix(colour, (v / top) ** 0.7 if top else 0)}"></span> {v} '
        for v in steps
    )
    total = len({e for elements in matrix.cells["elements"] for e in elements})
    return (
        '<div style="position:fixed;z-index:1000;right:12px;top:12px;background:#fff;'
        "padding:8px 10px;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.3);"
        'font:13px/1.4 system-ui,sans-serif;max-width:22rem">'
        f"<b>{escape(column.name_zh)}</b> {escape(column.name_en)}<br>"
        f"各区县规划要素数 Plan elements per district ({total} elements in all)<br>{swatches}<br>"
        "<small>区县按规划所列区县计（功能区按所在区县）· Districts as the plans list them "
        "(functional zones through their host districts)</small></div>"
    )
