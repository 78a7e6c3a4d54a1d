"""The postgres sink under failure: re-runs, SIGKILL, terminated connections, concurrent runs,
and credentials kept out of errors."""

from __future__ import annotations

import dataclasses
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from etl_sinks.errors import PipelineLockedError, SinkConnectionError, SinkError
from etl_sinks.postgres import PostgresSink
from etl_sinks.postgres_connection import PostgresSettings
from etl_sinks.testing import PHOTO, new_run, photo, unit
from psycopg import sql

from etlcore.contract import QuarantinedRecord, UpsertCounts
from etlcore.secrets import Secret
from tests.sinks.processes import Loader, run_loader

pytestmark = pytest.mark.postgres

Query = Callable[..., list[tuple[Any, ...]]]


def table_checksum(query: Query) -> tuple[int, str]:
    [(count, digest)] = query(
        "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY photo_id), '')) "
        "FROM photo t"
    )
    return count, digest


def loaded_state(query: Query) -> dict[str, Any]:
    """Everything a run leaves, apart from run ids and times."""
    return {
        "photo": table_checksum(query),
        "state": query("SELECT pipeline, step, state FROM _etl_state ORDER BY 1, 2"),
        "quarantined": query(
            "SELECT record::text, count(*) FROM _etl_quarantine GROUP BY 1 ORDER BY 1"
        ),
    }


@pytest.fixture
def clean_run(pg_url: str) -> Iterator[Callable[..., dict[str, Any]]]:
    """What a loader run that nothing disturbs leaves behind (in a schema of its own)."""
    schemas: list[str] = []

    def load(*args: str) -> dict[str, Any]:
        schema = f"test_sinks_clean_{time.time_ns()}"
        schemas.append(schema)
        run_loader("postgres", {"url": pg_url, "schema": schema}, *args)

        def query(statement: str) -> list[tuple[Any, ...]]:
            with psycopg.connect(pg_url) as conn:
                conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
                return conn.execute(statement).fetchall()

        return loaded_state(query)

    yield load
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def admin(pg_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield conn


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def waits_on_a_lock(admin: psycopg.Connection[Any], pid: int) -> bool:
    row = admin.execute(
        "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
    ).fetchone()
    return row is not None and row[0] == "Lock"


def loader_backend(admin: psycopg.Connection[Any], pipeline: str) -> int | None:
    row = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND state <> 'idle' "
        "AND wait_event_type = 'Lock'",
        (f"etl:{pipeline}",),
    ).fetchone()
    return row[0] if row else None


# -- idempotent re-runs ------------------------------------------------------------------------


def test_a_rerun_of_the_same_data_rewrites_no_row(
    make_pg_sink: Callable[..., PostgresSink], pg_query: Query
) -> None:
    records = [photo(i) for i in range(500)]
    sink = make_pg_sink()
    sink.open("nasa", [PHOTO], [])
    sink.write(unit(new_run("run-1", "nasa"), {"photo": records[:250]}))
    sink.write(unit(new_run("run-1", "nasa"), {"photo": records[250:]}))
    sink.close()
    before = table_checksum(pg_query)
    # xmax too: an unchanged row is not even locked (a lock would write its header)
    versions = pg_query(
        "SELECT photo_id, xmin::text, xmax::text, ctid::text FROM photo ORDER BY photo_id"
    )

    sink = make_pg_sink()
    sink.open("nasa", [PHOTO], [])
    counts = sink.write(unit(new_run("run-2", "nasa"), {"photo": records}))
    assert counts == {"photo": UpsertCounts(0, 0, 500)}
    assert table_checksum(pg_query) == before
    assert (
        pg_query("SELECT photo_id, xmin::text, xmax::text, ctid::text FROM photo ORDER BY photo_id")
        == versions
    )
    # the check can fail: a changed row does get a new row version
    records[7] = photo(7, camera="changed")
    assert sink.write(unit(new_run("run-3", "nasa"), {"photo": records})) == {
        "photo": UpsertCounts(0, 1, 499)
    }
    after = pg_query("SELECT photo_id, xmin::text FROM photo ORDER BY photo_id")
    assert [row for row in after if row[1] != versions[row[0]][1]] == [(7, after[7][1])]
    sink.close()


