"""ETag, conditional GET, Cache-Control and gzip for read-only data (one pure ASGI middleware).

The data does not change while the service runs, so the same body is often sent again: its
gzip encoding is kept in a small LRU keyed by the body's hash, and compressing a 600 KB page
(~80 ms at level 9) happens once instead of on every request.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from typing import Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN_GZIP_BYTES = 1024
GZIP_LEVEL = 6
CACHE_BYTES = 64 * 1024 * 1024


class _GzipCache:
    """An LRU of gzip bodies bounded by their total size."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.size = 0
        self.entries: OrderedDict[str, bytes] = OrderedDict()

    def get(self, tag: str, body: bytes) -> bytes:
        """Return the gzip encoding of body (whose hash is tag)."""
        hit = self.entries.get(tag)
        if hit is not None:
            self.entries.move_to_end(tag)
            return hit
        packed = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        self.entries[tag] = packed
        self.size += len(packed)
        while self.size > self.capacity and self.entries:
            _, old = self.entries.popitem(last=False)
            self.size -= len(old)
        return packed


class HttpCacheMiddleware:
    """Give every successful GET a content ETag, answer If-None-Match with 304, gzip when asked;
    answer HEAD as GET without the body."""

    def __init__(self, app: ASGIApp, max_age: int = 300, cache_bytes: int = CACHE_BYTES,
                 count: Callable[[str], None] = lambda outcome: None) -> None:
        self.app = app
        self.cache_control = f"public, max-age={max_age}"
        self.gzip = _GzipCache(cache_bytes)
        self.count = count  # told each outcome: not_modified, gzip_hit, gzip_miss (for metrics)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:  # answered as GET without its body (RFC 9110 §9.3.2): same status and headers
            scope["method"] = "GET"  # in place, so outer middleware see the route (api.observe)
        request_headers = Headers(scope=scope)
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                await self._finish(start, b"".join(chunks), request_headers, send, head, scope)

        await self.app(scope, receive, buffer)

    async def _finish(self, start: Message, body: bytes, request: Headers, send: Send, head: bool = False,
                      scope: Scope | None = None) -> None:
        """Add caching headers, answer 304 or send the (possibly gzipped) body."""
        headers = MutableHeaders(scope=start)
        if scope is not None and _SERVICE_RELATIVE in body and "json" in headers.get("content-type", ""):
            body = absolute_hrefs(scope, body)
            if "content-length" in headers:
                headers["Content-Length"] = str(len(body))
        if start["status"] == 200 and "etag" not in headers:
            tag = hashlib.blake2b(body, digest_size=12).hexdigest()
            headers["ETag"] = f'"{tag}"'
            headers.setdefault("Cache-Control", self.cache_control)
            headers["Vary"] = "Accept-Encoding"
            if f'"{tag}"' in _tags(request.get("if-none-match", "")):
                self.count("not_modified")
                start["status"] = 304
                for name in ("content-length", "content-type"):
                    if name in headers:
                        del headers[name]
                await send(start)
                await send({"type": "http.response.body", "body": b""})
                return
            if len(body) >= MIN_GZIP_BYTES and "gzip" in request.get("accept-encoding", ""):
                self.count("gzip_hit" if tag in self.gzip.entries else "gzip_miss")
                body = self.gzip.get(tag, body)
                headers["Content-Encoding"] = "gzip"
                headers["Content-Length"] = str(len(body))
        await send(start)
        await send({"type": "http.response.body", "body": b"" if head else body})


_SERVICE_RELATIVE = b'"href":"/'


def absolute_hrefs(scope: Scope, body: bytes) -> bytes:
    """Point the service-relative links the data carries (a citation's `href`, pre-encoded once as
    /plans/…) at this service as the client reaches it: scheme, host and path prefix of the
    request, proxy headers and root path applied. Done here, on every JSON body, so no route can
    forget it (this middleware holds the whole body anyway)."""
    base = str(Request(scope).base_url).rstrip("/").encode()
    return body.replace(_SERVICE_RELATIVE, b'"href":"' + base + b"/")


def _tags(header: str) -> set[str]:
    """Parse an If-None-Match header (weak tags compare equal, as RFC 9110 §13.1.2 allows)."""
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}
