"""Assemble one map page with Folium: basemap, layer groups, controls and the atlas data.

Folium builds the page skeleton (the Leaflet map, tile layers, the layer control, the
fullscreen and measure plugins, the scale bar); the features themselves are drawn by our
static atlas.js from one JSON block, so that the sector filter, the language switch, the
search and the side panel of unsited elements work on the same objects. Firm layers are not
embedded: atlas.js draws them from the service's vector tiles (see firm_layer.py). On the
overview, nearby markers are clustered (Leaflet.markercluster, through Folium's MarkerCluster).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Mapping

import folium
import geopandas as gpd
import orjson
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen, MarkerCluster, MeasureControl
from folium.template import Template

from geoservice.maps import assets, firm_layer
from geoservice.maps.basemaps import Basemap
from geoservice.maps.display import boundaries_geojson, display_geometry
from geoservice.maps.popups import PopupContext, bi, popup_html

PAGE_BYTES = "__PAGE_BYTES__"
PAGE_BYTES_MARK = f'"{PAGE_BYTES}"'  # as it appears in the page's JSON


@dataclass(frozen=True)
class MapSpec:
    """What one map shows: its name, title, plans and boundary layers."""

    name: str
    title_zh: str
    title_en: str
    plans: tuple[str, ...]
    boundary_levels: tuple[str, ...]
    regions: tuple[str, ...] | None
    tolerance_deg: float = 0.002
    cluster: tuple[int, int] | None = None  # (max radius px, no clustering from this zoom)


@dataclass(frozen=True)
class PageInputs:
    """The data a page is built from, already selected for its map."""

    spec: MapSpec
    features: gpd.GeoDataFrame
    boundaries: gpd.GeoDataFrame
    popups: PopupContext
    firms: tuple[firm_layer.FirmLayer, ...] = ()
    api_root: str = ""  # where the page finds the API (its tiles): "" for the serving host


class AtlasData(MacroElement):
    """The script that hands the page's data and layer groups to atlas.js."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        Atlas.init({{ this._parent.get_name() }}, {{ this.config_js }}, {
          boundaries: { {% for k, g in this.boundary_groups.items() %}{{ k|tojson }}: {{ g.get_name() }},{% endfor %} },
          plans: { {% for k, g in this.plan_groups.items() %}{{ k|tojson }}: {{ g.get_name() }},{% endfor %} },
          kinds: { {% for k, g in this.kind_groups.items() %}{{ k|tojson }}: {{ g.get_name() }},{% endfor %} },
          firms: { {% for k, g in this.firm_groups.items() %}{{ k|tojson }}: {{ g.get_name() }},{% endfor %} },
          clusters: { {% for k, g in this.cluster_groups.items() %}{{ k|tojson }}: {{ g.get_name() }},{% endfor %} }
        });
        {% endmacro %}
        """
    )

    def __init__(self, config: dict, boundary_groups: dict, plan_groups: dict, kind_groups: dict,
                 firm_groups: dict, cluster_groups: dict) -> None:
        """Keep the page's JSON and the Folium groups atlas.js fills and toggles."""
        super().__init__()
        self._name = "AtlasData"
        self.config_js = script_json(config)
        self.boundary_groups = boundary_groups
        self.plan_groups = plan_groups
        self.kind_groups = kind_groups
        self.firm_groups = firm_groups
        self.cluster_groups = cluster_groups


class VectorGridScript(JSCSSMixin, Element):
    """Loads Leaflet.VectorGrid (the script of Folium's VectorGridProtobuf, served locally)."""

    default_js = [("vectorGrid", "https://unpkg.com/leaflet.vectorgrid@latest/dist/Leaflet.VectorGrid.bundled.js")]


