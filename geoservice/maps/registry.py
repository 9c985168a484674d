"""The maps there are (one per plan, plus the overview) and building their pages, cached."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from threading import Lock

import pandas as pd

from geoservice.catalog import Catalog
from geoservice.maps import assets, firm_layer
from geoservice.maps.basemaps import Basemap, BasemapError, load_basemaps
from geoservice.maps.builder import MapSpec, PageInputs, build_map, plan_titles, render_page
from geoservice.maps.display import boundary_frame
from geoservice.maps.invest import INVEST, TITLE_EN, TITLE_ZH, invest_page
from geoservice.maps.popups import PopupContext
from geoservice.maps.styles import Styles

OVERVIEW = "overview"
# The overview page must open quickly on a phone: its HTML plus the shared scripts and styles
# stay under 2 MB as files (opened from disk) and under 500 kB as served (gzip), ~1 s on 4G.
OVERVIEW_BUDGET_BYTES = 2_000_000
OVERVIEW_BUDGET_GZIP_BYTES = 500_000
LANGUAGES = ("both", "zh", "en")


class UnknownMap(LookupError):
    """No map of that name."""


@dataclass(frozen=True)
class BuiltPage:
    """One rendered page and what it cost."""

    name: str
    basemap: str
    html: str
    seconds: float

    @property
    def bytes(self) -> int:
        """Return the size of the page's HTML in bytes."""
        return len(self.html.encode("utf-8"))


@dataclass
class Atlas:
    """Every map of a catalog; pages built on first request and kept."""

    catalog: Catalog
    data_dir: Path
    api_base: str = ""
    keys: dict[str, str] = field(default_factory=dict)
    _pages: dict = field(default_factory=dict, repr=False)
    _firms: tuple | None = field(default=None, repr=False)
    _lock: Lock = field(default_factory=Lock, repr=False)

    def __post_init__(self) -> None:
        """Read the styles and basemaps once."""
        self.styles = Styles.load(self.data_dir)
        self.basemaps = load_basemaps(self.data_dir)

    def specs(self) -> dict[str, MapSpec]:
        """Return the maps: the overview first, then one per plan."""
        plans = [c.plan for c in self.catalog.plan_collections() if c.plan in self.catalog.plans]
        ov = self.styles.overview
        cluster = ov.get("cluster")
        out = {OVERVIEW: MapSpec(OVERVIEW, ov["title_zh"], ov["title_en"], tuple(plans),
                                 tuple(ov["boundary_levels"]), None,
                                 float(ov.get("simplify_deg", 0.002)),
                                 (int(cluster["max_radius"]), int(cluster["disable_at_zoom"])) if cluster else None)}
        levels = tuple(self.styles.plan_maps["boundary_levels"])
        for pid in plans:
            header = self.catalog.plans[pid].plan
            out[pid] = MapSpec(pid, header.title_zh, header.title_en, (pid,), levels, (header.region,),
                               float(self.styles.plan_maps.get("simplify_deg", 0.002)))
        return out

    def basemap(self, name: str) -> Basemap:
        """Return a basemap by name, or raise BasemapError."""
        if name not in self.basemaps:
            raise BasemapError(f"unknown basemap {name!r}; one of {', '.join(self.basemaps)}")
        return self.basemaps[name]

    def firm_layers(self) -> tuple[firm_layer.FirmLayer, ...]:
        """Return the catalog's firm layers with their counts per plan polygon (counted once)."""
        if self._firms is None:
            self._firms = firm_layer.firm_layers(self.catalog)
        return self._firms

    def inputs(self, spec: MapSpec, api_root: str | None = None) -> PageInputs:
        """Select the features and boundaries of one map (api_root: where its tiles are served)."""
        frames = [self.catalog[pid].frame for pid in spec.plans]
        features = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        ctx = PopupContext(self.styles, self.catalog.sectors, self.catalog.kinds, self.catalog.boundaries,
                           plan_titles(self.catalog.plans), self.api_base)
        bounds = boundary_frame(self.data_dir, spec.boundary_levels, spec.regions)
        return PageInputs(spec, features, bounds, ctx, self.firm_layers(),
                          self.api_base if api_root is None else api_root)

    def names(self) -> list[str]:
        """Return every page name: the maps of specs(), then the investor page."""
        return [*self.specs(), INVEST]

    def page(self, name: str, basemap: str, asset_base: str, lang: str = "both",
             api_root: str | None = None) -> BuiltPage:
        """Return one page, built once per (map, basemap, asset base, language, API root)."""
        specs = self.specs()
        if name not in specs and name != INVEST:
            raise UnknownMap(f"no map {name!r}; one of {', '.join(self.names())}")
        base = self.basemap(basemap)
        key = (name, basemap, asset_base, lang, api_root)
        with self._lock:
            if key not in self._pages:
                start = time.perf_counter()
                if name == INVEST:
                    html = invest_page(self.catalog, self.data_dir, base, asset_base, self.api_base, lang,
                                       self.keys.get(basemap, ""))
                else:
                    fmap = build_map(self.inputs(specs[name], api_root), base, self.keys.get(basemap, ""), lang)
                    html = render_page(fmap, asset_base)
                self._pages[key] = BuiltPage(name, basemap, html, time.perf_counter() - start)
            return self._pages[key]

    def index_html(self, link: Callable[[str, str], str], basemaps: list[str]) -> str:
        """Return the page listing every map, with a link per basemap (link(name, basemap) → URL)."""
        rows = []
        titles = [(name, spec.title_zh, spec.title_en) for name, spec in self.specs().items()]
        for name, title_zh, title_en in [*titles, (INVEST, TITLE_ZH, TITLE_EN)]:
            cells = " · ".join(f'<a href="{escape(link(name, b))}">{escape(self.basemaps[b].label_en)}</a>'
                               for b in basemaps)
            rows.append(f"<li><strong>{escape(title_zh)}</strong><br>{escape(title_en)}"
                        f"<br><small>{cells}</small></li>")
        return (
            '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>地图 · Maps — geoservice</title>"
            "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}"
            "li{margin:0 0 1rem}</style></head><body>"
            "<h1>产业布局地图 · Maps of the plans</h1><ul>" + "".join(rows) + "</ul>"
            f"<p><small>Scripts and styles are served locally ({assets.total_bytes():,} bytes shared by all pages); "
            "the offline basemap draws no tiles.</small></p></body></html>"
        )


def write_maps(atlas: Atlas, out: Path, basemap: str) -> list[BuiltPage]:
    """Write every map as a standalone page beside an assets/ folder (opens from disk)."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / "assets"
    assets.clear_target(target)
    assets.copy_assets(target)
    pages = []
    for name in atlas.names():
        page = atlas.page(name, basemap, "assets/")
        (out / f"{name}.html").write_text(page.html, encoding="utf-8")
        pages.append(page)
    (out / "index.html").write_text(atlas.index_html(lambda n, b: f"{n}.html", [basemap]), encoding="utf-8")
    return pages
