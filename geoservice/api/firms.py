"""Bulk assignment over HTTP: upload a firm list (CSV with lon/lat, or GeoJSON), get it back with
the district, city, province and plan elements each firm falls in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Query as Param
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from geoservice import firms
from geoservice.api import render
from geoservice.api.errors import InvalidParameter
from geoservice.api.params import ServiceDep
from geoservice.chinese_datums import TO_WGS84

router = APIRouter(tags=["Firms"])

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
CSV_TYPES = ("text/csv", "application/csv", "text/plain")


@router.post("/firms/assign", name="firms-assign", summary="Assign firms to districts and plan elements",
             response_class=Response,
             responses={200: {"content": {render.CSV: {}, render.GEOJSON: {}}}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string"}},
                 "application/geo+json": {"schema": {"type": "object"}}}}})
async def assign(
    request: Request, service: ServiceDep,
    datum: Annotated[str, Param(description=f"Datum of the coordinates: {', '.join(TO_WGS84)}")] = "WGS84",
) -> Response:
    """Return the uploaded firms (CSV → CSV, GeoJSON → GeoJSON) with their assignments; every bad
    row is reported (400) with its row number and field, none is dropped."""
    if datum not in TO_WGS84:
        raise InvalidParameter(f"datum: {datum!r} is not one of {list(TO_WGS84)}")
    body = await request.body()
    if len(body) > MAX_UPLOAD_BYTES:
        raise InvalidParameter(f"the upload is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    media = request.headers.get("content-type", "text/csv").split(";")[0].strip().lower()
    as_csv = media in CSV_TYPES
    reader = firms.read_csv if as_csv else firms.read_geojson
    try:
        frame = await run_in_threadpool(reader, body, datum)
    except firms.FirmDataError as exc:
        raise InvalidParameter(str(exc)) from None
    assigned = await run_in_threadpool(firms.assign, frame, service.catalog)
    if as_csv:
        return Response(firms.to_csv(assigned), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'inline; filename="firms-assigned.csv"'})
    from geoservice.geojson import feature_collection

    return render.json_response(feature_collection(assigned, numberReturned=len(assigned)), render.GEOJSON)
