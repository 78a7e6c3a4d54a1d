"""The sqlite sink: no row rewritten on a re-run, WAL, crashes and concurrent runs."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from etl_sinks.errors import SinkConnectionError
from etl_sinks.sqlite import SqliteSink
from etl_sinks.testing import PHOTO, new_run, photo, unit

from etlcore.contract import UpsertCounts
from tests.sinks.processes import Loader, run_loader


def loaded_state(path: Path) -> dict[str, Any]:
    """Everything a run leaves, apart from run ids and times."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT * FROM photo ORDER BY photo_id").fetchall()
        return {
            "photo": (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()),
            "state": conn.execute("SELECT pipeline, step, state FROM _etl_state").fetchall(),
            "quarantined": conn.execute(
                "SELECT record, count(*) FROM _etl_quarantine GROUP BY 1 ORDER BY 1"
            ).fetchall(),
        }


def test_a_rerun_of_the_same_data_rewrites_no_row(
    make_sqlite_sink: Callable[..., SqliteSink], sqlite_path: Path
) -> None:
    records = [photo(i) for i in range(300)]
    sink = make_sqlite_sink()
    sink.open("nasa", [PHOTO], [])
    sink.write(unit(new_run("run-1", "nasa"), {"photo": records}))
    with sqlite3.connect(sqlite_path) as conn:
        conn.execute("CREATE TABLE rewrites (photo_id INTEGER)")
        conn.execute(
            "CREATE TRIGGER count_rewrites AFTER UPDATE ON photo "
            "BEGIN INSERT INTO rewrites VALUES (old.photo_id); END"
        )
    before = loaded_state(sqlite_path)
    counts = sink.write(unit(new_run("run-2", "nasa"), {"photo": records}))
    assert counts == {"photo": UpsertCounts(0, 0, 300)}
    assert loaded_state(sqlite_path)["photo"] == before["photo"]
    with sqlite3.connect(sqlite_path) as conn:
        assert conn.execute("SELECT count(*) FROM rewrites").fetchone() == (0,)
    records[5] = photo(5, hazardous=not records[5]["hazardous"])
    assert sink.write(unit(new_run("run-3", "nasa"), {"photo": records})) == {
        "photo": UpsertCounts(0, 1, 299)
    }
    with sqlite3.connect(sqlite_path) as conn:
        assert conn.execute("SELECT photo_id FROM rewrites").fetchall() == [(5,)]
    sink.close()


def test_values_are_stored_in_readable_sqlite_forms(
    make_sqlite_sink: Callable[..., SqliteSink], sqlite_path: Path
) -> None:
    sink = make_sqlite_sink()
    sink.open("nasa", [PHOTO], [])
    sink.write(unit(new_run(), {"photo": [photo(2, raw={"b": 1, "a": "ü"})]}))
    sink.close()
    with sqlite3.connect(sqlite_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        row = conn.execute(
            "SELECT hazardous, earth_date, taken_at, raw, typeof(ratio) FROM photo"
        ).fetchone()
    assert row == (1, "2024-01-03", "2024-01-01T12:30:02.000002+00:00", '{"a":"ü","b":1}', "real")


def test_a_missing_folder_is_created(tmp_path: Path) -> None:
    sink = SqliteSink({"path": str(tmp_path / "data" / "nasa.db")})
    sink.open("nasa", [PHOTO], [])
    sink.close()
    assert (tmp_path / "data" / "nasa.db").is_file()


def test_an_unusable_path_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    sink = SqliteSink({"path": str(tmp_path / "a-file" / "nasa.db")})
    with pytest.raises(SinkConnectionError, match=r"cannot open SQLite database .*nasa\.db"):
        sink.open("nasa", [PHOTO], [])
    sink.close()


def test_reading_history_does_not_create_the_database(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    assert SqliteSink({"path": str(path)}).recent_runs("nasa") == []
    assert not path.exists()


@pytest.mark.slow
def test_a_loader_killed_mid_unit_leaves_nothing_half_written(
    sqlite_path: Path, tmp_path: Path
) -> None:
    config = {"path": str(sqlite_path)}
    loader = Loader("sqlite", config, "--units", "5", "--rows", "200", "--hang-in-unit", "2")
    loader.wait_for("hanging")  # unit 2's rows are written, its transaction is open
    loader.kill()
    state = loaded_state(sqlite_path)
    assert state["photo"][0] == 400
    assert state["state"] == [("crash", "src", '{"next_unit":2}')]
    assert len(state["quarantined"]) == 2

    run_loader("sqlite", config, "--units", "5", "--rows", "200")
    clean = tmp_path / "clean.db"
    run_loader("sqlite", {"path": str(clean)}, "--units", "5", "--rows", "200")
    assert loaded_state(sqlite_path) == loaded_state(clean)
    with sqlite3.connect(sqlite_path) as conn:
        statuses = sorted(s for (s,) in conn.execute("SELECT status FROM _etl_runs"))
    assert statuses == ["interrupted", "succeeded"]


@pytest.mark.slow
def test_two_runs_of_one_pipeline_are_serialised(sqlite_path: Path, tmp_path: Path) -> None:
    args = ("--units", "4", "--rows", "100", "--pause", "0.3")
    config = {"path": str(sqlite_path)}
    first, second = Loader("sqlite", config, *args), Loader("sqlite", config, *args)
    first.finish()
    second.finish()
    spans = sorted((loader.value("locked"), loader.value("released")) for loader in (first, second))
    assert spans[0][1] <= spans[1][0], f"the runs overlapped: {spans}"
    clean = tmp_path / "clean.db"
    run_loader("sqlite", {"path": str(clean)}, *args)
    assert loaded_state(sqlite_path) == loaded_state(clean)
