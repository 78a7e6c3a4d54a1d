"""The `etl` command as a user runs it: exit codes, messages, plugins, secrets, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ETL = [sys.executable, "-m", "etlcore"]
SECRET = "s3cr3t-Value-do-not-print"

PIPELINE = """\
name: toy
batch_size: 10
sources:
  - plugin: toy.count
    count: {count}
    token: ${{secret:TOY_TOKEN}}
{extra}
sinks:
  - plugin: toy.null
"""


def _dist_info(site: Path, name: str, entry_points: str) -> None:
    info = site / f"{name.replace('-', '_')}-0.0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0.1\n")
    (info / "entry_points.txt").write_text(entry_points)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A folder on PYTHONPATH 'installing' the toy plugins and a plugin broken on purpose."""
    site = tmp_path / "site"
    _dist_info(site, "etl-toy-plugins", "[etlcore]\ntoy = tests.engine.toy_plugins\n")
    _dist_info(site, "etl-broken-plugin", "[etlcore]\nbroken = etl_broken_plugin\n")
    (site / "etl_broken_plugin.py").write_text(
        'raise ImportError("this plugin is broken on purpose")\n'
    )
    return site


def etl(site: Path, *args: str, env: dict[str, str] | None = None, **kwargs):
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(site)]),
        "TOY_TOKEN": SECRET,
        **(env or {}),
    }
    return subprocess.run(
        [*ETL, *args], capture_output=True, text=True, env=environment, cwd=site, **kwargs
    )


def pipeline_file(tmp_path: Path, count: int = 30, extra: str = "") -> Path:
    path = tmp_path / "toy.yaml"
    path.write_text(PIPELINE.format(count=count, extra=extra))
    return path


def test_plugins_json_reports_the_broken_plugin(site: Path) -> None:
    done = etl(site, "plugins", "--json")
    assert done.returncode == 0, done.stderr
    plugins = {p["name"]: p for p in json.loads(done.stdout)}
    assert plugins["broken"]["broken"] is True
    assert "this plugin is broken on purpose" in plugins["broken"]["error"]
    assert plugins["broken"]["distribution"] == "etl-broken-plugin"
    toy = plugins["toy"]
    assert toy["broken"] is False and toy["version"] == "0.0.1"
    assert [s["name"] for s in toy["registers"]["source"]] == ["toy.count"]
    assert "config_schema" in toy["registers"]["source"][0]
    assert "plugin broken is broken and was skipped" in done.stderr


def test_plugins_table_shows_broken_status(site: Path) -> None:
    done = etl(site, "plugins", env={"COLUMNS": "200"})
    assert done.returncode == 0
    assert "broken: failed to import etl_broken_plugin" in done.stdout


def test_strict_mode_makes_a_broken_plugin_fatal(site: Path, tmp_path: Path) -> None:
    done = etl(site, "validate", str(pipeline_file(tmp_path)), env={"ETL_STRICT_PLUGINS": "1"})
    assert done.returncode == 2
    assert "ETL_STRICT_PLUGINS is set" in done.stderr and "broken" in done.stderr


