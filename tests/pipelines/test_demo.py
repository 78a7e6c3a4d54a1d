"""`make demo`: the README's offline run of pipelines/nasa.yaml, end to end, twice."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def demo(db: Path, since: dt.date, until: dt.date) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DB_HOST")}
    done = subprocess.run(
        [
            sys.executable,
            "scripts/demo.py",
            "--db",
            str(db),
            "--since",
            str(since),
            "--until",
            str(until),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "daily_summary, last 5 days:" in done.stdout
    (summary,) = [json.loads(line) for line in done.stdout.splitlines() if '"run_summary"' in line]
    return summary


def test_demo_loads_everything_then_a_second_run_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    until = dt.date.today() - dt.timedelta(days=1)
    since = until - dt.timedelta(days=6)
    first = demo(db, since, until)
    assert first["status"] == "succeeded"
    streams = first["streams"]
    assert set(streams) == {"apod", "neo", "neo_close_approach", "mars_photo", "nasa_event"}
    assert all(s["loaded"] == s["inserted"] > 0 for s in streams.values()), streams
    with sqlite3.connect(db) as con:
        enriched = con.execute(
            "SELECT COUNT(*) FROM nasa_event WHERE enrich_status = 'ok' AND image_width > 0"
        ).fetchone()[0]
        days = con.execute("SELECT COUNT(*) FROM daily_summary").fetchone()[0]
    assert enriched > 0 and days >= 7

    second = demo(db, since, until)
    assert second["status"] == "succeeded"
    assert second["requests"] < first["requests"]
    for name, counts in second["streams"].items():
        assert counts["inserted"] == counts["updated"] == 0, (name, counts)
