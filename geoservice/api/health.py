"""Operations: /health (the process answers), /ready (it can serve data), /metrics (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST as METRICS_TYPE
from starlette.responses import Response

from geoservice.api import render
from geoservice.api.errors import exception_response
from geoservice.api.state import Service

router = APIRouter(tags=["Operations"])

NO_STORE = {"Cache-Control": "no-store"}  # a probe must see the state of now, never a cached one
NOT_READY_RETRY_S = 5


@router.get("/health", name="health", include_in_schema=False)
async def health() -> Response:
    """Answer 200 while the process serves requests (a liveness probe: nothing else is checked)."""
    return render.json_response({"status": "ok"}, headers=NO_STORE)


@router.get("/ready", name="ready", include_in_schema=False)
async def ready(request: Request) -> Response:
    """Answer 200 when the store can answer (its database reachable), else 503 with the reason (a
    readiness probe: take the worker out of rotation). The catalog is loaded before the app exists
    and before a server listens, so a process that answers has it."""
    service: Service = request.app.state.service
    problem = await service.store.check()
    if problem:
        return exception_response(503, "ServiceUnavailable", problem,
                                  {**NO_STORE, "Retry-After": str(NOT_READY_RETRY_S)})
    return render.json_response({"status": "ready", "collections": len(service.catalog.collections)},
                                headers=NO_STORE)


@router.get("/metrics", name="metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Return the Prometheus text exposition (every worker's values under several workers)."""
    return Response(request.app.state.metrics.exposition(), media_type=METRICS_TYPE, headers=NO_STORE)
