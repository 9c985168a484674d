"""Behind a reverse proxy: the path prefix it serves us under and the X-Forwarded-* headers it sets.

Links are made from the request (scheme, host, root path), so a proxy at https://maps.example/geo/
that forwards to http://127.0.0.1:8000/ must be believed about all three. Uvicorn's own proxy
middleware handles X-Forwarded-Proto and X-Forwarded-For but not X-Forwarded-Host; this one takes
the host too, from the same trusted peers only (a client could otherwise poison the links).
"""

from __future__ import annotations

import ipaddress

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware


class TrustedPeers:
    """Addresses and networks ("10.0.0.0/8") whose forwarded headers are believed; "*": any."""

    def __init__(self, entries: tuple[str, ...]) -> None:
        self.any = "*" in entries
        self.networks = [ipaddress.ip_network(e, strict=False) for e in entries if e != "*"]

    def __contains__(self, host: str | None) -> bool:
        if self.any:
            return True
        try:
            address = ipaddress.ip_address(host or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)


class ForwardedHostMiddleware:
    """Take the Host from X-Forwarded-Host when the peer is a trusted proxy."""

    def __init__(self, app: ASGIApp, trusted: TrustedPeers) -> None:
        self.app, self.trusted = app, trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope.get("client") or (None,))[0] in self.trusted:
            forwarded = next((v for k, v in scope["headers"] if k == b"x-forwarded-host"), None)
            if forwarded:
                host = forwarded.split(b",")[0].strip()
                headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
                scope["headers"] = [*headers, (b"host", host)]  # in place: see api.observe
        await self.app(scope, receive, send)


class RootPathMiddleware:
    """Serve under a prefix the proxy strips: scope as uvicorn's --root-path makes it (the prefix
    in root_path and in front of path), so routing ignores it and every link carries it."""

    def __init__(self, app: ASGIApp, root_path: str) -> None:
        self.app, self.root_path = app, root_path.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.root_path:
            prefix = self.root_path  # the scope changed in place: see api.observe
            scope["raw_path"] = prefix.encode() + (scope.get("raw_path") or scope["path"].encode())
            scope["root_path"], scope["path"] = prefix, prefix + scope["path"]
        await self.app(scope, receive, send)


def add_proxy_middleware(app: Starlette, root_path: str, forwarded_allow_ips: tuple[str, ...]) -> None:
    """Believe forwarded host, proto and client from trusted peers, then apply the root path (the
    server's own proxy-header handling is off: see geoservice.serving)."""
    if root_path:
        app.add_middleware(RootPathMiddleware, root_path=root_path)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(forwarded_allow_ips))
    app.add_middleware(ForwardedHostMiddleware, trusted=TrustedPeers(forwarded_allow_ips))  # outermost: sees the peer
