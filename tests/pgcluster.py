"""A throwaway PostgreSQL 15 + PostGIS 3 cluster on a free loopback port, for the tests of the PostGIS store."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.servers import free_port
from tests.system import require_path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
PACKAGE = "postgresql-15-postgis-3"



class Cluster:
    """initdb + pg_ctl in a temporary folder; run as `postgres` when we are root (postgres refuses root)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="geoservice-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    def _run(self, *args: str) -> None:
        """Run a PostgreSQL binary as the cluster's owner."""
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> str:
        """Create and start the cluster; return a database URL of a fresh PostGIS database."""
        if os.geteuid() == 0:
            shutil.chown(self.dir, self.user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self.resume()
        url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        deadline = time.monotonic() + 30
        import psycopg

        while True:
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("CREATE DATABASE geoservice_test")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        return f"postgresql://postgres@127.0.0.1:{self.port}/geoservice_test"

    def pause(self) -> None:
        """Stop the server, keeping its files (fault tests: the database goes away while serving)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start the server (again) on the same port."""
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.dir} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        """Stop the cluster and delete its files."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def require_postgis() -> None:
    """Make sure PostgreSQL 15 and PostGIS 3 are installed (apt as root), else skip or fail under CI."""
    require_path(str(PG_BIN / "initdb"), PACKAGE)
    require_path(str(POSTGIS_CONTROL), PACKAGE)
    pytest.importorskip("psycopg", reason="pip install 'geoservice[postgis]'")


@pytest.fixture(scope="session")
def postgis_url():
    """Return the URL of a throwaway PostGIS database (the cluster is removed at session end)."""
    require_postgis()
    cluster = Cluster()
    try:
        url = cluster.start()
    except Exception:
        cluster.stop()
        raise
    yield url
    cluster.stop()


@pytest.fixture(scope="session")
def loaded_postgis_url(postgis_url, catalog):
    """Return the URL of the throwaway database with the whole catalog loaded."""
    from geoservice.store.pgload import load_catalog

    load_catalog(postgis_url, catalog)
    return postgis_url