def script_json(value: Any) -> str:
    """Serialize a value as JSON that is safe inside a <script> element."""
    text = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY, default=_plain).decode("utf-8")
    # only "</" (and "<!--") can end or confuse a script element; "\/" is a valid JSON escape
    text = text.replace("</", "<\\/").replace("<!--", "\\u003c!--")
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _plain(value: Any) -> Any:
    """Turn numpy scalars and other simple objects into JSON values."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def swatch(colour: str) -> str:
    """Return a small coloured square for the layer control."""
    return f'<i class="sw" style="--c:{colour}"></i>'


def feature_collection(frame: gpd.GeoDataFrame, inputs: PageInputs, basemap: Basemap) -> dict:
    """Return the plan features to draw, with their popups, sited ones first in drawing order."""
    styles = inputs.popups.styles
    rows = frame.drop(columns="geometry").to_dict("records")
    order = [(styles.kind(r["kind"]).get("order", 99), -(g.area if g is not None else 0), i)
             for i, (r, g) in enumerate(zip(rows, frame.geometry))]
    features = []
    for _, _, i in sorted(order):
        row, geom = rows[i], frame.geometry.iloc[i]
        features.append({
            "type": "Feature",
            "id": row["id"],
            "properties": {
                "id": row["id"], "plan": row["plan"], "kind": row["kind"],
                "sectors": list(row["sectors"]), "precision": row["location_precision"],
                "basis": row.get("geometry_basis"), "name_zh": row["name_zh"], "name_en": row["name_en"],
                "popup": popup_html(row, inputs.popups),
            },
            "geometry": display_geometry(geom, basemap, inputs.spec.tolerance_deg),
        })
    return {"type": "FeatureCollection", "features": features}


def sector_options(frame: gpd.GeoDataFrame, inputs: PageInputs) -> list[dict]:
    """Return the sectors the filter offers: those on the map and their parents, with counts."""
    vocab, styles = inputs.popups.sectors, inputs.popups.styles
    present = {code for codes in frame["sectors"] for code in codes}
    offered = set(present)
    for code in present:
        term = vocab.terms.get(code)
        while term is not None and term.parent:
            offered.add(term.parent)
            term = vocab.terms.get(term.parent)
    codes = [c for c in vocab.terms if c in offered] + sorted(offered - set(vocab.terms))
    out = []
    for code in codes:
        term = vocab.terms.get(code)
        covers = sorted(vocab.expand(code) & present) if term else [code]
        count = int(sum(bool(set(s) & set(covers)) for s in frame["sectors"]))
        out.append({"code": code, "name_zh": term.name_zh if term else code,
                    "name_en": term.name_en if term else code, "scheme": term.scheme if term else "",
                    "colour": styles.sector_colour(code, vocab), "covers": covers, "count": count})
    return out


def page_config(inputs: PageInputs, basemap: Basemap, lang: str) -> dict:
    """Return the JSON block atlas.js draws the page from."""
    spec, ctx = inputs.spec, inputs.popups
    styles = ctx.styles
    frame = inputs.features
    kinds_present = [k for k in ctx.kinds.terms if k in set(frame["kind"])]
    sited = frame[frame.geometry.notna()]
    # a plan map opens on the plan's own region (a firm in another city must not zoom it out)
    region = sited[sited["kind"] == "region"]
    focus = region if len(spec.plans) == 1 and len(region) else sited
    minx, miny, maxx, maxy = basemap.shift_frame(focus).total_bounds if len(focus) else (73, 18, 135, 54)
    return {
        "name": spec.name,
        "title": {"zh": spec.title_zh, "en": spec.title_en},
        "lang": lang,
        "basemap": {"name": basemap.name, "tileless": basemap.tileless, "datum": basemap.datum,
                    "label_zh": basemap.label_zh, "label_en": basemap.label_en},
        "bounds": [[miny, minx], [maxy, maxx]],
        "features": feature_collection(frame, inputs, basemap),
        "boundaries": boundaries_geojson(inputs.boundaries, basemap, spec.tolerance_deg),
        "kinds": {k: {**styles.kind(k), "name_zh": ctx.kinds.terms[k].name_zh,
                      "name_en": ctx.kinds.terms[k].name_en} for k in kinds_present},
        "precision": dict(styles.precision),
        "host_districts_border": styles.host_districts_border,
        "boundary_styles": dict(styles.boundaries),
        "sectors": sector_options(frame, inputs),
        "plans": {p: {"zh": ctx.plan_titles[p][0], "en": ctx.plan_titles[p][1]} for p in spec.plans},
        "firms": firms_config(inputs, basemap),
        "ui": dict(styles.ui),
        "page": {"bytes": PAGE_BYTES, "assets_bytes": assets.total_bytes()},
    }


def firms_config(inputs: PageInputs, basemap: Basemap) -> dict:
    """Return the firm layers' part of the page's JSON ({"layers": []} when none is drawn;
    "hidden" says layers exist but not on this basemap's datum)."""
    if not inputs.firms:
        return {"layers": []}
    if not firm_layer.drawable_on(basemap):
        return {"layers": [], "hidden": True}
    ctx = inputs.popups
    return firm_layer.page_config(inputs.firms, set(inputs.features["id"]), inputs.api_root, ctx.styles, ctx.sectors)


def point_clusters(spec: MapSpec, plan_groups: dict) -> dict:
    """Return a marker cluster inside each plan's group where the map clusters (the plan's point
    markers go there; its polygons and lines stay in the plan group, and toggling the plan in
    the layer control toggles both)."""
    if spec.cluster is None:
        return {}
    radius, plain_from = spec.cluster
    return {p: MarkerCluster(control=False, maxClusterRadius=radius, disableClusteringAtZoom=plain_from,
                             showCoverageOnHover=False, spiderfyOnMaxZoom=True).add_to(group)
            for p, group in plan_groups.items()}


def build_map(inputs: PageInputs, basemap: Basemap, key: str = "", lang: str = "both") -> folium.Map:
    """Build the Folium map of one page."""
    spec, ctx = inputs.spec, inputs.popups
    styles = ctx.styles
    fmap = folium.Map(location=None, tiles=None, control_scale=True, zoom_control=False,
                      max_zoom=basemap.max_zoom, min_zoom=3, prefer_canvas=False)
    fmap.options.update(max_zoom=basemap.max_zoom, min_zoom=3)  # Folium gives them to tile layers only;
    # the map needs its own (marker clusters ask the map, and a tile-less page has no tile layer)
    root = fmap.get_root()
    root.title = f"{spec.title_zh} · {spec.title_en}"
    # no favicon request (a 404 in the console) and a proper viewport on phones
    root.header.add_child(Element('<link rel="icon" href="data:,">'), name="favicon")
    for i, layer in enumerate(basemap.tile_urls(key)):
        folium.TileLayer(
            tiles=layer["url"], attr=layer.get("attribution") or basemap.label_en,
            name=bi(basemap.label_zh, basemap.label_en), overlay=i > 0, control=i == 0,
            max_zoom=basemap.max_zoom, subdomains=layer.get("subdomains", "abc"),
        ).add_to(fmap)
    boundary_groups = {}
    for level in spec.boundary_levels:
        if (inputs.boundaries["level"] == level).any():
            style = styles.boundaries[level]
            name = swatch(style["colour"]) + bi(style["label_zh"], style["label_en"])
            boundary_groups[level] = folium.FeatureGroup(name=name, show=True).add_to(fmap)
    plan_groups = {
        p: folium.FeatureGroup(name=swatch("#212529") + bi(f"规划：{ctx.plan_titles[p][0]}", f"Plan: {ctx.plan_titles[p][1]}"),
                               show=True).add_to(fmap)
        for p in spec.plans
    }
    kinds_present = [k for k in ctx.kinds.terms if k in set(inputs.features["kind"])
                     and inputs.features.loc[inputs.features["kind"] == k].geometry.notna().any()]
    kind_groups = {
        k: folium.FeatureGroup(
            name=swatch(styles.kind(k)["colour"]) + bi(ctx.kinds.terms[k].name_zh, ctx.kinds.terms[k].name_en),
            show=True).add_to(fmap)
        for k in kinds_present
    }
    firm_groups = {}
    if inputs.firms and firm_layer.drawable_on(basemap):
        fmap.add_child(VectorGridScript(), name="vector_grid")
        label = styles.firms
        firm_groups = {layer.id: folium.FeatureGroup(
            name=swatch("#868e96") + bi(f"{label.get('label_zh', '企业')}：{layer.title}",
                                        f"{label.get('label_en', 'Firms')}: {layer.title}"), show=True).add_to(fmap)
            for layer in inputs.firms}
    AtlasData(page_config(inputs, basemap, lang), boundary_groups, plan_groups, kind_groups, firm_groups,
              point_clusters(spec, plan_groups)).add_to(fmap)
    Fullscreen(position="topleft", title="全屏 Full screen", title_cancel="退出全屏 Exit full screen").add_to(fmap)
    MeasureControl(position="topleft", primary_length_unit="kilometers", secondary_length_unit="meters",
                   primary_area_unit="sqkilometers", secondary_area_unit="hectares").add_to(fmap)
    folium.LayerControl(position="topright", collapsed=True).add_to(fmap)
    return fmap


def render_page(fmap: folium.Map, asset_base: str | Callable[[str], str]) -> str:
    """Render the page with every asset taken from `asset_base`, and state its own size."""
    figure = fmap.get_root()
    assets.localize(figure, asset_base)
    _number_elements(figure)
    html = figure.render()
    size = len(html.encode("utf-8"))
    for _ in range(3):  # the stated number changes the size it states: iterate to a fixed point
        page = html.replace(PAGE_BYTES_MARK, str(size))
        new_size = len(page.encode("utf-8"))
        if new_size == size:
            break
        size = new_size
    return page


def self_contained(fmap: folium.Map) -> folium.Map:
    """Make a map that displays with no server and no network (Jupyter shows folium.Map inline):
    every script and style embedded as a data: URI, and the page's size stated."""
    size = len(render_page(fmap, assets.data_uri).encode("utf-8"))
    for element in assets.walk(fmap.get_root()):
        if isinstance(element, AtlasData):
            element.config_js = element.config_js.replace(PAGE_BYTES_MARK, str(size))
    return fmap


def _number_elements(root) -> None:
    """Replace branca's random element ids by their order in the tree, so a rebuild of unchanged
    data gives byte-identical pages (the committed exports do not churn)."""
    stack, number = [root], 0
    while stack:
        element = stack.pop()
        element._id = f"{number:08d}"
        number += 1
        stack.extend(reversed(list(element._children.values())))


def plan_titles(plans: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Return each plan's Chinese and English title."""
    return {pid: (p.plan.title_zh, p.plan.title_en) for pid, p in plans.items()}
