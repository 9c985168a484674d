"""The JavaScript and CSS of the map pages, served by the service itself (no CDN).

Leaflet and the Folium plugins come from the PyPI package `folium-offline`, which ships the
exact files behind every CDN address Folium uses (a dict keyed by that address), so they are
installed with the package, never copied by hand. Our own atlas.js/atlas.css sit in static/.
Every element of a Folium figure is rewritten to point at `<base>/<file name>`; an address we
do not ship stops the build (a page must never reach out to the internet).
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import folium
from branca.element import Element, Figure
from folium.elements import JSCSSMixin

STATIC = Path(__file__).resolve().parent / "static"

# What a page loads, in order: (file name served under /maps/assets/, source).
# A source starting with https:// is a key of folium-offline's table; otherwise a file in static/.
LEAFLET_JS = ("leaflet.js", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")
LEAFLET_CSS = ("leaflet.css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")
ATLAS_JS = ("atlas.js", "atlas.js")
ATLAS_CSS = ("atlas.css", "atlas.css")
INVEST_JS = ("invest.js", "invest.js")      # the investor page (geoservice/maps/invest.py)
INVEST_CSS = ("invest.css", "invest.css")

# Folium plugin addresses → the file name we serve them as.
PLUGIN_FILES = {
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": "Control.FullScreen.min.js",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": "Control.FullScreen.css",
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js": "leaflet-measure.min.js",
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css": "leaflet-measure.min.css",
    # marker clustering on the overview (folium.plugins.MarkerCluster)
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": "leaflet.markercluster.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": "MarkerCluster.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": "MarkerCluster.Default.css",
    # firm layers from the vector tiles (the script of folium.plugins.VectorGridProtobuf)
    "https://unpkg.com/leaflet.vectorgrid@latest/dist/Leaflet.VectorGrid.bundled.js": "Leaflet.VectorGrid.bundled.js",
}

MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


class MissingAsset(LookupError):
    """A page element asks for a file the service does not ship."""


@lru_cache(maxsize=1)
def _offline_table() -> dict[str, str]:
    """Return folium-offline's CDN address → file content table (imported once, lazily)."""
    try:
        from offlinefolium.elements import _res
    except ImportError as exc:  # pragma: no cover - a broken install
        raise MissingAsset("the map assets need the folium-offline package (pip install folium-offline)") from exc
    return _res


def sources() -> dict[str, str]:
    """Return every asset we serve: file name → source (CDN key or static file)."""
    out = {name: src for name, src in (LEAFLET_JS, LEAFLET_CSS, ATLAS_JS, ATLAS_CSS, INVEST_JS, INVEST_CSS)}
    out.update({name: url for url, name in PLUGIN_FILES.items()})
    return out


@lru_cache(maxsize=None)
def asset_bytes(name: str) -> bytes:
    """Return the content of one served asset."""
    source = sources().get(name)
    if source is None:
        raise MissingAsset(name)
    if source.startswith("https://"):
        return _offline_table()[source].encode("utf-8")
    return (STATIC / source).read_bytes()


def media_type(name: str) -> str:
    """Return the Content-Type of an asset file."""
    return MEDIA_TYPES.get(Path(name).suffix, "application/octet-stream")


def total_bytes() -> int:
    """Return the size of all the shared assets a page may load."""
    return sum(len(asset_bytes(name)) for name in sources())


def copy_assets(target: Path) -> list[Path]:
    """Write every asset into a folder (for pages opened from disk)."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sources():
        path = target / name
        path.write_bytes(asset_bytes(name))
        written.append(path)
    return written


def data_uri(name: str) -> str:
    """Return an asset as a data: URI (a page that needs no server and no network, e.g. in Jupyter)."""
    kind = media_type(name).split(";")[0]
    return f"data:{kind};base64,{base64.b64encode(asset_bytes(name)).decode('ascii')}"


def localize(figure: Figure, base: str | Callable[[str], str]) -> None:
    """Point every JS/CSS link of a rendered figure's elements at `base` + file name (our own
    files), or at `base(file name)` when base is a function (see data_uri)."""
    href = base if callable(base) else (lambda name: base + name)
    known = {url: name for name, url in sources().items()}
    for element in walk(figure):
        if isinstance(element, folium.Map):
            element.default_js = [("leaflet", href(LEAFLET_JS[0])), ("atlas", href(ATLAS_JS[0]))]
            element.default_css = [("leaflet_css", href(LEAFLET_CSS[0])), ("atlas_css", href(ATLAS_CSS[0]))]
        elif isinstance(element, JSCSSMixin):
            element.default_js = [(n, href(_known(url, known))) for n, url in element.default_js]
            element.default_css = [(n, href(_known(url, known))) for n, url in element.default_css]


def _known(url: str, known: dict[str, str]) -> str:
    """Return the served file name for a CDN address, or stop."""
    if url not in known:
        raise MissingAsset(f"no local copy of {url}: add it to geoservice/maps/assets.py PLUGIN_FILES")
    return known[url]


def walk(element: Element):
    """Yield an element and all its descendants."""
    yield element
    for child in list(element._children.values()):
        yield from walk(child)


def clear_target(target: Path) -> None:
    """Remove a previous assets folder so stale files do not linger."""
    if target.exists():
        shutil.rmtree(target)
