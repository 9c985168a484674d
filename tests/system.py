"""System packages some tests need (Chromium, GDAL, PostGIS): install when we can, else skip loudly.

As root with apt available the package is installed on first use; otherwise the test is
skipped with the reason, and under CI=true a missing package fails the test instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache

import pytest

_APT_UPDATED = False


@lru_cache(maxsize=None)
def _install(package: str) -> str | None:
    """Try to apt-get install a package; return an error text or None."""
    global _APT_UPDATED
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "not root or no apt-get"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _APT_UPDATED:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        _APT_UPDATED = True
    done = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
                          env=env, capture_output=True, text=True, timeout=1200)
    return None if done.returncode == 0 else done.stderr[-500:]


def require(binary: str, package: str) -> str:
    """Return the path of a system binary, installing its Debian package if needed."""
    path = shutil.which(binary)
    if path is None:
        error = _install(package)
        path = shutil.which(binary)
        if path is None:
            message = f"needs `{binary}` from Debian package {package!r} ({error or 'not found after install'})"
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI: {message}")
            pytest.skip(message)
    return path


def require_path(path: str, package: str) -> str:
    """Return a file a Debian package installs (not on PATH, e.g. /usr/lib/postgresql/…), installing it if needed."""
    if not os.path.exists(path):
        error = _install(package)
        if not os.path.exists(path):
            message = f"needs {path} from Debian package {package!r} ({error or 'not found after install'})"
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI: {message}")
            pytest.skip(message)
    return path