def test_validate_and_run_work_despite_the_broken_plugin(site: Path, tmp_path: Path) -> None:
    path = pipeline_file(tmp_path)
    done = etl(site, "validate", str(path))
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout and "numbers" in done.stdout
    done = etl(site, "run", str(path), "--log-format", "json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["status"] == "succeeded"
    assert summary["streams"]["numbers"]["loaded"] == 30


def test_validate_reports_errors_with_locations_and_exit_2(site: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(PIPELINE.format(count="thirty", extra="").replace("toy.null", "toy.nul"))
    done = etl(site, "validate", str(path))
    assert done.returncode == 2
    assert f"{path}:5:12: sources[0].count: expected integer, got string 'thirty'" in done.stderr
    assert f"{path}:9:13: sinks[0].plugin: unknown sink plugin 'toy.nul'" in done.stderr
    assert "Traceback" not in done.stderr


def test_json_logs_are_one_object_per_line(site: Path, tmp_path: Path) -> None:
    done = etl(site, "run", str(pipeline_file(tmp_path)), "--log-format", "json", "-v")
    assert done.returncode == 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines
    for line in lines:
        entry = json.loads(line)
        assert {"ts", "level", "logger", "message"} <= entry.keys()


def test_a_secret_never_appears_in_logs_errors_or_dry_run(site: Path, tmp_path: Path) -> None:
    path = pipeline_file(tmp_path, extra="    fail_at: 25")
    for args in (
        ["run", str(path), "--log-format", "json", "-v"],
        ["run", str(path), "--log-format", "text", "-v"],
        ["run", str(path), "--dry-run"],
        ["validate", str(path)],
    ):
        done = etl(site, *args)
        assert SECRET not in done.stdout + done.stderr, args
    failed = etl(site, "run", str(path), "--log-format", "json")
    assert failed.returncode == 1
    assert "source failed at n=25 (token ***)" in failed.stdout  # masked, yet still useful
    dry = etl(site, "run", str(path), "--dry-run")
    assert '"token": "***"' in dry.stdout


def test_since_after_until_is_a_usage_error(site: Path, tmp_path: Path) -> None:
    done = etl(
        site, "run", str(pipeline_file(tmp_path)), "--since", "2024-02-01", "--until", "2024-01-01"
    )
    assert done.returncode == 2 and "is after --until" in done.stderr


def test_ctrl_c_stops_at_a_batch_boundary(site: Path, tmp_path: Path) -> None:
    path = pipeline_file(tmp_path, count=1000, extra="    sleep_per_batch: 0.05")
    process = subprocess.Popen(
        [*ETL, "run", str(path), "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=site,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO), str(site)]),
            "TOY_TOKEN": SECRET,
        },
    )
    deadline = time.monotonic() + 30
    assert process.stderr is not None
    while time.monotonic() < deadline:  # wait until the run has started
        if "started" in process.stderr.readline():
            break
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["status"] == "interrupted"
    loaded = summary["streams"]["numbers"]["loaded"]
    assert 0 < loaded < 1000 and loaded % 10 == 0  # whole batches only
    assert "stopping after the current batch" in stderr


def test_runs_and_quarantine_read_back_from_the_sqlite_sink(site: Path, tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(
        "name: toy\nbatch_size: 10\nsources:\n  - plugin: toy.count\n    count: 30\n"
        "    bad_every: 10\nsinks:\n  - plugin: sqlite\n"
        f"    path: {tmp_path / 'toy.db'}\n"
    )
    done = etl(site, "run", str(path), "--log-format", "json")
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout.strip().splitlines()[-1])["run_id"]

    runs = etl(site, "runs", str(path), "--json")
    assert runs.returncode == 0, runs.stderr
    (last,) = json.loads(runs.stdout)
    assert (last["run_id"], last["status"], last["loaded"], last["quarantined"]) == (
        run_id,
        "succeeded",
        27,
        3,
    )
    quarantined = etl(site, "quarantine", str(path), "--json")
    assert quarantined.returncode == 0, quarantined.stderr
    rows = json.loads(quarantined.stdout)
    assert sorted(row["record"]["n"] for row in rows) == [10, 20, 30]
    assert {row["error"] for row in rows} == {"label: expected string, got int"}
    table = etl(site, "quarantine", str(path), "--run", run_id, env={"COLUMNS": "200"})
    assert "label: expected string, got int" in table.stdout
    runs_table = etl(site, "runs", str(path))  # piped: ids are printed whole, on one line
    (line,) = [row for row in runs_table.stdout.splitlines() if run_id in row]
    assert "succeeded" in line and " s " in line  # status and how long it took
    none = etl(site, "quarantine", str(path), "--run", "no-such-run")
    assert none.stdout.strip() == "toy: nothing quarantined in run no-such-run"
