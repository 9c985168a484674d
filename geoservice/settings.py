"""One settings object, read from the environment once, by the application entry points only."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# The wheel carries data/ inside the package (pyproject: force-include); a checkout has it beside.
PACKAGED_DATA = Path(__file__).resolve().parent / "data"


def default_data_dir() -> Path:
    """Return the data of an installed wheel, else the repository's data/ folder."""
    return PACKAGED_DATA if PACKAGED_DATA.is_dir() else PACKAGE_ROOT / "data"


@dataclass(frozen=True)
class Settings:
    """Where the data is and how the service behaves. Tests build it explicitly."""

    data_dir: Path = field(default_factory=default_data_dir)
    extra_collections: Path | None = None
    database_url: str | None = None  # a PostGIS database loaded by `geoservice db load`; None: the memory store
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: tuple[str, ...] = ("*",)
    tianditu_key: str = ""  # key of the Tianditu (天地图) basemap of the map pages; "" disables it
    upload_max_bytes: int = 64 * 2**20  # POST /firms/assign: larger bodies are refused (413) unread
    upload_max_rows: int = 500_000  # firms per uploaded list
    # Serving (see geoservice/serving.py): processes, the path prefix a reverse proxy serves us
    # under, the proxies whose X-Forwarded-* headers are believed, and the access log.
    workers: int = 1
    root_path: str = ""
    forwarded_allow_ips: tuple[str, ...] = ("127.0.0.1",)
    access_log: str = "off"  # off | json (one JSON object per request on stderr)
    # PostGIS: a statement running longer is cancelled (503); a request waits at most
    # db_wait_s for a connection before answering 503 (the database is down or saturated).
    statement_timeout_s: float = 10.0
    db_wait_s: float = 1.5
    extras: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Read GEOSERVICE_* variables; explicit overrides win."""
        env = os.environ
        values: dict = {}
        if "GEOSERVICE_DATA_DIR" in env:
            values["data_dir"] = Path(env["GEOSERVICE_DATA_DIR"])
        if "GEOSERVICE_COLLECTIONS" in env:
            values["extra_collections"] = Path(env["GEOSERVICE_COLLECTIONS"])
        if "GEOSERVICE_DATABASE_URL" in env:
            values["database_url"] = env["GEOSERVICE_DATABASE_URL"]
        if "GEOSERVICE_TIANDITU_KEY" in env:
            values["tianditu_key"] = env["GEOSERVICE_TIANDITU_KEY"]
        for name in ("upload_max_bytes", "upload_max_rows"):
            if f"GEOSERVICE_{name.upper()}" in env:
                values[name] = int(env[f"GEOSERVICE_{name.upper()}"])
        if "GEOSERVICE_CORS_ORIGINS" in env:
            values["cors_origins"] = _split(env["GEOSERVICE_CORS_ORIGINS"])
        for name, key in (("workers", "GEOSERVICE_WORKERS"), ("statement_timeout_s", "GEOSERVICE_STATEMENT_TIMEOUT_S")):
            if key in env:
                values[name] = type(getattr(cls, name))(env[key])
        if "GEOSERVICE_ROOT_PATH" in env:
            values["root_path"] = env["GEOSERVICE_ROOT_PATH"]
        if "GEOSERVICE_FORWARDED_ALLOW_IPS" in env:
            values["forwarded_allow_ips"] = _split(env["GEOSERVICE_FORWARDED_ALLOW_IPS"])
        if "GEOSERVICE_ACCESS_LOG" in env:
            values["access_log"] = env["GEOSERVICE_ACCESS_LOG"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _split(value: str) -> tuple[str, ...]:
    """Split a comma-separated list, dropping blanks."""
    return tuple(v.strip() for v in value.split(",") if v.strip())
