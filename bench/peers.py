"""Side by side with peers: geoservice (memory, PostGIS) against pygeoapi and TiPg, same data, same machine.

    .venv/bin/python bench/peers.py --database-url postgresql://… [--peers-venv /tmp/peers-venv]

The peers live in their own venv (never this project's): `python3 -m venv /tmp/peers-venv &&
/tmp/peers-venv/bin/pip install pygeoapi tipg geoalchemy2 psycopg2-binary 'uvicorn[standard]'`.
Every server runs under uvicorn with httptools + uvloop and 2 workers on 127.0.0.1; TiPg and
pygeoapi (PostgreSQL provider) read the same PostGIS tables as geoservice's PostGIS store. Each
row is loaded with wrk for --duration seconds per round; the table shows the median of --rounds.
The database must be a scratch one: the catalog and the firm layer (`firms_<n>`) are (re)loaded
when missing. The firm layer is served database-only by geoservice's PostGIS store (rows decoded
from the database, not mirrored from a copy in memory).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from api_load import Result, check, free_port, run_wrk, wait_until_up  # noqa: E402

from geoservice.settings import PACKAGE_ROOT  # noqa: E402

BBOX = "121.30,37.40,121.50,37.56"  # central Yantai, as bench/scaling.py
CQL2 = "size = 'large' AND employees > 5000"
PAGE_POLYGONS = "boundaries"  # 58 district polygons with level=district
WORKERS = 2
WARM_UP_SECONDS = 2  # a wrk run per row before the measured rounds (caches, lazy structures)


def rows(firms: str, some_id: str, some_ord: int) -> dict[str, dict[str, str]]:
    """Return, per benchmark row, the path each server answers it on (same query, each API's spelling)."""
    cql = urllib.parse.quote(CQL2)
    common = {
        "items page of 100 (58 polygons)": "/collections/{c}/items?level=district&limit=100",
        "bbox over 1M firms (page of 100)": f"/collections/{{f}}/items?bbox={BBOX}&limit=100",
        "page of 1000 firms": "/collections/{f}/items?limit=1000",
        "property filter (size=large)": "/collections/{f}/items?size=large&limit=100",
        "CQL2 filter": f"/collections/{{f}}/items?filter-lang=cql2-text&filter={cql}&limit=100",
    }
    out: dict[str, dict[str, str]] = {}
    names = {"geoservice": (PAGE_POLYGONS, firms), "tipg": (f"geoservice.{PAGE_POLYGONS}", f"geoservice.{firms}"),
             "pygeoapi": (PAGE_POLYGONS, firms)}
    for row, template in common.items():
        out[row] = {}
        for server, (c, f) in names.items():
            path = template.format(c=c, f=f)
            if server == "pygeoapi":  # its spelling: explicit JSON, and CQL2 text is called cql-text
                path = path.replace("filter-lang=cql2-text", "filter-lang=cql-text") + "&f=json"
            out[row][server] = path
    out["single item"] = {"geoservice": f"/collections/{firms}/items/{some_id}",
                          "tipg": f"/collections/geoservice.{firms}/items/{some_ord}",
                          "pygeoapi": f"/collections/{firms}/items/{some_id}?f=json"}
    return out


def pygeoapi_config(url: str, firms: str, port: int, folder: Path) -> Path:
    """Write a pygeoapi config serving the two tables through its PostgreSQL provider."""
    import yaml

    parts = urllib.parse.urlsplit(url)
    data = {"host": parts.hostname, "port": parts.port or 5432, "dbname": parts.path.lstrip("/"),
            "user": parts.username or "postgres", "password": parts.password or "", "search_path": ["geoservice", "public"]}

    def resource(table: str, title: str) -> dict:
        """Return one pygeoapi collection over a geoservice table."""
        return {"type": "collection", "title": title, "description": title, "keywords": ["bench"],
                "extents": {"spatial": {"bbox": [73, 18, 135, 54], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
                "links": [], "providers": [{"type": "feature", "name": "PostgreSQL", "data": data,
                                             "id_field": "id", "table": table, "geom_field": "geom"}]}

    config = {
        "server": {"bind": {"host": "127.0.0.1", "port": port}, "url": f"http://127.0.0.1:{port}",
                   "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8", "language": "en-US",
                   "limits": {"default_items": 10, "max_items": 10000}, "map": {"url": "", "attribution": ""},
                   "pretty_print": False},
        "logging": {"level": "ERROR"},
        "metadata": {"identification": {"title": "bench", "description": "bench", "keywords": ["bench"],
                                        "keywords_type": "theme", "terms_of_service": "", "url": "http://127.0.0.1"},
                     "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
                     "provider": {"name": "bench", "url": "http://127.0.0.1"},
                     "contact": {"name": "bench", "position": "", "address": "", "city": "", "stateorprovince": "",
                                 "postalcode": "", "country": "", "phone": "", "fax": "", "email": "", "url": "",
                                 "hours": "", "instructions": "", "role": "pointOfContact"}},
        "resources": {PAGE_POLYGONS: resource(PAGE_POLYGONS, "boundaries"), firms: resource(firms, "firms")},
    }
    path = folder / "pygeoapi.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return path


def start(name: str, command: list[str], env: dict[str, str], port: int, folder: Path, probe: str) -> subprocess.Popen:
    """Start one server and wait until probe answers 200 (at most 5 minutes: the memory store loads 1M firms)."""
    log = folder / f"{name}.log"
    process = subprocess.Popen(command, cwd=folder, env={**os.environ, **env}, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    if wait_until_up(process, f"http://127.0.0.1:{port}{probe}", 300):
        # the probe reached one worker; each worker logs its start-up (the memory store loads 1M firms each)
        while log.read_text().count("Application startup complete") < WORKERS and time.monotonic() < deadline:
            time.sleep(1)
        return process
    stop(process)
    raise SystemExit(f"{name} did not start:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    """Stop a server we started (its own process group: uvicorn's workers with it)."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def write_layer(n: int, folder: Path) -> tuple[str, str, Path]:
    """Write the synthetic firm layer (when missing) and the extra-collections file the services read;
    return the collection id, the id of a firm in the middle and the file."""
    import geopandas as gpd

    from geoservice.catalog import build_catalog
    from geoservice.firms import synthesize, write

    firms = f"firms_{n}"
    gpkg = folder / f"{firms}.gpkg"
    if not gpkg.exists():
        write(synthesize(build_catalog(PACKAGE_ROOT / "data"), n, seed=42), gpkg)
    extra = folder / "extra.yaml"
    extra.write_text(f"- id: {firms}\n  title: SYNTHETIC firms ({n:,})\n  path: {gpkg.name}\n")
    middle = gpd.read_file(gpkg, skip_features=n // 2, max_features=1)
    return firms, str(middle["id"].iloc[0]), extra


def ensure_loaded(url: str, n: int, folder: Path) -> tuple[str, str, Path]:
    """Write the firm layer and the extra-collections file (write_layer); load both into PostGIS when stale.

    The catalog is reloaded when its content digest differs (the PostGIS store then mirrors it).
    The firm layer is served database-only (its rows are not read by the service), so it is
    reloaded only when its file is newer than the load or the recorded schema is missing; the
    1M-row layer is then read in a child process, whose memory is returned when it ends.
    """
    import concurrent.futures
    import datetime

    import psycopg

    from geoservice.catalog import build_catalog
    from geoservice.store.pgload import load_catalog
    from geoservice.store.pgschema import fingerprint

    firms, some_id, extra = write_layer(n, folder)
    base = build_catalog(PACKAGE_ROOT / "data")
    with psycopg.connect(url) as conn:
        try:
            loaded = {cid: (digest, at, schema is not None) for cid, digest, at, schema in conn.execute(
                "SELECT id, fingerprint, loaded_at, schema FROM geoservice._collections").fetchall()}
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
            loaded = {}
    if any(loaded.get(cid, (None,))[0] != fingerprint(c) for cid, c in base.collections.items()):
        load_catalog(url, base)
    written = datetime.datetime.fromtimestamp((folder / f"{firms}.gpkg").stat().st_mtime, datetime.timezone.utc)
    if firms not in loaded or loaded[firms][1] < written or not loaded[firms][2]:
        began = time.perf_counter()
        with concurrent.futures.ProcessPoolExecutor(1) as child:
            child.submit(_load_extra, url, extra).result()
        print(f"loaded {n:,} firms into PostGIS in {time.perf_counter() - began:.0f} s", flush=True)
    return firms, some_id, extra


def firm_layer(n: int, folder: Path, database_url: str | None = None) -> tuple[str, str, Path]:
    """Return (firm layer file, one firm id, extra-collections file): written for the memory store,
    and also loaded into PostGIS when a database URL is given (database-only workers)."""
    folder.mkdir(parents=True, exist_ok=True)
    return ensure_loaded(database_url, n, folder) if database_url else write_layer(n, folder)


def _load_extra(url: str, extra: Path) -> None:
    """Load the extra collections of a file (run in a child process: see ensure_loaded)."""
    from geoservice.extra import load_extra_collections
    from geoservice.store.pgload import load

    load(url, load_extra_collections(extra))


def servers(url: str, extra: Path, firms: str, venv: Path, folder: Path) -> dict[str, tuple[list[str], dict, str]]:
    """Return, per server, its command, environment and a probe path."""
    uvicorn = ["--host", "127.0.0.1", "--workers", str(WORKERS), "--http", "httptools", "--loop", "uvloop",
               "--no-access-log", "--log-level", "info"]
    ours = [sys.executable, "-m", "uvicorn", "--factory", "geoservice.api.app:app_from_env", *uvicorn]
    peers = str(venv / "bin" / "uvicorn")
    return {
        "geoservice-memory": (ours, {"GEOSERVICE_COLLECTIONS": str(extra)}, f"/collections/{firms}"),
        "geoservice-postgis": (ours, {"GEOSERVICE_COLLECTIONS": str(extra), "GEOSERVICE_DATABASE_URL": url},
                               f"/collections/{firms}"),
        "tipg": ([peers, "tipg.main:app", *uvicorn],
                 {"DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["geoservice"]', "TIPG_MAX_FEATURES_PER_QUERY": "10000"},
                 f"/collections/geoservice.{firms}"),
        "pygeoapi": ([peers, "pygeoapi.starlette_app:APP", *uvicorn], {}, f"/collections/{firms}?f=json"),
    }


def main() -> None:
    """Start each server in turn, load every row for several rounds, print the medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--peers-venv", type=Path, default=Path("/tmp/peers-venv"))
    parser.add_argument("--firms", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "geoservice-peers")
    parser.add_argument("--only", nargs="*", help="servers to run (default: all)")
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    firms, some_id, extra = ensure_loaded(args.database_url, args.firms, args.work_dir)
    import psycopg

    with psycopg.connect(args.database_url) as conn:
        some_ord = conn.execute(f'SELECT _ord FROM geoservice."{firms}" WHERE id = %s', (some_id,)).fetchone()[0]
    paths = rows(firms, some_id, some_ord)
    results: dict[tuple[str, str], list[Result]] = {}
    for name, (command, env, probe) in servers(args.database_url, extra, firms, args.peers_venv, args.work_dir).items():
        if args.only and name not in args.only:
            continue
        port = free_port()
        command = [*command, "--port", str(port)]
        if name == "pygeoapi":
            config = pygeoapi_config(args.database_url, firms, port, args.work_dir)
            openapi = args.work_dir / "pygeoapi-openapi.yml"
            subprocess.run([str(args.peers_venv / "bin" / "pygeoapi"), "openapi", "generate", str(config),
                            "--output-file", str(openapi)], check=True, capture_output=True, timeout=120,
                           env={**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)})
            env = {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
        began = time.perf_counter()
        process = start(name, command, env, port, args.work_dir, probe)
        print(f"{name}: up in {time.perf_counter() - began:.0f} s on port {port}", flush=True)
        try:
            server = "geoservice" if name.startswith("geoservice") else name
            for row, by_server in paths.items():
                target = f"http://127.0.0.1:{port}{by_server[server]}"
                size = check(target)
                run_wrk(target, WARM_UP_SECONDS, args.connections)
                for _ in range(args.rounds):
                    results.setdefault((name, row), []).append(run_wrk(target, args.duration, args.connections))
                r = median(results[(name, row)])
                print(f"  {row:34} {size:>9,} B {r.rps:9.1f} req/s  p50 {r.p50_ms:8.1f} ms  p99 {r.p99_ms:8.1f} ms"
                      f"  errors {r.errors}", flush=True)
        finally:
            stop(process)
    report(results, list(paths))


def median(runs: list[Result]) -> Result:
    """Return the median requests/s, p50 and p99 of several rounds (each taken separately)."""
    rps = statistics.median(r.rps for r in runs)
    return Result(int(rps * 1000), 1000.0, statistics.median(r.p50_ms for r in runs),
                  statistics.median(r.p99_ms for r in runs), sum(r.errors for r in runs))


def report(results: dict[tuple[str, str], list[Result]], row_names: list[str]) -> None:
    """Print the table: each server's median figures and geoservice/fastest-peer ratios."""
    print("\n| row | server | req/s | p50 ms | p99 ms |\n|---|---|---|---|---|")
    for row in row_names:
        for (name, r_name), runs in results.items():
            if r_name == row:
                m = median(runs)
                print(f"| {row} | {name} | {m.rps:.0f} | {m.p50_ms:.1f} | {m.p99_ms:.1f} |")
    print("\n| row | fastest peer | memory/peer req/s | memory p99/peer p99 | postgis/peer req/s |\n|---|---|---|---|---|")
    for row in row_names:
        peers = {n: median(results[(n, row)]) for n in ("tipg", "pygeoapi") if (n, row) in results}
        if not peers:
            continue
        best_name, best = max(peers.items(), key=lambda kv: kv[1].rps)
        mem = median(results[("geoservice-memory", row)]) if ("geoservice-memory", row) in results else None
        pg = median(results[("geoservice-postgis", row)]) if ("geoservice-postgis", row) in results else None
        cells = [f"×{mem.rps / best.rps:.1f}" if mem else "–", f"{mem.p99_ms / best.p99_ms:.2f}" if mem else "–",
                 f"×{pg.rps / best.rps:.1f}" if pg else "–"]
        print(f"| {row} | {best_name} ({best.rps:.0f}/s) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
