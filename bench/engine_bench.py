"""The engine's own cost: records through the runner (validation, quarantine routing, commit
units) into a sink that forgets them, side by side with the same records handed straight to
that sink, in one run.

    .venv/bin/python bench/engine_bench.py [--records 1000000] [--batch-size 5000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from etlcore.config import load_pipeline  # noqa: E402
from etlcore.contract import CommitUnit, RunOptions, RunRecord  # noqa: E402
from etlcore.plugins import PluginInfo, PluginRegistry  # noqa: E402
from etlcore.runner import Runner  # noqa: E402
from tests.engine import toy_plugins  # noqa: E402

PIPELINE = """\
name: bench
batch_size: {batch_size}
sources: [{{plugin: toy.count, count: {records}}}]
sinks: [{{plugin: toy.null}}]
"""


def through_engine(records: int, batch_size: int) -> float:
    registry = PluginRegistry.load(entry_points_=False)
    registry.add_module(toy_plugins, PluginInfo("toy"))
    text = PIPELINE.format(records=records, batch_size=batch_size)
    runner = Runner(load_pipeline("bench.yaml", registry, text=text, environ={}), RunOptions())
    started = time.perf_counter()
    result = runner.run()
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0 and toy_plugins.NullSink.loaded == records
    return elapsed


def straight_to_sink(records: int, batch_size: int) -> float:
    import datetime as dt

    sink = toy_plugins.NullSink({})
    sink.open("bench", [toy_plugins.NUMBERS], [])
    run = RunRecord("bench", "bench", dt.datetime.now(dt.UTC))
    started = time.perf_counter()
    for start in range(1, records + 1, batch_size):
        rows = [
            {"n": i, "label": f"n{i}", "half": i / 2}
            for i in range(start, min(records, start + batch_size - 1) + 1)
        ]
        sink.write(CommitUnit(run, {"numbers": rows}, state={"bench": {"last": start}}))
    elapsed = time.perf_counter() - started
    assert toy_plugins.NullSink.loaded == records
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()
    baseline = straight_to_sink(args.records, args.batch_size)
    engine = through_engine(args.records, args.batch_size)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"records: {args.records:,}  batch size: {args.batch_size:,}")
    print(f"straight to the sink : {args.records / baseline:12,.0f} records/s  ({baseline:.2f} s)")
    print(f"through the engine   : {args.records / engine:12,.0f} records/s  ({engine:.2f} s)")
    print(f"engine / straight    : {baseline / engine:.2f}x of the bare rate")
    print(f"peak RSS             : {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
