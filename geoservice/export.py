"""Write the catalog for other tools: one RFC 7946 GeoJSON file per collection, or one GeoPackage
with every layer and its QGIS style."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import shapely

from geoservice.catalog import BOUNDARIES_ID, Catalog, Collection
from geoservice.formats import Layer, write_gpkg
from geoservice.geojson import feature_collection
from geoservice.maps.qml import boundaries_qml, kinds_qml
from geoservice.maps.styles import Styles

# shapely type ids of each geometry family (a GeoPackage layer QGIS styles holds one family)
FAMILIES = {"point": (0, 4), "line": (1, 5), "polygon": (3, 6)}
LAYER_SUFFIX = {"point": "points", "line": "lines", "polygon": "areas"}


def export_catalog(catalog: Catalog, out_dir: Path) -> dict[str, int]:
    """Write <out_dir>/<collection id>.geojson for every collection; return feature counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for c in catalog.collections.values():
        body = feature_collection(c.frame)
        (out_dir / f"{c.id}.geojson").write_bytes(orjson.dumps(body) + b"\n")
        counts[c.id] = len(c.frame)
    return counts


def geopackage_layers(catalog: Catalog, styles: Styles) -> list[Layer]:
    """Return the layers of the catalog's GeoPackage: each plan split by geometry family
    (<plan>_points, <plan>_lines, <plan>_areas, styled by kind; <plan>_unsited, a table);
    the boundaries styled by level; collections without geometry (incentives) as tables."""
    layers = []
    for collection in catalog.collections.values():
        frame = collection.frame
        if frame.geometry.isna().all():
            layers.append(Layer(collection.id, frame, None, collection.title))
        elif collection.id == BOUNDARIES_ID:
            qml = boundaries_qml(styles, frame["level"])
            layers.append(Layer(collection.id, frame, qml, collection.title))
        elif "kind" in frame.columns:
            layers += _plan_layers(collection, styles, catalog)
        else:
            layers.append(Layer(collection.id, frame, None, collection.title))
    return layers


def _plan_layers(collection: Collection, styles: Styles, catalog: Catalog) -> list[Layer]:
    """Split a plan collection into one layer per geometry family, styled by kind, and a table
    of the elements the plan gives no site (<plan>_unsited: nothing to draw, listed plainly)."""
    frame = collection.frame
    types = shapely.get_type_id(frame.geometry.values)  # -1: no geometry
    out = []
    for family, ids in FAMILIES.items():
        rows = frame[np.isin(types, ids)]
        if len(rows):
            qml = kinds_qml(styles, catalog.kinds, rows["kind"], family)
            name = LAYER_SUFFIX[family]
            out.append(Layer(f"{collection.id}_{name}", rows, qml, f"{collection.title} ({name})"))
    unsited = frame[types == -1]
    if len(unsited):
        out.append(Layer(f"{collection.id}_unsited", unsited, None,
                         f"{collection.title}: elements the plan gives no site"))
    return out


def export_geopackage(catalog: Catalog, data_dir: Path, path: Path) -> dict[str, int]:
    """Write every layer, with its QGIS style, into one GeoPackage; return rows per layer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    layers = geopackage_layers(catalog, Styles.load(data_dir))
    write_gpkg(path, layers)
    return {layer.name: len(layer.frame) for layer in layers}
