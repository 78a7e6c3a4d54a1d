"""Benchmark of the postgres sink: Mars-photo rows through the sink, side by side with a raw
psycopg COPY into an empty table and with dlt's postgres merge load of the same rows.

    .venv/bin/python bench/sink_bench.py                 # 1,000,000 rows (heavy: run it once)
    .venv/bin/python bench/sink_bench.py --rows 50000    # while developing

dlt runs from its own environment, bench/.venv-dlt (create it with bench/setup-dlt-venv);
without it the dlt line is skipped. Each method runs in a child process of its own, so that
its peak RSS is its own; rows are generated lazily batch by batch in every child the same way.
The plain raw COPY uses psycopg's defaults (the standard library's json); the sink encodes
jsonb with orjson, so a second raw COPY with orjson shows the gap that is the sink's own.
Times are load times: generating the rows is timed apart and not counted (for dlt, which pulls
the rows itself, the generation time measured in the same process is subtracted).
Results are printed as a table and as one JSON line; see bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
DLT_PYTHON = HERE / ".venv-dlt" / "bin" / "python"
TABLE = "mars_photo"
COLUMNS = (
    "photo_id",
    "sol",
    "camera",
    "camera_full_name",
    "rover",
    "earth_date",
    "img_src",
    "raw",
)
CAMERAS = (
    ("FHAZ", "Front Hazard Avoidance Camera"),
    ("RHAZ", "Rear Hazard Avoidance Camera"),
    ("MAST", "Mast Camera"),
    ("CHEMCAM", "Chemistry and Camera Complex"),
    ("MAHLI", "Mars Hand Lens Imager"),
    ("MARDI", "Mars Descent Imager"),
    ("NAVCAM", "Navigation Camera"),
)
LANDING = dt.date(2012, 8, 6)
ROVER = {
    "id": 5,
    "name": "Curiosity",
    "landing_date": "2012-08-06",
    "launch_date": "2011-11-26",
    "status": "active",
}
DDL = (
    "CREATE TABLE {table} (photo_id bigint NOT NULL, sol bigint, camera text, "
    "camera_full_name text, rover text, earth_date date, img_src text, raw jsonb, "
    "PRIMARY KEY (photo_id))"
)


def mars_photo(index: int) -> dict[str, Any]:
    """One photo, shaped like the Mars Rover Photos API's (deterministic in ``index``)."""
    photo_id = 100_000 + index
    sol = index // 400
    camera, full_name = CAMERAS[index % len(CAMERAS)]
    earth_date = LANDING + dt.timedelta(days=sol)
    img_src = (
        f"https://mars.nasa.gov/msl-raw-images/proj/msl/redops/ods/surface/sol/{sol:05d}/"
        f"opgs/edr/{camera.lower()}/{camera[:2]}B_{photo_id:09d}EDR_F0000000{camera}00323M_.JPG"
    )
    return {
        "photo_id": photo_id,
        "sol": sol,
        "camera": camera,
        "camera_full_name": full_name,
        "rover": "Curiosity",
        "earth_date": earth_date,
        "img_src": img_src,
        "raw": {
            "id": photo_id,
            "sol": sol,
            "camera": {"id": 20 + index % 7, "name": camera, "rover_id": 5, "full_name": full_name},
            "img_src": img_src,
            "earth_date": earth_date.isoformat(),
            "rover": ROVER,
        },
    }


def batches(rows: int, size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, rows, size):
        yield [mars_photo(i) for i in range(start, min(rows, start + size))]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is KiB on Linux


# -- the children: one method each, result as JSON on stdout ---------------------------------


