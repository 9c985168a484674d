"""The map pages: /maps (index), /maps/{name} (one page), /maps/assets/{file} (their JS/CSS)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi import Query as Param
from starlette.responses import HTMLResponse, Response

from geoservice.api.errors import InvalidParameter, NotFound
from geoservice.api.params import ServiceDep
from geoservice.maps import assets
from geoservice.maps.basemaps import BasemapError
from geoservice.maps.registry import LANGUAGES, Atlas, UnknownMap

router = APIRouter(tags=["Maps"])

DEFAULT_BASEMAP = "osm"


def get_atlas(request: Request, service: ServiceDep) -> Atlas:
    """Return the app's atlas (built on first use, kept on app.state: pages are cached in it)."""
    atlas = getattr(request.app.state, "atlas", None)
    if atlas is None:
        key = service.settings.tianditu_key
        keys = {"tianditu": key} if key else {}
        # popups link to features under the prefix the service is served at (a fixed setting)
        atlas = Atlas(service.catalog, service.settings.data_dir, api_base=request.scope.get("root_path", ""), keys=keys)
        request.app.state.atlas = atlas
    return atlas


AtlasDep = Annotated[Atlas, Depends(get_atlas)]


def parse_basemap(
    atlas: AtlasDep,
    basemap: Annotated[str, Param(description="osm | amap | tianditu | offline (no tiles)")] = DEFAULT_BASEMAP,
) -> str:
    """Check the basemap parameter."""
    if basemap not in atlas.basemaps:
        raise InvalidParameter(f"basemap: {basemap!r} is not one of {', '.join(atlas.basemaps)}")
    return basemap


def parse_lang(lang: Annotated[str, Param(description="both | zh | en (initial language)")] = "both") -> str:
    """Check the lang parameter."""
    if lang not in LANGUAGES:
        raise InvalidParameter(f"lang: {lang!r} is not one of {', '.join(LANGUAGES)}")
    return lang


@router.get("/maps", name="maps", summary="The interactive maps", response_class=HTMLResponse)
def maps_index(request: Request, atlas: AtlasDep) -> Response:
    """List every map, with a link per basemap."""
    base = request.scope.get("root_path", "") + "/maps"
    html = atlas.index_html(lambda name, b: f"{base}/{name}?basemap={b}", list(atlas.basemaps))
    return HTMLResponse(html)


@router.get("/maps/assets/{file}", name="map-assets", summary="A script or style of the maps",
            include_in_schema=False)
def map_asset(file: str) -> Response:
    """Serve one JS/CSS file of the map pages (taken from installed packages, never a CDN)."""
    try:
        body = assets.asset_bytes(file)
    except assets.MissingAsset:
        raise NotFound(f"no map asset {file!r}") from None
    return Response(body, media_type=assets.media_type(file), headers={"Cache-Control": "public, max-age=86400"})


@router.get("/maps/{name}", name="map", summary="One interactive map", response_class=HTMLResponse)
def map_page(request: Request, name: str, atlas: AtlasDep,
             basemap: Annotated[str, Depends(parse_basemap)],
             lang: Annotated[str, Depends(parse_lang)]) -> Response:
    """Return the page of one map (the overview or a plan id), all assets from /maps/assets/."""
    root = request.scope.get("root_path", "")
    try:
        page = atlas.page(name, basemap, root + "/maps/assets/", lang, api_root=root)
    except UnknownMap as exc:
        raise NotFound(str(exc)) from None
    except BasemapError as exc:
        raise InvalidParameter(str(exc)) from None
    return HTMLResponse(page.html)