# -- crashes -------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_loader_killed_mid_unit_leaves_nothing_half_written(
    pg_config: dict[str, Any],
    pg_query: Query,
    admin: psycopg.Connection[Any],
    clean_run: Callable[..., dict[str, Any]],
) -> None:
    args = ("--units", "5", "--rows", "200", "--pause", "0.5", "--run-id", "doomed")
    loader = Loader("postgres", pg_config, *args)
    loader.wait_for("committed 1")
    # Hold the run record: unit 2 copies and merges its rows, then waits for this lock
    # inside its transaction. Kill the loader there.
    with psycopg.connect(pg_config["url"]) as blocker:
        blocker.execute(
            sql.SQL("SET search_path TO {}").format(sql.Identifier(pg_config["schema"]))
        )
        blocker.execute("SELECT 1 FROM _etl_runs WHERE run_id = 'doomed' FOR UPDATE")
        wait_until(lambda: loader_backend(admin, "crash") is not None, "unit 2 to block")
        loader.kill()
        blocker.rollback()
    wait_until(
        lambda: (
            not admin.execute(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = 'etl:crash'"
            ).fetchall()
        ),
        "the killed loader's session to end",
    )
    # whole units only: the unit that was killed left no row, quarantine entry or watermark
    [(state,)] = pg_query("SELECT state FROM _etl_state")
    done = state["next_unit"]
    assert 2 <= done < 5
    assert table_checksum(pg_query)[0] == done * 200
    assert pg_query("SELECT count(*) FROM _etl_quarantine") == [(done,)]

    run_loader("postgres", pg_config, "--units", "5", "--rows", "200")
    assert loaded_state(pg_query) == clean_run("--units", "5", "--rows", "200")
    statuses = dict(pg_query("SELECT run_id, status FROM _etl_runs"))
    assert statuses.pop("doomed") == "interrupted"
    assert list(statuses.values()) == ["succeeded"]


def test_a_terminated_connection_is_rolled_back_reconnected_and_retried(
    make_pg_sink: Callable[..., PostgresSink],
    pg_query: Query,
    pg_config: dict[str, Any],
    admin: psycopg.Connection[Any],
) -> None:
    sink = make_pg_sink(reconnect_attempts=3)
    sink.open("nasa", [PHOTO], [])
    run = new_run("run-1", "nasa")
    sink.start_run(run)
    first = unit(
        run,
        {"photo": [photo(i) for i in range(100)]},
        state={"src": {"n": 1}},
        quarantined=[QuarantinedRecord("src", "photo", {"n": 1}, "bad")],
    )
    sink.write(first)
    old_pid = sink.backend_pid
    assert old_pid is not None

    second = unit(
        first.run,
        {"photo": [photo(i) for i in range(100, 300)]},
        state={"src": {"n": 2}},
        quarantined=[QuarantinedRecord("src", "photo", {"n": 2}, "bad")],
    )
    result: dict[str, Any] = {}

    def write() -> None:
        try:
            result["counts"] = sink.write(second)
        except Exception as exc:  # reported below
            result["error"] = exc

    with psycopg.connect(pg_config["url"]) as blocker:
        blocker.execute(
            sql.SQL("SET search_path TO {}").format(sql.Identifier(pg_config["schema"]))
        )
        blocker.execute("SELECT 1 FROM _etl_runs WHERE run_id = 'run-1' FOR UPDATE")
        writer = threading.Thread(target=write)
        writer.start()
        wait_until(lambda: waits_on_a_lock(admin, old_pid), "the unit to block mid-transaction")
        admin.execute("SELECT pg_terminate_backend(%s)", (old_pid,))
        # the retried unit blocks again on the same row: proof it was retried in a new session
        wait_until(
            lambda: (
                sink.backend_pid not in (None, old_pid) and waits_on_a_lock(admin, sink.backend_pid)
            ),
            "the unit to be retried on a new connection",
        )
        assert table_checksum(pg_query)[0] == 100  # nothing of the unit while it is in flight
        blocker.rollback()
    writer.join(timeout=60)
    assert "error" not in result, result
    assert result["counts"] == {"photo": UpsertCounts(200, 0, 0)}
    assert table_checksum(pg_query)[0] == 300
    assert pg_query("SELECT state FROM _etl_state") == [({"n": 2},)]
    assert pg_query("SELECT record::text FROM _etl_quarantine ORDER BY id") == [
        ('{"n": 1}',),
        ('{"n": 2}',),
    ]
    assert pg_query("SELECT units FROM _etl_runs") == [(2,)]
    # the new session holds the pipeline lock again
    other = make_pg_sink(lock="fail")
    with pytest.raises(PipelineLockedError):
        other.open("nasa", [PHOTO], [])
    sink.close()


