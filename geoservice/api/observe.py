"""What the service tells its operators: Prometheus metrics and an optional JSON access log.

Metrics (prometheus_client): requests by route template, method and status; request latency and
store call time as histograms; outcomes of the HTTP cache middleware. Under several worker
processes, prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by
geoservice.serving before any worker starts) sums every worker's values in each /metrics answer.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import time
from typing import Any, Callable

import orjson
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOG = logging.getLogger("geoservice.access")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STORE_OPERATIONS = ("query", "get", "feature_positions", "nearest", "covering", "tile", "check")
UNMATCHED = "(unmatched)"  # one label for every path no route matched: label values stay bounded


class Metrics:
    """The metrics of one application (its own registry: tests build many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("geoservice_requests", "HTTP requests by route template, method and status",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("geoservice_request_duration_seconds", "Time from request to last byte",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.store_time = Histogram("geoservice_store_seconds", "Time of store calls (queries, tiles, lookups)",
                                    ["operation"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.http_cache = Counter("geoservice_http_cache", "HTTP cache middleware: 304 answers, gzip LRU hits and misses",
                                  ["outcome"], registry=self.registry)

    def exposition(self) -> bytes:
        """Return the Prometheus text format: every worker's values in multiprocess mode, else this process's."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)

    def count_cache(self, outcome: str) -> None:
        """Count one outcome of the HTTP cache middleware."""
        self.http_cache.labels(outcome).inc()

    def time_store(self, store: Any) -> Any:
        """Time each of the store's operations (its methods replaced on this instance only)."""
        for name in STORE_OPERATIONS:
            method = getattr(store, name, None)
            if method is not None:
                setattr(store, name, _timed(method, self.store_time.labels(name)))
        return store


def _timed(method: Callable, histogram) -> Callable:
    """Wrap a sync or async method so each call's duration is observed."""
    if inspect.iscoroutinefunction(method):
        @functools.wraps(method)
        async def timed_async(*args, **kwargs):
            start = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                histogram.observe(time.perf_counter() - start)
        return timed_async

    @functools.wraps(method)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            histogram.observe(time.perf_counter() - start)
    return timed


class ObserveMiddleware:
    """Count and time every HTTP request by its route template; log it as JSON when asked.

    Outermost of the app's middleware: it sees the status the client gets (a 304 of the cache
    middleware, a 500 of an unhandled error) and, after the call, the route the router matched
    (inner middleware change the scope in place, so the router's `route` is visible here)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, json_log: bool = False) -> None:
        self.app, self.metrics, self.json_log = app, metrics, json_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        method = scope["method"]
        status, size = 500, 0

        async def observed(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            elapsed = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", UNMATCHED)
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route).observe(elapsed)
            if self.json_log:
                ACCESS_LOG.info(_access_line(scope, method, route, status, size, elapsed))


def _access_line(scope: Scope, method: str, route: str, status: int, size: int, elapsed: float) -> str:
    """Return one access-log record as a JSON line."""
    client = scope.get("client") or ("", 0)
    return orjson.dumps({
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z", "client": client[0], "method": method,
        "path": scope["path"], "query": scope.get("query_string", b"").decode("latin-1"), "route": route,
        "status": status, "bytes": size, "ms": round(elapsed * 1000, 2), "pid": os.getpid(),
    }).decode()


def configure_access_log() -> None:
    """Send the access log to stderr, one JSON object per line (the message is the record)."""
    if not ACCESS_LOG.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        ACCESS_LOG.addHandler(handler)
    ACCESS_LOG.setLevel(logging.INFO)
    ACCESS_LOG.propagate = False
