"""Errors: domain exceptions mapped to HTTP statuses in one table, rendered as OGC exceptions."""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from geoservice.crs import UnknownCRS
from geoservice.filters import FilterError
from geoservice.query import QueryError
from geoservice.store import StoreUnavailable
from geoservice.vocab import UnknownTerm

log = logging.getLogger("geoservice")


class NotFound(LookupError):
    """No such collection, feature or page."""


class InvalidParameter(ValueError):
    """A query parameter that cannot be parsed or is out of range."""


class NotAcceptable(ValueError):
    """A requested output format the resource does not offer."""


class PayloadTooLarge(ValueError):
    """A request body over the service's limit (refused before it is read whole)."""


# One table: exception type → (HTTP status, OGC exception code).
STATUS = {
    NotFound: (404, "NotFound"),
    InvalidParameter: (400, "InvalidParameterValue"),
    QueryError: (400, "InvalidParameterValue"),
    FilterError: (400, "InvalidFilter"),
    UnknownCRS: (400, "InvalidParameterValue"),
    UnknownTerm: (400, "InvalidParameterValue"),
    NotAcceptable: (406, "NotAcceptable"),
    PayloadTooLarge: (413, "PayloadTooLarge"),
    StoreUnavailable: (503, "ServiceUnavailable"),  # with Retry-After (the store's retry_after_s)
}


def exception_response(status: int, code: str, description: str, headers: dict | None = None) -> Response:
    """Render the OGC API exception JSON."""
    body = orjson.dumps({"code": code, "description": description, "status": status})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def add_exception_handlers(app: FastAPI) -> None:
    """Register one handler per domain error, plus FastAPI's own validation and HTTP errors."""
    for exc_type, (status, code) in STATUS.items():
        def handler(request: Request, exc: Exception, status: int = status, code: str = code) -> Response:
            retry = getattr(exc, "retry_after_s", None)
            return exception_response(status, code, str(exc), {"Retry-After": str(retry)} if retry else None)

        app.add_exception_handler(exc_type, handler)

    def validation(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"] if p not in ("query", "path"))
            parts.append(f"{where}: {err['msg']}")
        return exception_response(400, "InvalidParameterValue", "; ".join(parts))

    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        response = exception_response(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})  # e.g. Allow on a 405 (RFC 9110 §15.5.6)
        return response

    def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url)
        return exception_response(500, "ServerError", "internal error; it has been logged")

    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
