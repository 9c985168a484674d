"""Helpers for tests that start real servers on loopback."""

from __future__ import annotations

import socket


def free_port() -> int:
    """Return a TCP port nobody listens on at 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
