"""Memory and start-up of `geoservice serve --workers N` with a large extra collection.

    .venv/bin/python bench/workers.py [--firms 1000000] [--workers 4] [--database-url postgresql://…]

Memory store: the synthetic firm layer is served with `--collections`, once by one process and once
by N workers forked from one loaded app; after the same warm-up requests, the proportional set
size (PSS, /proc/PID/smaps_rollup: shared pages divided among the processes sharing them) of every
process of each server is summed. Target (issue 12): N workers ≤ 1.5 × one process.

With --database-url (a scratch database: the catalog and the firm layer are loaded when stale),
the same layer is served database-only (`--database-url` with `--collections`: rows stay in
PostGIS): start-up (process start → /ready answers 200) and RSS per worker after a request to every
endpoint kind. Targets: RSS ≤ 500 MB, start-up ≤ 5 s.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from api_load import free_port  # noqa: E402
from peers import BBOX, CQL2, firm_layer, stop  # noqa: E402

from geoservice.settings import PACKAGE_ROOT  # noqa: E402

MB = 1024 * 1024
WARM_UP_REQUESTS = 400
WARM_UP_CONNECTIONS = 8
CSV_FIRMS = "name,lon,lat\n示例企业,121.45,37.46\nExample Ltd,104.06,30.67\n"


def warm_up_paths(firms: str, some_id: str) -> list[str]:
    """Return one request of each endpoint kind over the firm layer and the plans."""
    cql = urllib.request.quote(CQL2)
    return [
        f"/collections/{firms}/items?limit=100", f"/collections/{firms}/items?bbox={BBOX}&limit=100",
        f"/collections/{firms}/items?size=large&limit=100",
        f"/collections/{firms}/items?filter-lang=cql2-text&filter={cql}&limit=100",
        f"/collections/{firms}/items/{some_id}", f"/collections/{firms}/tiles/WebMercatorQuad/10/857/396",
        f"/collections/{firms}", "/lookup?point=121.45,37.46", "/search?sector=bio.innovative-drugs&limit=50",
        "/collections/yantai-biomed-1p3x/items?limit=10",
    ]


def request(url: str, body: bytes | None = None) -> int:
    """Send one request; return its status (raises on a network error)."""
    headers = {"Content-Type": "text/csv"} if body else {}
    with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=600) as r:
        r.read()
        return r.status


def processes(pid: int) -> list[int]:
    """Return a server's processes: the master and its workers."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


def memory(pid: int) -> tuple[int, int]:
    """Return (PSS, RSS) in bytes from /proc/PID/smaps_rollup."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value) * 1024
    return fields["Pss"], fields["Rss"]


def cpu_seconds(pid: int) -> float:
    """Return the CPU time a process has used (user + system): start-up cost whatever the machine's load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(args: list[str], port: int, log: Path) -> tuple[subprocess.Popen, float, float]:
    """Start `geoservice serve`; return it, the seconds until /ready answered 200 and the CPU seconds
    the (master) process used until then."""
    command = [sys.executable, "-m", "geoservice.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *args]
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=PACKAGE_ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                               start_new_session=True, env={**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)})
    while True:
        try:
            if request(f"http://127.0.0.1:{port}/ready") == 200:
                return process, time.perf_counter() - began, cpu_seconds(process.pid)
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"the server stopped:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)


def warm_up(port: int, paths: list[str]) -> None:
    """Send WARM_UP_REQUESTS requests over several connections (reaching every worker); all must be 2xx."""
    base = f"http://127.0.0.1:{port}"
    targets = [base + paths[i % len(paths)] for i in range(WARM_UP_REQUESTS)]
    with concurrent.futures.ThreadPoolExecutor(WARM_UP_CONNECTIONS) as pool:
        statuses = list(pool.map(request, targets))
        statuses.append(request(f"{base}/firms/assign", CSV_FIRMS.encode()))
    bad = [s for s in statuses if not 200 <= s < 300]
    if bad:
        raise SystemExit(f"warm-up answered {bad[:5]}")


def measure(name: str, args: list[str], paths: list[str], folder: Path) -> dict:
    """Start one server, warm it up, read every process's memory, stop it."""
    port = free_port()
    process, seconds, cpu = start(args, port, folder / f"{name}.log")
    try:
        warm_up(port, paths)
        time.sleep(1)
        pids = processes(process.pid)
        figures = {pid: memory(pid) for pid in pids}
    finally:
        stop(process)
    pss = sum(p for p, _ in figures.values())
    rss = [r for _, r in figures.values()]
    print(f"{name}: ready in {seconds:.1f} s ({cpu:.1f} s of CPU); {len(pids)} process(es); total PSS {pss / MB:,.0f} MB; "
          f"RSS per process {', '.join(f'{r / MB:,.0f}' for r in rss)} MB", flush=True)
    return {"seconds": seconds, "cpu": cpu, "pss": pss, "rss": rss}


def main() -> None:
    """Measure the memory store (one process, N workers) and, given a database, database-only workers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database-url", help="also measure database-only workers on this scratch database")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "geoservice-peers")
    parser.add_argument("--skip-memory", action="store_true", help="only the database-only workers")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # killed: still stop the servers it started
    firms, some_id, extra = firm_layer(args.firms, args.work_dir, args.database_url)
    paths = warm_up_paths(firms, some_id)
    served = ["--collections", str(extra)]
    if not args.skip_memory:
        one = measure("memory, 1 process", served, paths, args.work_dir)
        many = measure(f"memory, {args.workers} workers", [*served, "--workers", str(args.workers)], paths,
                       args.work_dir)
        print(f"memory store: {args.workers} workers' total PSS = {many['pss'] / one['pss']:.2f} × one process's "
              f"(target ≤ 1.5)", flush=True)
    if args.database_url:
        db = [*served, "--database-url", args.database_url]
        one = measure("database-only, 1 process", db, paths, args.work_dir)
        many = measure(f"database-only, {args.workers} workers", [*db, "--workers", str(args.workers)], paths,
                       args.work_dir)
        print(f"database-only: start-up {one['seconds']:.1f} s ({one['cpu']:.1f} s CPU; 1 process), "
              f"{many['seconds']:.1f} s ({args.workers} workers); largest RSS {max(one['rss'] + many['rss']) / MB:,.0f} MB "
              f"(targets ≤ 5 s, ≤ 500 MB)", flush=True)


if __name__ == "__main__":
    main()
