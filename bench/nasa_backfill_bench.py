"""One-year backfill of APOD, NeoWs and Mars photos against the NASA simulator at 100 ms
latency: requests made and wall time, against the ideal (requests x latency / workers).

    .venv/bin/python bench/nasa_backfill_bench.py [--days 366] [--latency-ms 100]
        [--workers 4] [--mars-scale 1]

The simulator runs in its own process (``python -m tests.simulator``), as the real API would:
sharing the pipeline's process (and its GIL) would charge the simulator's work to the
pipeline. Each source runs alone (its own pipeline: engine runner + sqlite sink in a temporary
folder), then all three together; requests are the run record's count. Ratios, not absolute
seconds, are what to compare between machines.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from etl_nasa_sources.date_windows import today_us_eastern  # noqa: E402

from tests.nasa.pipeline_helpers import harness, nasa_pipeline  # noqa: E402

RUNS = (("apod",), ("neows",), ("mars",), ("apod", "neows", "mars"))


@contextlib.contextmanager
def simulator_process(latency_ms: float, scale: float) -> Iterator[SimpleNamespace]:
    """``python -m tests.simulator`` on a free port, generated data only."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable, "-m", "tests.simulator", "--port", str(port), "--no-fixtures",
        "--latency-ms", str(latency_ms), "--mars-scale", str(scale),
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the simulator did not start")
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        yield SimpleNamespace(base_url=base, mars_url=f"{base}/mars-photos/api/v1")
    finally:
        process.terminate()
        process.wait(timeout=10)


def run_once(
    sim: SimpleNamespace, sources: tuple[str, ...], days: int, workers: int
) -> dict[str, float]:
    since = today_us_eastern() - dt.timedelta(days=days - 1)
    with tempfile.TemporaryDirectory() as folder:
        pipeline = nasa_pipeline(sim, Path(folder) / "nasa.db", sources=sources, workers=workers)
        started = time.perf_counter()
        result = harness(Path(folder)).run(pipeline, since=since)
        wall = time.perf_counter() - started
    if not result.succeeded:
        raise SystemExit(f"run failed: {result.run.error}")
    rows = sum(c.loaded for c in result.run.counts.values())
    return {"requests": result.run.requests, "wall": wall, "rows": rows}


def fetch_only(sim: SimpleNamespace, days: int, workers: int) -> dict[str, float]:
    """The Mars requests of a backfill with nothing else: what this simulator and machine
    allow at best (the simulator's own work per answer included)."""
    from etl_nasa_sources.ordered_fetch import fetch_in_order

    from etlcore.http import HttpClient

    since = (today_us_eastern() - dt.timedelta(days=days - 1)).isoformat()
    started = time.perf_counter()
    requests = 0
    with HttpClient(sim.mars_url, pool_size=workers) as client:
        for rover in ("curiosity", "perseverance"):
            manifest = client.get_json(f"/manifests/{rover}")["photo_manifest"]["photos"]
            sols = [row["sol"] for row in manifest if row["earth_date"] >= since]
            path = f"/rovers/{rover}/photos"
            for _ in fetch_in_order(
                lambda sol, path=path: client.get_json(path, {"sol": sol}), sols, workers=workers
            ):
                pass
        requests = client.requests_made
    return {"requests": requests, "wall": time.perf_counter() - started, "rows": 0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=366)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--mars-scale", type=float, default=1.0)
    args = parser.parse_args()
    print(
        f"{args.days}-day backfill, {args.latency_ms:.0f} ms latency, "
        f"workers={args.workers}, mars scale {args.mars_scale}"
    )
    print("| run | requests | rows loaded | wall s | ideal s | wall / ideal |")
    print("|---|---:|---:|---:|---:|---:|")
    ideal_of_steps = 0.0
    with simulator_process(args.latency_ms, args.mars_scale) as sim:
        for sources in RUNS:
            figures = run_once(sim, sources, args.days, args.workers)
            ideal = figures["requests"] * args.latency_ms / 1000 / args.workers
            if len(sources) == 1:
                ideal_of_steps += ideal
            else:
                # Steps run one after the other: the ideal is the sum of the steps' ideals.
                ideal = ideal_of_steps
            print(
                f"| {' + '.join(sources)} | {figures['requests']:.0f} | {figures['rows']:.0f} "
                f"| {figures['wall']:.2f} | {ideal:.2f} | {figures['wall'] / ideal:.2f} |"
            )
        figures = fetch_only(sim, args.days, args.workers)
        ideal = figures["requests"] * args.latency_ms / 1000 / args.workers
        print(
            f"| mars, requests only (no pipeline) | {figures['requests']:.0f} | - "
            f"| {figures['wall']:.2f} | {ideal:.2f} | {figures['wall'] / ideal:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
