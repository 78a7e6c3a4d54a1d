"""A loader process for the crash and concurrency tests (``python -m tests.sinks.loader``).

It behaves like a source feeding a sink: it resumes from the watermark the sink holds, writes
``--units`` commit units of ``--rows`` photos each (plus one quarantined record per unit), and
prints one line per event (``locked <time>``, ``committed <unit>``, ``released <time>``) so that
a test can kill or disturb it at a known point.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from typing import Any

from etl_sinks.postgres import PostgresSink
from etl_sinks.sqlite import SqliteSink
from etl_sinks.testing import PHOTO, new_run, photo, unit

from etlcore.contract import QuarantinedRecord

SINKS = {"postgres": PostgresSink, "sqlite": SqliteSink}


def say(*words: Any) -> None:
    print(*words, flush=True)


def unit_records(index: int, rows: int) -> list[dict[str, Any]]:
    return [photo(index * rows + j) for j in range(rows)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sink", choices=sorted(SINKS), required=True)
    parser.add_argument("--config", required=True, help="the sink's config as JSON")
    parser.add_argument("--pipeline", default="crash")
    parser.add_argument("--run-id", default=None)
    parser.add_argument("--units", type=int, default=5)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between units")
    parser.add_argument(
        "--hang-in-unit",
        type=int,
        default=None,
        help="sleep forever inside the transaction of this unit, after its rows are written",
    )
    args = parser.parse_args(argv)

    sink = SINKS[args.sink](json.loads(args.config))
    if args.hang_in_unit is not None:
        original = sink._upsert_run  # type: ignore[attr-defined]

        def hanging(cur: Any, run: Any, counts: Any, units: int) -> None:
            if units == args.hang_in_unit + 1:
                say("hanging", args.hang_in_unit)
                time.sleep(3600)
            original(cur, run, counts, units)

        sink._upsert_run = hanging  # type: ignore[attr-defined]
    sink.open(args.pipeline, [PHOTO], [])
    say("locked", time.time())
    try:
        state = sink.read_state(args.pipeline).get("src")
        start = state["next_unit"] if state else 0
        run = new_run(args.run_id or f"run-{time.time_ns()}", args.pipeline)
        sink.start_run(run)
        for index in range(start, args.units):
            quarantined = [QuarantinedRecord("src", "photo", {"unit": index}, "bad record")]
            written = unit(
                run,
                {"photo": unit_records(index, args.rows)},
                state={"src": {"next_unit": index + 1}},
                quarantined=quarantined,
            )
            sink.write(written)
            run = dataclasses.replace(written.run)
            say("committed", index)
            time.sleep(args.pause)
        run.status, run.finished_at = "succeeded", dt.datetime.now(dt.UTC)
        sink.finish_run(run)
    finally:
        sink.close()
    say("released", time.time())
    return 0


if __name__ == "__main__":
    sys.exit(main())
