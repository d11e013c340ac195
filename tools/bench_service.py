"""Load benchmark of the CDS Hooks service (not a timed test): p50 / p99 latency and throughput of
patient-view calls at 1, 8 and 32 concurrent clients, against `guideline serve` on loopback with N uvicorn
workers (unsigned: the benchmark measures the evaluation path, not JWT checks).

    python tools/bench_service.py [--workers 1] [--requests 400] [--guideline FILE]

Every request is bounded in count and time, sent only to 127.0.0.1, and the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.cds_harness import GCSF, hook_request, prefetch  # noqa: E402


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--requests", type=int, default=400, help="requests per concurrency level (max 5000)")
    ap.add_argument("--guideline", default=str(GCSF))
    args = ap.parse_args()
    n = min(args.requests, 5000)
    port = _port()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "interpreter", "serve", args.guideline, "--db", f"{tmp}/b.sqlite",
               "--port", str(port), "--workers", str(args.workers), "--allow-unsigned"]
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    services = httpx.get(base + "/cds-services", timeout=1).json()["services"]
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        print("the server did not start", file=sys.stderr)
                        return 2
                    time.sleep(0.2)
            sid = next(s["id"] for s in services if s["hook"] == "patient-view")
            body = hook_request("patient-view", "bench-patient", prefetch("bench-patient"))
            print(f"service {sid}, {args.workers} uvicorn worker(s), {n} requests per level, loopback")
            print(f"{'clients':>8} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>7}")
            for clients in (1, 8, 32):
                with httpx.Client(base_url=base, timeout=30,
                                  limits=httpx.Limits(max_connections=clients)) as client:

                    def one(_: int, client: httpx.Client = client) -> tuple[float, int]:
                        t = time.perf_counter()
                        r = client.post(f"/cds-services/{sid}", json=body)
                        return time.perf_counter() - t, r.status_code

                    start = time.perf_counter()
                    with ThreadPoolExecutor(clients) as pool:
                        results = list(pool.map(one, range(n)))
                    wall = time.perf_counter() - start
                lat = sorted(x[0] * 1000 for x in results)
                errors = sum(1 for x in results if x[1] != 200)
                p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
                print(f"{clients:>8} {statistics.median(lat):>8.1f} {p99:>8.1f} {n / wall:>8.0f} {errors:>7}")
        finally:
            server.terminate()
            server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