def child_sink(args: argparse.Namespace) -> dict[str, Any]:
    from etl_sinks.postgres import PostgresSink

    from etlcore.contract import Column, CommitUnit, RunRecord, Stream

    stream = Stream(
        TABLE,
        ("photo_id",),
        (
            Column("photo_id", "integer"),
            Column("sol", "integer"),
            Column("camera", "string"),
            Column("camera_full_name", "string"),
            Column("rover", "string"),
            Column("earth_date", "date"),
            Column("img_src", "string"),
            Column("raw", "json"),
        ),
    )
    started = time.perf_counter()
    sink = PostgresSink({"url": args.url, "schema": args.schema})
    sink.open("bench", [stream], [])
    run = RunRecord(f"bench-{uuid.uuid4().hex[:8]}", "bench", dt.datetime.now(dt.UTC))
    sink.start_run(run)
    load = time.perf_counter() - started
    generate = 0.0
    totals = {"inserted": 0, "updated": 0, "unchanged": 0}
    source = batches(args.rows, args.batch_size)
    index = 0
    while True:
        t0 = time.perf_counter()
        batch = next(source, None)
        t1 = time.perf_counter()
        generate += t1 - t0
        if batch is None:
            break
        counts = sink.write(CommitUnit(run, {TABLE: batch}, [], {"mars": {"batch": index}}))[TABLE]
        load += time.perf_counter() - t1
        totals["inserted"] += counts.inserted
        totals["updated"] += counts.updated
        totals["unchanged"] += counts.unchanged
        index += 1
    t0 = time.perf_counter()
    run.status, run.finished_at = "succeeded", dt.datetime.now(dt.UTC)
    sink.finish_run(run)
    sink.close()
    load += time.perf_counter() - t0
    return {"seconds": load, "generate_seconds": generate, "rss_mb": peak_rss_mb(), **totals}


def child_raw(args: argparse.Namespace) -> dict[str, Any]:
    import psycopg
    from psycopg import sql

    load = generate = 0.0
    with psycopg.connect(args.url) as conn:
        if args.child == "raw-orjson":  # the sink's JSON encoder, to show what is left of the gap
            import orjson
            from psycopg.types.json import set_json_dumps

            set_json_dumps(orjson.dumps, context=conn)
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(args.schema)))
        table = sql.Identifier(args.schema, TABLE)
        conn.execute(sql.SQL(DDL).format(table=table))
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
                    table, sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
                )
            ) as copy,
        ):
            copy.set_types(["int8", "int8", "text", "text", "text", "date", "text", "jsonb"])
            source = batches(args.rows, args.batch_size)
            load += time.perf_counter() - started
            while True:
                t0 = time.perf_counter()
                batch = next(source, None)
                t1 = time.perf_counter()
                generate += t1 - t0
                if batch is None:
                    break
                for record in batch:
                    copy.write_row(tuple(map(record.get, COLUMNS)))
                load += time.perf_counter() - t1
        t0 = time.perf_counter()
        conn.commit()
        load += time.perf_counter() - t0
    return {"seconds": load, "generate_seconds": generate, "rss_mb": peak_rss_mb()}


def child_dlt(args: argparse.Namespace) -> dict[str, Any]:
    import dlt

    t0 = time.perf_counter()
    for _ in batches(args.rows, args.batch_size):
        pass
    generate = time.perf_counter() - t0

    @dlt.resource(
        name=TABLE,
        write_disposition="merge",
        primary_key="photo_id",
        columns={"raw": {"data_type": "json"}, "earth_date": {"data_type": "date"}},
    )
    def photos() -> Iterator[list[dict[str, Any]]]:
        yield from batches(args.rows, args.batch_size)

    url = urllib.parse.urlsplit(args.url)
    if url.password is None:  # dlt insists on a password; a trust-auth server ignores it
        url = url._replace(
            netloc=f"{url.username or 'postgres'}:unused@{url.hostname}:{url.port or 5432}"
        )
    with tempfile.TemporaryDirectory() as pipelines_dir:
        pipeline = dlt.pipeline(
            pipeline_name=f"bench_{args.schema}",
            pipelines_dir=pipelines_dir,
            destination=dlt.destinations.postgres(credentials=urllib.parse.urlunsplit(url)),
            dataset_name=args.schema,
        )
        started = time.perf_counter()
        pipeline.run(photos())
        wall = time.perf_counter() - started
    return {
        "seconds": max(wall - generate, 1e-9),
        "wall_seconds": wall,
        "generate_seconds": generate,
        "rss_mb": peak_rss_mb(),
        "dlt_version": dlt.__version__,
    }


CHILDREN = {"sink": child_sink, "raw": child_raw, "raw-orjson": child_raw, "dlt": child_dlt}


