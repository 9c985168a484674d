"""Firm layers on the map pages: which collections are firm layers, how many firms each plan
polygon holds, and what atlas.js needs to draw them from the service's own vector tiles.

A firm layer is any collection of points that carries `sectors` and is no plan layer (a firm
list served with --collections, or `geoservice firms synth`). The page does not embed the
firms: atlas.js reads the collection's TileJSON and draws its Mapbox Vector Tiles with
Leaflet.VectorGrid, so a million firms cost the page nothing until the user zooms in.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
import shapely

from geoservice.catalog import Catalog, Collection
from geoservice.chinese_datums import FROM_WGS84
from geoservice.firms import containing
from geoservice.maps.basemaps import Basemap
from geoservice.maps.styles import Styles
from geoservice.store.tiles import TMS_ID
from geoservice.vocab import Vocabulary

POLYGONS = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class FirmLayer:
    """One firm collection and the number of its firms inside each plan polygon (by feature id)."""

    id: str
    title: str
    count: int
    zones: Mapping[str, int]


def firm_collections(catalog: Catalog) -> list[Collection]:
    """Return the collections that are firm layers: points with sectors, not made from a plan."""
    plan_layers = {c.id for c in catalog.plan_collections()}
    return [c for c in catalog.collections.values()
            if c.id not in plan_layers and "sectors" in c.frame.columns and c.geometry_types == ("Point",)]


def zone_counts(catalog: Catalog, firms: Collection) -> dict[str, int]:
    """Count the firms inside every polygon of every plan (exact geometries, vectorised)."""
    points = firms.frame.geometry.values
    x, y = shapely.get_x(points), shapely.get_y(points)
    out: dict[str, int] = {}
    for plan in catalog.plan_collections():
        polygons = plan.frame[plan.frame.geometry.geom_type.isin(POLYGONS)]
        _, owners = containing(np.asarray(polygons.geometry.values, dtype=object), x, y)
        out.update(zip(polygons["id"], np.bincount(owners, minlength=len(polygons)).tolist()))
    return out


def firm_layers(catalog: Catalog) -> tuple[FirmLayer, ...]:
    """Return every firm layer of the catalog with its counts per plan polygon."""
    return tuple(FirmLayer(c.id, c.title, len(c.frame), MappingProxyType(zone_counts(catalog, c)))
                 for c in firm_collections(catalog))


def drawable_on(basemap: Basemap) -> bool:
    """Whether the WGS84 tiles sit right on the basemap (not on a GCJ-02/BD-09 one)."""
    return FROM_WGS84.get(basemap.datum) is None


def page_config(layers: tuple[FirmLayer, ...], feature_ids: set[str], api_root: str,
                styles: Styles, vocab: Vocabulary) -> dict:
    """Return what atlas.js needs: per layer its TileJSON address, style and the counts of the
    page's polygons; and a name and colour for every sector code (a firm may have any)."""
    firms = styles.firms
    return {
        "layers": [{
            "id": layer.id, "title": layer.title, "count": layer.count,
            "tilejson": f"{api_root}/collections/{layer.id}/tiles/{TMS_ID}",
            "zones": {fid: n for fid, n in layer.zones.items() if fid in feature_ids},
        } for layer in layers],
        "min_zoom": int(firms.get("min_zoom", 8)), "radius": float(firms.get("radius", 3)),
        "label": {"zh": firms.get("label_zh", "企业"), "en": firms.get("label_en", "Firms")},
        "sectors": {code: {"zh": t.name_zh, "en": t.name_en, "colour": styles.sector_colour(code, vocab)}
                    for code, t in vocab.terms.items()},
    }