def test_without_reconnects_a_lost_connection_fails_the_unit_whole(
    make_pg_sink: Callable[..., PostgresSink], pg_query: Query, admin: psycopg.Connection[Any]
) -> None:
    sink = make_pg_sink(reconnect_attempts=0)
    sink.open("nasa", [PHOTO], [])
    run = new_run("run-1", "nasa")
    sink.write(unit(run, {"photo": [photo(1)]}, state={"src": {"n": 1}}))
    admin.execute("SELECT pg_terminate_backend(%s)", (sink.backend_pid,))
    with pytest.raises(SinkConnectionError, match=r"lost the connection.*rolled back") as caught:
        sink.write(unit(run, {"photo": [photo(2)]}, state={"src": {"n": 2}}))
    assert "postgres@" not in str(caught.value)
    # the end of the run is still recorded: finish_run gets one reconnect whatever the setting
    sink.finish_run(dataclasses.replace(run, status="failed", error=str(caught.value)))
    sink.close()
    assert pg_query("SELECT status FROM _etl_runs") == [("failed",)]
    assert table_checksum(pg_query)[0] == 1
    assert pg_query("SELECT state FROM _etl_state") == [({"n": 1},)]
    # a re-run completes
    again = make_pg_sink()
    again.open("nasa", [PHOTO], [])
    assert again.read_state("nasa") == {"src": {"n": 1}}
    again.write(unit(new_run("run-2", "nasa"), {"photo": [photo(2)]}, state={"src": {"n": 2}}))
    again.close()
    assert table_checksum(pg_query)[0] == 2


def test_a_run_that_lost_its_lock_to_another_run_stops(
    make_pg_sink: Callable[..., PostgresSink], pg_query: Query, admin: psycopg.Connection[Any]
) -> None:
    first = make_pg_sink()
    first.open("nasa", [PHOTO], [])
    admin.execute("SELECT pg_terminate_backend(%s)", (first.backend_pid,))
    second = make_pg_sink()
    second.open("nasa", [PHOTO], [])  # the lock died with the first run's session
    with pytest.raises(PipelineLockedError, match="another run of pipeline 'nasa'"):
        first.write(unit(new_run("run-1", "nasa"), {"photo": [photo(1)]}))
    first.close()
    second.close()
    assert table_checksum(pg_query)[0] == 0


# -- concurrency ---------------------------------------------------------------------------


@pytest.mark.slow
def test_two_runs_of_one_pipeline_are_serialised(
    pg_config: dict[str, Any], pg_query: Query, clean_run: Callable[..., dict[str, Any]]
) -> None:
    args = ("--units", "4", "--rows", "100", "--pause", "0.3")
    first, second = Loader("postgres", pg_config, *args), Loader("postgres", pg_config, *args)
    first.finish()
    second.finish()
    spans = sorted((loader.value("locked"), loader.value("released")) for loader in (first, second))
    assert spans[0][1] <= spans[1][0], f"the runs overlapped: {spans}"
    assert loaded_state(pg_query) == clean_run(*args)
    assert sorted(s for (s,) in pg_query("SELECT status FROM _etl_runs")) == [
        "succeeded",
        "succeeded",
    ]


def test_lock_holder_is_named_in_the_error(make_pg_sink: Callable[..., PostgresSink]) -> None:
    holder = make_pg_sink()
    holder.open("nasa", [PHOTO], [])
    other = make_pg_sink(lock="fail")
    with pytest.raises(PipelineLockedError, match=r"server process \d+, etl:nasa"):
        other.open("nasa", [PHOTO], [])
    holder.close()


# -- credentials ---------------------------------------------------------------------------