# -- the orchestrator ------------------------------------------------------------------------


def run_child(python: str | Path, method: str, args: argparse.Namespace, schema: str) -> Any:
    command = [
        str(python),
        __file__,
        "--child",
        method,
        "--rows",
        str(args.rows),
        "--batch-size",
        str(args.batch_size),
        "--url",
        args.url,
        "--schema",
        schema,
    ]
    print(f"  running {method} ({schema}) ...", file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{method} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def checksum(url: str, schema: str, table: str, columns: tuple[str, ...]) -> tuple[int, str]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url) as conn:
        row = conn.execute(
            sql.SQL(
                "SELECT count(*), md5(string_agg(({})::text, '|' ORDER BY photo_id)) FROM {}"
            ).format(
                sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(schema, table)
            )
        ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def drop_schemas(url: str, schemas: list[str]) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        for schema in schemas:
            for name in (schema, f"{schema}_staging"):
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=10_000, help="rows per commit unit")
    parser.add_argument("--url", default=os.environ.get("BENCH_PG_URL", DEFAULT_URL))
    parser.add_argument("--skip-dlt", action="store_true")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return 0

    tag = uuid.uuid4().hex[:6]
    schemas = {name: f"bench_{name}_{tag}" for name in ("raw", "raw_orjson", "sink", "dlt")}
    python = sys.executable
    results: dict[str, Any] = {}
    try:
        results["raw COPY"] = run_child(python, "raw", args, schemas["raw"])
        results["raw COPY, orjson"] = run_child(python, "raw-orjson", args, schemas["raw_orjson"])
        results["sink, first load"] = run_child(python, "sink", args, schemas["sink"])
        results["sink, unchanged re-run"] = run_child(python, "sink", args, schemas["sink"])
        if not args.skip_dlt and DLT_PYTHON.exists():
            results["dlt merge"] = run_child(DLT_PYTHON, "dlt", args, schemas["dlt"])
        elif not args.skip_dlt:
            print("  dlt skipped: run bench/setup-dlt-venv first", file=sys.stderr)
        same = checksum(args.url, schemas["raw"], TABLE, COLUMNS) == checksum(
            args.url, schemas["sink"], TABLE, COLUMNS
        )
    finally:
        drop_schemas(args.url, list(schemas.values()))

    rows = args.rows
    print(f"\n{rows:,} Mars-photo rows, {args.batch_size:,} rows per commit unit, {args.url}")
    print(f"{'method':<26}{'seconds':>9}{'rows/s':>12}{'peak RSS MB':>13}")
    for name, result in results.items():
        rate = rows / result["seconds"]
        result["rows_per_second"] = rate
        print(f"{name:<26}{result['seconds']:>9.2f}{rate:>12,.0f}{result['rss_mb']:>13.0f}")
    first = results["sink, first load"]
    rerun = results["sink, unchanged re-run"]
    ratios = {
        "sink / raw COPY (target >= 0.5)": first["rows_per_second"]
        / results["raw COPY"]["rows_per_second"],
        "unchanged re-run speed-up (target >= 2)": first["seconds"] / rerun["seconds"],
    }
    ratios["sink / raw COPY with orjson (no target)"] = (
        first["rows_per_second"] / results["raw COPY, orjson"]["rows_per_second"]
    )
    if "dlt merge" in results:
        ratios["sink / dlt (target >= 6)"] = (
            first["rows_per_second"] / results["dlt merge"]["rows_per_second"]
        )
    print()
    for name, value in ratios.items():
        print(f"{name:<42}{value:>8.2f}")
    print(f"{'sink peak RSS MB (target < 300)':<42}{max(first['rss_mb'], rerun['rss_mb']):>8.0f}")
    print(
        f"re-run counts: {rerun['unchanged']:,} unchanged, {rerun['updated']:,} updated, "
        f"{rerun['inserted']:,} inserted; sink table equals raw COPY table: {same}"
    )
    print(
        json.dumps(
            {
                "rows": rows,
                "batch_size": args.batch_size,
                "results": results,
                "ratios": ratios,
                "tables_equal": same,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
