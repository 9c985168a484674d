"""Bulk assignment over HTTP: upload a firm list (CSV or XLSX with lon/lat, or GeoJSON), get it
back with the district, city, province and plan elements each firm falls in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Query as Param
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from geoservice import firms, tables
from geoservice.api import render
from geoservice.api.errors import InvalidParameter, PayloadTooLarge
from geoservice.api.params import ServiceDep
from geoservice.chinese_datums import TO_WGS84

router = APIRouter(tags=["Firms"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_TYPES = ("application/geo+json", "application/json")


async def read_body(request: Request, limit: int) -> bytes:
    """Read the body, refusing it (413) before reading when Content-Length says it is too large,
    and as soon as the bytes received pass the limit when there is no Content-Length (chunked)."""
    too_large = PayloadTooLarge(f"the upload is larger than the limit of {limit:,} bytes; split the list")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/firms/assign", name="firms-assign", summary="Assign firms to districts and plan elements",
             response_class=Response,
             responses={200: {"content": {render.CSV: {}, render.GEOJSON: {}}}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string"}},
                 XLSX: {"schema": {"type": "string", "format": "binary"}},
                 "application/geo+json": {"schema": {"type": "object"}}}}})
async def assign(
    request: Request, service: ServiceDep,
    datum: Annotated[str, Param(description=f"Datum of the coordinates: {', '.join(TO_WGS84)}")] = "WGS84",
) -> Response:
    """Return the uploaded firms (CSV or XLSX → CSV for Excel, GeoJSON → GeoJSON) with their
    assignments; every bad row is reported (400) with its line and field, none is dropped."""
    if datum not in TO_WGS84:
        raise InvalidParameter(f"datum: {datum!r} is not one of {list(TO_WGS84)}")
    settings = service.settings
    body = await read_body(request, settings.upload_max_bytes)
    media = request.headers.get("content-type", "text/csv").split(";")[0].strip().lower()
    as_table = media not in JSON_TYPES or body.startswith(tables.XLSX_MAGIC)
    reader = firms.read_table if as_table else firms.read_geojson
    try:
        frame = await run_in_threadpool(reader, body, datum, settings.upload_max_rows)
    except firms.FirmDataError as exc:
        raise InvalidParameter(str(exc)) from None
    assigned = await run_in_threadpool(firms.assign, frame, service.catalog)
    if as_table:
        return Response(await run_in_threadpool(firms.to_csv, assigned), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="firms-assigned.csv"'})
    from geoservice.geojson import feature_collection

    return render.json_response(feature_collection(assigned, numberReturned=len(assigned)), render.GEOJSON)
