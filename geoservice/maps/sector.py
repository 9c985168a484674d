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


def _say(lang: str):
    """Return a function writing a text in the page's language(s): both, zh or en."""
    if lang == "zh":
        return lambda zh, en: zh
    if lang == "en":
        return lambda zh, en: en
    return lambda zh, en: zh if zh == en else f"{zh} {en}"


def sector_map_html(
    atlas: Atlas, matrix: Matrix, basemap_name: str, asset_base: str, lang: str = "both"
) -> str:
    """Return the page: districts of the regions whose plans place the sector, shaded by the
    number of its elements there, a tooltip per district (its name, the count per plan and the
    elements' names), and a legend; texts in Chinese and English, or one of them (lang)."""
    say = _say(lang)
    column = matrix.sectors[0]
    basemap = atlas.basemap(basemap_name)
    catalog = atlas.catalog
    counts = matrix.totals().set_index("place")["count"] if len(matrix.cells) else {}
    by_plan: dict[str, list[str]] = {}
    for row in matrix.cells.itertuples():
        header = catalog.plans[row.plan].plan
        names = "、".join(row.names[:6]) + ("…" if len(row.names) > 6 else "")
        by_plan.setdefault(row.place, []).append(
            f"{say(header.title_zh, header.title_en)}：{row.count}（{names}）"
        )
    plans = set(matrix.cells["plan"]) or set(catalog.plans)
    regions = sorted({catalog.plans[p].plan.region for p in plans})
    bounds = boundary_frame(atlas.data_dir, ("district", "city"), regions)
    top = max(counts.values if len(counts) else [0], default=0)
    colour = atlas.styles.sector_colour(column.code, catalog.sectors)
    sector = say(column.name_zh, column.name_en)
    drawn = boundaries_geojson(bounds, basemap)
    for feature in drawn["features"]:
        props = feature["properties"]
        tip = f"<b>{escape(say(props['name_zh'], props['name_en']))}</b>"
        if props["level"] == "district":
            n = int(counts.get(props["adcode"], 0))
            props["fill"] = _mix(colour, (n / top) ** 0.7 if n and top else 0.0)
            tip += f"<br>{escape(sector)}：{n} {escape(say('个要素', 'elements'))}"
            tip += "".join(f"<br>{escape(t)}" for t in by_plan.get(props["adcode"], []))
        else:
            props["fill"] = "none"
        props["tip"] = tip
    fmap = folium.Map(
        location=None, tiles=None, control_scale=True, max_zoom=basemap.max_zoom, min_zoom=3
    )
    root = fmap.get_root()
    root.title = f"{sector} — {say('各区县分布', 'by district')}"
    root.header.add_child(Element('<link rel="icon" href="data:,">'), name="favicon")
    for i, layer in enumerate(basemap.tile_urls(atlas.keys.get(basemap_name, ""))):
        folium.TileLayer(
            tiles=layer["url"],
            attr=layer.get("attribution") or basemap.label_en,
            name=say(basemap.label_zh, basemap.label_en),
            overlay=i > 0,
            control=False,
            max_zoom=basemap.max_zoom,
            subdomains=layer.get("subdomains", "abc"),
        ).add_to(fmap)
    folium.GeoJson(
        drawn,
        name=sector,
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
    root.html.add_child(Element(_legend(sector, colour, int(top), matrix, say)))
    return render_page(fmap, asset_base)


def _legend(sector: str, colour: str, top: int, matrix: Matrix, say) -> str:
    """Return the title box and the colour legend of the page."""
    steps = sorted({int(v) for v in np.linspace(0, top, LEGEND_STEPS)}) if top else [0]
    swatches = "".join(
        f'<span style="display:inline-block;width:1.6em;height:1em;border:1px solid #adb5bd;'
        f'background:{_mix(colour, (v / top) ** 0.7 if top else 0)}"></span> {v} '
        for v in steps
    )
    total = len({e for elements in matrix.cells["elements"] for e in elements})
    heading = say("各区县规划要素数", "Plan elements per district")
    in_all = say(f"共 {total} 个要素", f"{total} elements in all")
    note = say(
        "区县按规划所列区县计（功能区按所在区县）",
        "Districts as the plans list them (functional zones through their host districts)",
    )
    return (
        '<div style="position:fixed;z-index:1000;right:12px;top:12px;background:#fff;'
        "padding:8px 10px;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.3);"
        'font:13px/1.4 system-ui,sans-serif;max-width:22rem">'
        f"<b>{escape(sector)}</b><br>{escape(heading)} ({escape(in_all)})<br>{swatches}<br>"
        f"<small>{escape(note)}</small></div>"
    )
