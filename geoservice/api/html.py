"""HTML pages: one Jinja environment whose filters are the formatting layer (pagetext.py), the
small maps (pagemap.py), and the pages' own script and stylesheet (static/site.js, site.css).

A page: `render.html_response("x.html", request, **context)` with a template that extends
base.html, whose blocks are `title`, `head` (e.g. `{{ m.map_assets() }}`), `content` (or `main`,
inside it), `formats` (the footer's other-format links) and `scripts`. Every value goes through
the filters: `{{ row.sectors|sectors }}`, `{{ row|field("targets") }}`, `{{ "citation"|t }}` (a
label of data/pages.yaml), `{{ source|citation(id, plan) }}`, `{{ value|show }}` (anything).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import geopandas as gpd
import orjson
from fastapi import APIRouter, Request
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup
from starlette.responses import Response

from geoservice.api.errors import NotFound
from geoservice.api.pagemap import PageMaps
from geoservice.api.pagetext import Formatter, Names, bi, number
from geoservice.api.render import GPKG, XLSX, url_for
from geoservice.catalog import Collection
from geoservice.geojson import plain

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

router = APIRouter()


class Pages:
    """What the pages of one application share: names, map builder (made on the first page)."""

    def __init__(self, request: Request) -> None:
        """Build from the running service's catalog and data directory."""
        service = request.app.state.service
        self.names = Names.load(service.catalog, service.settings.data_dir)
        self.maps = PageMaps(service.settings.data_dir, self.names.styles)
        self.choices: dict[str, dict[str, list]] = {}  # collection id -> filter form values

    @classmethod
    def of(cls, request: Request) -> "Pages":
        """Return the application's pages (kept on app.state)."""
        pages = getattr(request.app.state, "pages", None)
        if pages is None:
            pages = request.app.state.pages = cls(request)
        return pages


def formatter(request: Request) -> Formatter:
    """Return the formatter of one request's page (links by the API's own cached url_for)."""
    return Formatter(
        Pages.of(request).names, lambda name, **params: url_for(request, name, **params)
    )


# Filters: `value|name(args)` calls Formatter.name(value, args) of the page being rendered.
FORMATTER_FILTERS = (
    "sector",
    "sectors",
    "kind",
    "district",
    "districts",
    "plan",
    "precision",
    "feature",
    "features",
    "money",
    "targets",
    "citation",
    "field",
    "name",
    "t",
    "distance",
    "inline",
)


def _bound(method: str):
    """Return a Jinja filter calling one formatter method of the current page."""

    @pass_context
    def apply(context, *args: Any) -> Markup:
        return getattr(context["fmt"], method)(*args)

    return apply


FORMAT_NAMES = {
    "application/geo+json": "GeoJSON",
    "application/json": "JSON",
    "text/csv": "CSV",
    "application/schema+json": "JSON Schema",
    GPKG: "GeoPackage",
    XLSX: "Excel",
}


def format_name(media_type: str) -> str:
    """Return what a person calls a media type (GeoJSON, CSV …)."""
    return FORMAT_NAMES.get(media_type.split(";")[0], media_type)


def map_data(payload: dict | None) -> Markup:
    """Return a map payload as JSON safe inside a <script> element."""
    return Markup(orjson.dumps(payload).decode().replace("<", "\\u003c"))


def _environment() -> Environment:
    """Make the one environment every page is rendered with."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update({name: _bound(name) for name in FORMATTER_FILTERS})
    env.filters["show"] = _bound("value")
    env.filters["number"] = number
    env.filters["map_data"] = map_data
    env.filters["format_name"] = format_name
    env.globals["bi"] = bi
    return env


ENVIRONMENT = _environment()


def html_response(template: str, request: Request, **context: Any) -> Response:
    """Render a page with its formatter and respond. Every page gets `request`, `fmt` (the
    formatter) and its link makers `url` and `html_url`; a page's own context comes on top."""
    fmt = formatter(request)
    page = ENVIRONMENT.get_template(template).render(
        {"request": request, "fmt": fmt, "url": fmt.url_for, "html_url": fmt.html_url, **context}
    )
    return Response(page, media_type="text/html; charset=utf-8")


@router.get("/pages/assets/{file}", name="page-assets", include_in_schema=False)
def page_asset(file: str) -> Response:
    """Serve the pages' script and stylesheet."""
    path = STATIC / file
    if file not in {p.name for p in STATIC.iterdir()}:
        raise NotFound(f"no page asset {file!r}")
    return Response(
        path.read_bytes(),
        media_type=STATIC_TYPES.get(path.suffix, "application/octet-stream"),
        headers={"Cache-Control": "public, max-age=3600"},
    )


# Columns of a features table, in this order, when a collection has them (the name comes first,
# the rest of a record is on its own page); a collection with none of them shows every column.
SUMMARY_COLUMNS = (
    "kind",
    "plan",
    "sectors",
    "districts",
    "stages",
    "amount",
    "cap",
    "jurisdiction",
    "level",
    "parent_adcode",
    "location_precision",
    "distance_m",
)
NAME_COLUMNS = ("name_zh", "name_en", "title_zh", "title_en", "name", "id")
# Fields of an items filter form that are simple filters on a property (`?kind=park`).
FORM_PROPERTIES = ("kind", "districts", "location_precision", "plan")


def records(frame: gpd.GeoDataFrame) -> list[dict]:
    """Return a frame's rows (geometry left out) with plain values: no numpy, NaN as None."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    return [{k: plain(v) for k, v in r.items()} for r in frame[columns].to_dict(orient="records")]


def table_columns(
    frame: gpd.GeoDataFrame,
    chosen: tuple[str, ...] | None,
    plan: str | None,
    fixed: set[str] = frozenset(),
) -> list[str]:
    """Return the columns a features table shows: those asked for (properties=), else the summary
    ones the frame has, else all but the name columns; never a column every row has the same value
    in by construction (the plan on a plan's own page, `fixed` by a simple filter)."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    if chosen is not None:
        return [c for c in chosen if c in columns and c != "id"]
    fixed = {*fixed, *(["plan"] if plan else [])}
    summary = [c for c in SUMMARY_COLUMNS if c in columns and c not in fixed]
    return summary or [c for c in columns if c not in NAME_COLUMNS and c not in fixed]


def form_choices(request: Request, collection: Collection) -> dict[str, list]:
    """Return the values present in a collection for each filter field it can offer (once per
    collection): sector codes, kinds, districts, location precisions, plans."""
    cache = Pages.of(request).choices
    if collection.id not in cache:
        frame = collection.frame
        out = {}
        if "sectors" in frame:
            lists = frame["sectors"].dropna().explode().dropna()  # lists of codes, one per row
            out["sectors"] = sorted(set(lists.astype(str)))
        for name in FORM_PROPERTIES:
            if name in frame and not (name == "plan" and collection.plan):
                column = frame[name].dropna()
                values = column.explode().dropna() if name == "districts" else column
                out[name] = sorted(set(values.astype(str)))
        cache[collection.id] = out
    return cache[collection.id]


def page_map(
    request: Request,
    frame: gpd.GeoDataFrame | None,
    collection_of_row: Callable[[dict], str],
    origin: tuple[float, float] | None = None,
) -> dict | None:
    """Return the small map of a page's features (CRS84 frame, or None: the origin only); each
    feature links to its page."""
    if frame is None:
        frame = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    fmt = formatter(request)
    return Pages.of(request).maps.payload(
        frame,
        lambda r: fmt.feature_url(collection_of_row(r), str(r["id"])) if "id" in r else "",
        origin,
    )
