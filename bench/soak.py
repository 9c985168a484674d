"""Soak: mixed requests at 32 connections for minutes against each store; errors, memory growth, p99 drift.

    .venv/bin/python bench/soak.py [--minutes 10] [--database-url postgresql://…] [--firms 1000000]

Starts `geoservice serve --workers 2` with the synthetic firm layer (memory store: read from its
file; PostGIS, given --database-url: database-only, loaded when stale), warms it up, then runs wrk
(Debian package `wrk`, loopback only) with a Lua script that cycles through items pages, bbox,
property and CQL2 filters, single features, lookup, search, vector tiles and map pages, one minute
at a time. After each minute: requests, p50/p99, errors (socket errors, timeouts, any status that
is not 2xx/3xx) and the server's memory (summed PSS of its processes: forked workers share the
loaded data, which each one's RSS counts in full). Targets (issue 12): 0 errors, memory growth
≤ 10 % after the warm-up, p99 of the last minute ≤ 1.5 × the first.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from api_load import free_port, run_wrk  # noqa: E402
from peers import BBOX, CQL2, firm_layer, stop  # noqa: E402
from workers import MB, memory, processes, start  # noqa: E402

CONNECTIONS = 32
WORKERS = 2
WARM_UP_SECONDS = 60
REQUEST_TIMEOUT_S = 30  # a response slower than this counts as an error
# Firm tiles from zoom 13, as a map shows firms near a place: a z10 tile over Yantai holds ~50,000
# of the synthetic firms (2.4 MB; the memory encoder takes tens of seconds for it), which no map
# should request (see docs/performance.md, "Soak"); the plan layers' tiles at low zoom.
FIRM_TILES = ["13/6857/3171", "13/6858/3171", "14/13714/6342", "14/13715/6343", "15/27429/12685"]
PLAN_TILES = ["/collections/boundaries/tiles/WebMercatorQuad/6/53/24",
              "/collections/yantai-biomed-1p3x/tiles/WebMercatorQuad/8/214/99"]


def paths(firms: str, ids: list[str]) -> list[str]:
    """Return the request mix (each kind weighted by how often clients send it)."""
    cql = urllib.parse.quote(CQL2)
    mix = [
        f"/collections/{firms}/items?limit=100", f"/collections/{firms}/items?limit=50&offset=5000",
        f"/collections/{firms}/items?bbox={BBOX}&limit=100", f"/collections/{firms}/items?size=large&limit=100",
        f"/collections/{firms}/items?filter-lang=cql2-text&filter={cql}&limit=100",
        "/collections/yantai-biomed-1p3x/items?limit=20", "/collections/boundaries/items?level=district&limit=20",
        "/lookup?point=121.45,37.46", "/lookup?point=104.06,30.67", "/search?sector=bio.innovative-drugs",
        "/search?q=yantai&limit=20", "/maps/overview?basemap=offline", "/maps/yantai-isotopes?basemap=offline",
    ]
    mix += [f"/collections/{firms}/items/{i}" for i in ids]
    mix += [f"/collections/{firms}/tiles/WebMercatorQuad/{t}" for t in FIRM_TILES] + PLAN_TILES
    return mix


def lua_script(mix: list[str], folder: Path) -> Path:
    """Write the wrk script that sends the mix in turn (each wrk thread starting elsewhere)."""
    quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in mix)
    script = folder / "soak.lua"
    script.write_text(f"""paths = {{{quoted}}}
counter = 0
function init(args) counter = math.random(#paths) end
function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end
""")
    return script


def footprint(pid: int) -> int:
    """Return the memory a server uses: the summed PSS of its processes (forked workers share the
    loaded data, which each one's RSS counts in full)."""
    return sum(memory(p)[0] for p in processes(pid))


def soak(name: str, args: list[str], mix: list[str], minutes: int, folder: Path) -> dict:
    """Run one server through warm-up and `minutes` one-minute rounds; print a line per minute."""
    port = free_port()
    process, seconds, _ = start([*args, "--workers", str(WORKERS)], port, folder / f"server-soak-{name}.log")
    script = lua_script(mix, folder)
    base = f"http://127.0.0.1:{port}"
    rounds = []
    try:
        print(f"{name}: ready in {seconds:.0f} s; {len(mix)} request kinds, {CONNECTIONS} connections, "
              f"{WORKERS} workers", flush=True)
        run_wrk(base, WARM_UP_SECONDS, CONNECTIONS, script, REQUEST_TIMEOUT_S)
        baseline = footprint(process.pid)
        print(f"  after warm-up: PSS {baseline / MB:,.0f} MB", flush=True)
        for minute in range(1, minutes + 1):
            r = run_wrk(base, 60, CONNECTIONS, script, REQUEST_TIMEOUT_S)
            rss = footprint(process.pid)
            rounds.append((r, rss))
            print(f"  minute {minute:2}: {r.requests:7,} requests {r.rps:6.0f}/s  p50 {r.p50_ms:7.1f} ms  "
                  f"p99 {r.p99_ms:7.1f} ms  errors {r.errors}  PSS {rss / MB:,.0f} MB", flush=True)
    finally:
        stop(process)
    first, last = rounds[0][0], rounds[-1][0]
    growth = rounds[-1][1] / baseline - 1
    errors = sum(r.errors for r, _ in rounds)
    print(f"{name}: {sum(r.requests for r, _ in rounds):,} requests, errors {errors} (target 0); memory (PSS) growth "
          f"{growth:+.1%} (≤ 10 %); p99 last/first minute {last.p99_ms / first.p99_ms:.2f} (≤ 1.5)", flush=True)
    return {"errors": errors, "growth": growth, "p99_ratio": last.p99_ms / first.p99_ms}


def main() -> None:
    """Soak the memory store, then (given a database) the database-only PostGIS store."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10, help="measured minutes per store (default 10)")
    parser.add_argument("--firms", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="also soak database-only PostGIS workers (a scratch database)")
    parser.add_argument("--only", choices=["memory", "postgis"], help="one store only")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "geoservice-peers")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # killed: still stop the servers it started
    firms, some_id, extra = firm_layer(args.firms, args.work_dir, args.database_url)
    prefix, number = some_id.rsplit("-", 1)
    ids = [f"{prefix}-{int(number) + step:0{len(number)}d}" for step in range(0, args.firms // 2, args.firms // 20)]
    mix = paths(firms, ids)
    served = ["--collections", str(extra)]
    if args.only != "postgis":
        soak("memory", served, mix, args.minutes, args.work_dir)
    if args.database_url and args.only != "memory":
        soak("postgis", [*served, "--database-url", args.database_url], mix, args.minutes, args.work_dir)


if __name__ == "__main__":
    main()
