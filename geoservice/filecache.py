"""Memoise slow file parses on disk, keyed by the file's content (never stale, safe to delete).

Parsing 7 MB of boundary GeoJSON and the plan YAML costs ~0.5 s on a small machine; reading
the cached result costs a few milliseconds. The cache lives in GEOSERVICE_CACHE_DIR, else
~/.cache/geoservice.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Callable

CACHE_VERSION = b"1"


def cache_dir() -> Path:
    """Return the cache folder."""
    env = os.environ.get("GEOSERVICE_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "geoservice"


def cached_parse(path: Path, kind: str, parse: Callable[[bytes], Any]) -> Any:
    """Return parse(content of path), from the cache when the same content was parsed before."""
    content = path.read_bytes()
    digest = hashlib.blake2b(content + kind.encode() + CACHE_VERSION, digest_size=20).hexdigest()
    target = cache_dir() / f"{kind}-{digest}.pickle"
    try:
        with open(target, "rb") as fh:
            return pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError):
        pass
    value = parse(content)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(fh.name, target)  # atomic: concurrent workers never read half a file
    except OSError:
        pass  # a read-only home is fine: we just parse every time
    return value
