"""Drive concurrent load on loopback against the main endpoints; print requests/s and latency.

Starts `geoservice serve` (uvicorn, httptools + uvloop, one process) on a free 127.0.0.1 port,
checks each endpoint answers 200, then loads each in turn with wrk (Debian package `wrk`) when
it is installed, else with a bounded asyncio + httpx generator. Every run is bounded in time
(--duration per endpoint) and, for the Python generator, in count (--max-requests).

Run: .venv/bin/python bench/api_load.py [--duration 10] [--connections 16] [--python]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from geoservice.settings import PACKAGE_ROOT

BIOMED_FILTER = "kind IN ('park','base','zone') AND S_INTERSECTS(geom, POLYGON((121.0 37.0, 122.0 37.0, 122.0 37.8, 121.0 37.8, 121.0 37.0)))"
ENDPOINTS = {
    "items page (10 features)": "/collections/yantai-health-2345/items?limit=10",
    "bbox query": "/collections/yantai-biomed-1p3x/items?bbox=121.2,37.3,121.6,37.6&limit=100",
    "CQL2 filter": "/collections/yantai-biomed-1p3x/items?limit=100&filter=" + urllib.parse.quote(BIOMED_FILTER),
    "place lookup": "/lookup?point=121.45,37.46",
    "site report": "/report?point=121.62,37.35&sector=" + urllib.parse.quote("细胞与基因治疗"),
    "site ranking": "/rank?sector=" + urllib.parse.quote("放射性药物"),
}


@dataclass(frozen=True)
class Result:
    """One endpoint's figures."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        """Return requests per second."""
        return self.requests / self.seconds


def free_port() -> int:
    """Return a port nobody listens on at 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(process: subprocess.Popen, url: str, seconds: float) -> bool:
    """Poll url until it answers (True), the process dies or time runs out (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=30).read()
            return True
        except OSError:
            if process.poll() is not None:
                return False
            time.sleep(0.3)
    return False


def start_server(port: int, log: Path) -> subprocess.Popen:
    """Start the service and wait until /health answers."""
    command = [sys.executable, "-m", "geoservice.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, cwd=PACKAGE_ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    if wait_until_up(process, f"http://127.0.0.1:{port}/health", 60):
        return process
    process.kill()
    raise SystemExit(f"the service did not start:\n{log.read_text()[-2000:]}")


def check(url: str) -> int:
    """GET once; return the response size, failing unless 200."""
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200, (url, response.status)
        return len(response.read())


def run_wrk(url: str, duration: int, connections: int, script: Path | None = None, timeout_s: int = 2) -> Result:
    """Load one URL (or, with a Lua script, the requests it makes) with wrk and parse its summary;
    a response slower than timeout_s counts as an error."""
    extra = ["-s", str(script)] if script else []
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout_s}s", "--latency",
                          *extra, url], capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    requests = int(re.search(r"(\d+) requests in ", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Result(requests, requests / rps, _wrk_ms(out, "50%"), _wrk_ms(out, "99%"),
                  errors + (int(non2xx.group(1)) if non2xx else 0))


def _wrk_ms(out: str, percentile: str) -> float:
    """Read one latency percentile from wrk --latency output, in milliseconds."""
    value, unit = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", out, flags=re.MULTILINE).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


async def _python_load(url: str, duration: int, connections: int, max_requests: int) -> Result:
    """Load one URL with `connections` concurrent httpx clients, bounded in time and count."""
    import httpx

    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + duration

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < stop and len(latencies) + errors < max_requests:
            start = time.perf_counter()
            response = await client.get(url)
            if response.status_code == 200:
                latencies.append(time.perf_counter() - start)
            else:
                errors += 1

    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        elapsed = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    return Result(len(latencies), elapsed, cuts[49] * 1000, cuts[98] * 1000, errors)


def main() -> None:
    """Start the service, load each endpoint, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap per endpoint (Python generator)")
    parser.add_argument("--python", action="store_true", help="use the Python generator even if wrk is installed")
    parser.add_argument("--only", nargs="*", default=None, help="endpoint names to load (default: all)")
    args = parser.parse_args()
    use_wrk = shutil.which("wrk") is not None and not args.python
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(port, Path(tmp) / "serve.log")
        try:
            base = f"http://127.0.0.1:{port}"
            print(f"geoservice on {base} (uvicorn, httptools + uvloop, 1 process); load: "
                  f"{'wrk -t2' if use_wrk else 'asyncio + httpx'}, {args.connections} connections, "
                  f"{args.duration} s per endpoint, no gzip, no conditional requests")
            print(f"{'endpoint':<26} {'bytes':>8} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
            for name, path in ENDPOINTS.items():
                if args.only and name not in args.only:
                    continue
                size = check(base + path)
                if use_wrk:
                    r = run_wrk(base + path, args.duration, args.connections)
                else:
                    r = asyncio.run(_python_load(base + path, args.duration, args.connections, args.max_requests))
                print(f"{name:<26} {size:>8} {r.requests:>9} {r.rps:>8.0f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} {r.errors:>7}")
        finally:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    main()