def _everything_said(exc: BaseException) -> str:
    return str(exc) + "".join(traceback.format_exception(exc))


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:Pw-s3cret-1@127.0.0.1:1/test",  # nothing listens there
        "postgresql://postgres:Pw-s3cret-1@127.0.0.1:5432/no_such_database",
        "postgres:Pw-s3cret-1@127.0.0.1/test",  # malformed: psycopg would echo it whole
        "postgresql://postgres:Pw-s3cret-1@[127.0.0.1:5432/test",
    ],
)
def test_connection_errors_never_show_the_password(url: str) -> None:
    sink = PostgresSink({"url": Secret(url, "DATABASE_URL")})
    with pytest.raises(SinkError) as caught:
        sink.open("nasa", [PHOTO], [])
    said = _everything_said(caught.value)
    assert "Pw-s3cret-1" not in said
    assert "127.0.0.1" in said or "not a valid connection URL" in said


def test_a_wrong_password_from_fields_is_not_shown(pg_url: str) -> None:
    sink = PostgresSink(
        {
            "host": "127.0.0.1",
            "port": 1,
            "user": "etl",
            "password": Secret("Field-Pw-s3cret", "DB_PASS"),
            "dbname": "test",
        }
    )
    with pytest.raises(SinkConnectionError) as caught:
        sink.open("nasa", [PHOTO], [])
    assert "Field-Pw-s3cret" not in _everything_said(caught.value)
    assert "127.0.0.1:1/test" in str(caught.value)


@pytest.mark.parametrize(
    "message",
    [
        'missing "=" after "postgresql://etl:hunter2x@db:5432/nasa" in connection info string',
        "connection to server failed: host=db user=etl password=hunter2x dbname=nasa",
        "connection to server failed: password='hunter2x' host=db",
        "URI postgres://etl:hunter2x@db/nasa is bad",
    ],
)
def test_redaction_removes_passwords_from_any_message(message: str) -> None:
    settings = PostgresSettings.from_config({"url": "postgresql://etl:hunter2x@db:5432/nasa"})
    redacted = settings.redact(message)
    assert "hunter2x" not in redacted
    assert "***" in redacted


# -- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "sslmode"),
    [
        ({"host": "mydb.abc.eu-west-1.rds.amazonaws.com"}, "require"),
        ({"host": "localhost"}, "prefer"),
        ({"host": "127.0.0.1"}, "prefer"),
        ({"host": "::1"}, "prefer"),
        ({"host": "db.internal", "sslmode": "verify-full"}, "verify-full"),
        ({"url": "postgresql://u@mydb.example.com/nasa"}, "require"),
        ({"url": "postgresql://u@127.0.0.1/nasa"}, "prefer"),
        ({"url": "postgresql://u@mydb.example.com/nasa?sslmode=disable"}, None),  # the URL's own
    ],
)
def test_tls_is_required_for_remote_hosts_by_default(
    config: dict[str, Any], sslmode: str | None
) -> None:
    kwargs = PostgresSettings.from_config(config).connect_kwargs("etl:nasa")
    assert kwargs.get("sslmode") == sslmode


def test_url_wins_over_fields_and_an_empty_url_is_ignored() -> None:
    both = PostgresSettings.from_config({"url": "postgresql://u@urlhost/db", "host": "fieldhost"})
    assert both.where == "urlhost:5432/db"
    empty = PostgresSettings.from_config({"url": "", "host": "fieldhost", "dbname": "nasa"})
    assert empty.where == "fieldhost:5432/nasa"
    with pytest.raises(SinkError, match="needs `url`"):
        PostgresSettings.from_config({"url": ""})


def test_empty_values_from_unset_variables_count_as_not_set() -> None:
    # what pipelines/nasa.yaml passes when only DB_HOST is set
    settings = PostgresSettings.from_config(
        {"url": Secret(""), "host": "db.example.com", "user": Secret(""), "password": Secret("")}
    )
    kwargs = settings.connect_kwargs("etl:nasa")
    assert kwargs["host"] == "db.example.com"
    assert "user" not in kwargs and "password" not in kwargs


def test_the_config_schema_is_closed_and_documents_defaults() -> None:
    schema = PostgresSink.config_schema
    assert schema["additionalProperties"] is False
    assert schema["properties"]["schema"]["default"] == "nasa"
    assert schema["properties"]["lock"]["enum"] == ["wait", "fail"]
