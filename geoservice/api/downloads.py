"""Downloads for desktop tools: items, search and lookup results as CSV, GeoPackage or Excel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
from starlette.responses import Response

from geoservice import crs as crs_module
from geoservice import formats

FORMATS = tuple(formats.EXTENSIONS)  # csv, gpkg, xlsx
# OpenAPI content of a response that may also be a download
CONTENT = {formats.CSV: {}, formats.GPKG: {}, formats.XLSX: {}}
DESCRIPTION = (
    "csv: UTF-8 with BOM (Excel), WKT geometry; gpkg: GeoPackage; "
    "xlsx: Excel, with a sheet of field titles"
)


def in_crs(frame: gpd.GeoDataFrame, info: crs_module.CRSInfo) -> gpd.GeoDataFrame:
    """Return CRS84 features in an output CRS for a file: x east, y north whatever the CRS's axis
    order (files state their CRS; GeoPackage and Excel readers expect east first)."""
    if info.uri == crs_module.CRS84:
        return frame
    if info.epsg is not None:
        return frame.set_crs(4326, allow_override=True).to_crs(info.epsg)
    # GCJ-02, BD-09: lon/lat, and no EPSG code for a file to state
    return frame.set_geometry(crs_module.from_crs84(frame.geometry.values, info), crs=None)


def download_response(
    frame: gpd.GeoDataFrame,
    fmt: str,
    name: str,
    info: crs_module.CRSInfo,
    fields: Mapping[str, Mapping[str, Any]] | None = None,
) -> Response:
    """Render CRS84 features as a downloadable file named <name>.<fmt>."""
    out = in_crs(frame, info)
    if fmt == "csv":
        body, media = formats.to_csv(out), f"{formats.CSV}; charset=utf-8"
    elif fmt == "gpkg":
        body, media = formats.to_gpkg(out, name), formats.GPKG
    elif fmt == "xlsx":
        body, media = formats.to_xlsx(out, fields, name), formats.XLSX
    else:  # pragma: no cover - the parameter parsers offer only FORMATS
        raise ValueError(f"no download format {fmt!r}")
    headers = {
        "Content-Disposition": formats.content_disposition(name, fmt),
        "Content-Crs": f"<{info.uri}>",
    }
    return Response(body, media_type=media, headers=headers)
