"""Run the API: one uvicorn process, or several uvicorn workers forked by gunicorn from one loaded app.

Several workers: the app (catalog, frames, indexes, encoded features) is built once in the master,
the cycle collector is frozen (gc.freeze, so it does not touch every object's header and copy its
page), then gunicorn forks the workers (`preload_app`), which share those pages copy-on-write.
Uvicorn's own `--workers` starts fresh interpreters that each load everything again (1M firms:
~5 GB and ~45 s each), and its supervisor restarts a worker that is still loading after its 5 s
health check. Gunicorn is the process manager uvicorn's documentation recommends for production,
and `uvicorn-worker` (maintained by uvicorn's authors) is its worker class for ASGI apps.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile

from geoservice.settings import Settings

# uvicorn settings of every worker: httptools + uvloop, and no proxy-header handling or access log
# of its own (the app does both: api.proxy takes X-Forwarded-Host too, api.observe logs JSON).
UVICORN = {"http": "httptools", "loop": "uvloop", "proxy_headers": False, "access_log": False}
GRACEFUL_TIMEOUT_S = 10
# glibc gives threads their own malloc arenas (up to 8 per core), each growing to what its thread
# once needed: a worker's 40 request threads made a database-only worker grow 16 % over its first
# minutes under load. Two arenas: flat (+0.7 %) and as fast (bench/soak.py, docs/performance.md).
MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # mallopt parameter number, glibc's malloc.h
KEEPALIVE_S = 5


def serve(settings: Settings) -> None:
    """Build the app once, then serve it in settings.workers processes (blocks until stopped)."""
    if settings.workers < 1:
        raise SystemExit(f"--workers: {settings.workers} is not a number of processes (1 or more)")
    _limit_malloc_arenas()
    metrics_dir = None
    if settings.workers > 1:  # before prometheus_client is imported: its values then live in shared files
        metrics_dir = tempfile.mkdtemp(prefix="geoservice-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        app = _loaded_app(settings)
        if settings.workers == 1:
            import uvicorn

            uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", **UVICORN)
        else:
            _forking_server(app, settings).run()
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _limit_malloc_arenas() -> None:
    """Cap glibc's malloc arenas (before any thread starts, so before numpy and the app are loaded);
    MALLOC_ARENA_MAX in the environment wins; elsewhere than glibc nothing is done."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, MALLOC_ARENAS)
    except (OSError, AttributeError):
        pass


def _loaded_app(settings: Settings):
    """Return the app, its data loaded and frozen for sharing (see api.app.for_serving)."""
    from geoservice.api.app import create_app, for_serving
    from geoservice.api.observe import configure_access_log

    if settings.access_log == "json":
        configure_access_log()
    return for_serving(create_app(settings))


def _forking_server(app, settings: Settings):
    """Return a gunicorn application that forks settings.workers uvicorn workers from app."""
    from gunicorn.app.base import BaseApplication
    from uvicorn_worker import UvicornWorker

    class Worker(UvicornWorker):
        CONFIG_KWARGS = UVICORN

    class Server(BaseApplication):
        def load_config(self) -> None:
            options = {"bind": f"{settings.host}:{settings.port}", "workers": settings.workers,
                       "worker_class": Worker, "preload_app": True, "graceful_timeout": GRACEFUL_TIMEOUT_S,
                       "keepalive": KEEPALIVE_S, "loglevel": "warning", "proc_name": "geoservice"}
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    return Server()
