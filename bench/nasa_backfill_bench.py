"""One-year backfill of APOD, NeoWs and Mars photos against the NASA simulator at 100 ms
latency: requests made and wall time, against the ideal (requests x latency / workers).

    .venv/bin/python bench/nasa_backfill_bench.py [--days 366] [--latency-ms 100]
        [--workers 4] [--mars-scale 1]

Each source runs alone (its own pipeline, engine runner + sqlite sink in a temporary folder),
then all three together, so every row has its own wall time. Ratios, not absolute seconds,
are what to compare between machines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from etl_nasa_sources.date_windows import today_us_eastern  # noqa: E402

from tests.nasa.pipeline_helpers import harness, nasa_pipeline  # noqa: E402
from tests.simulator import Faults, NasaSimulator  # noqa: E402

SOURCES = {"apod": "/planetary/apod", "neows": "/neo/rest/v1/feed", "mars": "/mars-photos/"}


def run_once(
    sources: tuple[str, ...], days: int, latency_ms: float, workers: int, scale: float
) -> dict[str, float]:
    today = today_us_eastern()
    since = today - dt.timedelta(days=days - 1)
    with (
        tempfile.TemporaryDirectory() as folder,
        NasaSimulator(
            fixtures=None, today=today, faults=Faults(latency_ms=latency_ms), mars_scale=scale
        ) as sim,
    ):
        pipeline = nasa_pipeline(sim, Path(folder) / "nasa.db", sources=sources, workers=workers)
        started = time.perf_counter()
        result = harness(Path(folder)).run(pipeline, since=since)
        wall = time.perf_counter() - started
        if not result.succeeded:
            raise SystemExit(f"run failed: {result.run.error}")
        requests = {name: sim.count(prefix) for name, prefix in SOURCES.items()}
        rows = sum(c.loaded for c in result.run.counts.values())
    # Steps run one after the other; within a step, `workers` requests are in flight.
    ideal = sum(requests[name] * latency_ms / 1000 / workers for name in sources)
    return {
        "requests": sum(requests[n] for n in sources),
        "wall": wall,
        "ideal": ideal,
        "rows": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=366)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--mars-scale", type=float, default=1.0)
    args = parser.parse_args()
    print(
        f"{args.days}-day backfill, {args.latency_ms:.0f} ms latency, workers={args.workers}, "
        f"mars scale {args.mars_scale}"
    )
    print("| run | requests | rows loaded | wall s | ideal s | wall / ideal |")
    print("|---|---:|---:|---:|---:|---:|")
    for sources in (("apod",), ("neows",), ("mars",), ("apod", "neows", "mars")):
        figures = run_once(sources, args.days, args.latency_ms, args.workers, args.mars_scale)
        print(
            f"| {' + '.join(sources)} | {figures['requests']:.0f} | {figures['rows']:.0f} "
            f"| {figures['wall']:.2f} | {figures['ideal']:.2f} "
            f"| {figures['wall'] / figures['ideal']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
