"""ETag, conditional GET and Cache-Control for the read-only data (a pure ASGI middleware)."""

from __future__ import annotations

import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ETagMiddleware:
    """Give every successful GET a content ETag, answer If-None-Match with 304."""

    def __init__(self, app: ASGIApp, max_age: int = 300) -> None:
        self.app = app
        self.cache_control = f"public, max-age={max_age}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            assert start is not None
            headers = MutableHeaders(scope=start)
            if start["status"] == 200 and "etag" not in headers:
                tag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
                headers["ETag"] = tag
                headers.setdefault("Cache-Control", self.cache_control)
                if tag in _tags(Headers(scope=scope).get("if-none-match", "")):
                    start["status"] = 304
                    for name in ("content-length", "content-type"):
                        if name in headers:
                            del headers[name]
                    await send(start)
                    await send({"type": "http.response.body", "body": b""})
                    return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffer)


def _tags(header: str) -> set[str]:
    """Parse an If-None-Match header (weak tags compare equal, as RFC 9110 §13.1.2 allows)."""
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}
