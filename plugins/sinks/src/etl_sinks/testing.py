"""The sink conformance suite: one set of behaviour tests that every SQL sink must pass.

Use it from a test module by subclassing and giving two fixtures::

    from etl_sinks.testing import SinkConformance

    class TestMySink(SinkConformance):
        @pytest.fixture
        def make_sink(self, tmp_path):
            # every call: a new, unopened sink on the same fresh, empty database of this test
            return lambda **config: MySink({"path": str(tmp_path / "db"), **config})

        @pytest.fixture
        def query_rows(self):
            # run a SELECT on the database the sink writes to; rows as tuples
            return lambda sink, sql: ...

Sinks take ``lock`` (``wait``/``fail``) and ``lock_timeout_seconds`` in their config.
Table names in ``query_rows`` SQL are unqualified: resolve them in the sink's schema.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl_sinks.errors import PipelineLockedError, SchemaMismatchError, SinkDataError, SinkError
from etlcore.contract import (
    Column,
    CommitUnit,
    QuarantinedRecord,
    Record,
    RunRecord,
    Sink,
    Stream,
    StreamCounts,
    UpsertCounts,
    View,
)

PIPELINE = "conformance"
MakeSink = Callable[..., Sink]
QueryRows = Callable[[Sink, str], list[tuple[Any, ...]]]

PHOTO = Stream(
    "photo",
    ("photo_id",),
    (
        Column("photo_id", "integer"),
        Column("camera", "string", nullable=False),
        Column("sol", "integer"),
        Column("ratio", "number"),
        Column("hazardous", "boolean"),
        Column("earth_date", "date"),
        Column("taken_at", "timestamp"),
        Column("raw", "json"),
    ),
    description="one photo",
)
APPROACH = Stream(
    "approach",
    ("neo_id", "approach_date", "body"),
    (
        Column("neo_id", "string"),
        Column("approach_date", "date"),
        Column("body", "string"),
        Column("miss_km", "number"),
    ),
)
PHOTOS_PER_CAMERA = View(
    "photos_per_camera",
    {
        "postgres": "SELECT camera, count(*) AS photos FROM photo GROUP BY camera",
        "sqlite": "SELECT camera, count(*) AS photos FROM photo GROUP BY camera",
    },
    depends_on=("photo",),
)
BUSY_CAMERAS = View(
    "busy_cameras",
    {
        "postgres": "SELECT camera FROM photos_per_camera WHERE photos > 1",
        "sqlite": "SELECT camera FROM photos_per_camera WHERE photos > 1",
    },
    depends_on=("photos_per_camera",),
)


def photo(photo_id: int, **changes: Any) -> Record:
    """A photo record with every column type filled."""
    record: Record = {
        "photo_id": photo_id,
        "camera": f"CAM{photo_id % 3}",
        "sol": 1000 + photo_id,
        "ratio": photo_id / 7,
        "hazardous": photo_id % 2 == 0,
        "earth_date": dt.date(2024, 1, 1) + dt.timedelta(days=photo_id % 300),
        "taken_at": dt.datetime(2024, 1, 1, 12, 30, tzinfo=dt.UTC)
        + dt.timedelta(seconds=photo_id, microseconds=photo_id % 1000),
        "raw": {"id": photo_id, "tags": ["mars", "ü"], "nested": {"ok": True, "n": None}},
    }
    record.update(changes)
    return record


def new_run(run_id: str = "run-1", pipeline: str = PIPELINE) -> RunRecord:
    return RunRecord(run_id, pipeline, dt.datetime.now(dt.UTC))


def unit(
    run: RunRecord,
    records: dict[str, list[Record]],
    *,
    state: dict[str, dict[str, Any]] | None = None,
    quarantined: Sequence[QuarantinedRecord] = (),
) -> CommitUnit:
    """A commit unit whose run record carries the engine's counts (loaded/quarantined)."""
    counts = {name: dataclasses.replace(c) for name, c in run.counts.items()}
    for name, rows in records.items():
        counts.setdefault(name, StreamCounts()).loaded += len(rows)
    for record in quarantined:
        counts.setdefault(record.stream, StreamCounts()).quarantined += 1
    return CommitUnit(dataclasses.replace(run, counts=counts), records, list(quarantined), state)


def same_instant(a: Any, b: Any) -> bool:
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a == b and a.utcoffset() is not None and b.utcoffset() is not None
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=0) or a == b
    return bool(a == b) and type(a) is type(b)


class SinkConformance:
    """Behaviour every sink shares. Needs the fixtures ``make_sink`` and ``query_rows``."""

    @pytest.fixture
    def opened(self, make_sink: MakeSink) -> Iterator[Callable[..., Sink]]:
        """Open sinks on PHOTO and APPROACH (closed at the end of the test)."""
        sinks: list[Sink] = []

        def open_sink(
            streams: Sequence[Stream] = (PHOTO, APPROACH),
            views: Sequence[View] = (),
            pipeline: str = PIPELINE,
            **config: Any,
        ) -> Sink:
            sink = make_sink(**config)
            sinks.append(sink)
            sink.open(pipeline, list(streams), list(views))
            return sink

        yield open_sink
        for sink in reversed(sinks):
            sink.close()

    # -- loading ---------------------------------------------------------------------------

    def test_open_creates_the_tables_and_no_state(
        self, opened: Callable[..., Sink], query_rows: QueryRows
    ) -> None:
        sink = opened()
        assert sink.dialect in ("postgres", "sqlite")
        assert sink.read_state(PIPELINE) == {}
        for table in ("photo", "approach", "_etl_state", "_etl_runs", "_etl_quarantine"):
            assert query_rows(sink, f"SELECT count(*) FROM {table}") == [(0,)]

    def test_every_column_type_round_trips(self, opened: Callable[..., Sink]) -> None:
        sink = opened()
        records = [photo(i) for i in range(1, 6)]
        records.append(photo(6, sol=None, ratio=None, hazardous=None, earth_date=None, raw=None))
        records.append(
            photo(
                7,
                ratio=3,
                raw=[1, "two", 3.5],
                taken_at=dt.datetime(2024, 5, 1, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            )
        )
        run = new_run()
        sink.start_run(run)
        assert sink.write(unit(run, {"photo": records})) == {"photo": UpsertCounts(7, 0, 0)}
        stored = sink.lookup("photo", [(r["photo_id"],) for r in records], [])
        assert set(stored) == {(r["photo_id"],) for r in records}
        for record in records:
            row = stored[(record["photo_id"],)]
            assert set(row) == set(PHOTO.column_names)
            for name, value in record.items():
                if name == "ratio" and value is not None:
                    assert row[name] == float(value) and isinstance(row[name], float)
                else:
                    assert same_instant(row[name], value), (name, row[name], value)
        assert stored[(7,)]["taken_at"].utcoffset() == dt.timedelta(0)  # stored in UTC

    def test_a_rerun_of_the_same_data_changes_nothing(self, opened: Callable[..., Sink]) -> None:
        sink = opened()
        run = new_run()
        records = {
            "photo": [photo(i) for i in range(20)],
            "approach": [
                {
                    "neo_id": "a",
                    "approach_date": dt.date(2024, 1, 1),
                    "body": "Earth",
                    "miss_km": 1.5,
                }
            ],
        }
        first = sink.write(unit(run, records))
        assert first == {"photo": UpsertCounts(20, 0, 0), "approach": UpsertCounts(1, 0, 0)}
        again = sink.write(unit(run, records))
        assert again == {"photo": UpsertCounts(0, 0, 20), "approach": UpsertCounts(0, 0, 1)}

    def test_a_changed_row_is_updated_and_only_it(self, opened: Callable[..., Sink]) -> None:
        sink = opened()
        run = new_run()
        sink.write(unit(run, {"photo": [photo(i) for i in range(10)]}))
        changed = [photo(i) for i in range(10)]
        changed[3] = photo(3, camera="NEW", raw={"id": 3, "changed": True})
        changed[4] = photo(4, sol=None)  # a value becoming NULL is a change too
        changed.append(photo(10))
        assert sink.write(unit(run, {"photo": changed})) == {"photo": UpsertCounts(1, 2, 8)}
        stored = sink.lookup("photo", [(3,), (4,)], ["camera", "sol", "raw"])
        assert stored[(3,)] == {"camera": "NEW", "sol": 1003, "raw": {"id": 3, "changed": True}}
        assert stored[(4,)]["sol"] is None

    def test_json_key_order_is_not_a_change(self, opened: Callable[..., Sink]) -> None:
        sink = opened()
        run = new_run()
        sink.write(unit(run, {"photo": [photo(1, raw={"a": 1, "b": [1, 2]})]}))
        counts = sink.write(unit(run, {"photo": [photo(1, raw={"b": [1, 2], "a": 1})]}))
        assert counts == {"photo": UpsertCounts(0, 0, 1)}

    def test_duplicate_keys_in_a_batch_last_wins(self, opened: Callable[..., Sink]) -> None:
        sink = opened()
        run = new_run()
        records = [photo(1, camera="first"), photo(2), photo(1, camera="last")]
        counts = sink.write(unit(run, {"photo": records}))
        assert counts == {"photo": UpsertCounts(2, 0, 1)}  # adds up to the records received
        assert sink.lookup("photo", [(1,)], ["camera"]) == {(1,): {"camera": "last"}}

    def test_composite_keys(self, opened: Callable[..., Sink]) -> None:
        sink = opened()
        run = new_run()
        day = dt.date(2024, 2, 29)
        rows = [
            {"neo_id": "1", "approach_date": day, "body": "Earth", "miss_km": 10.0},
            {"neo_id": "1", "approach_date": day, "body": "Mars", "miss_km": 20.0},
            {"neo_id": "2", "approach_date": day, "body": "Earth", "miss_km": None},
        ]
        assert sink.write(unit(run, {"approach": rows})) == {"approach": UpsertCounts(3, 0, 0)}
        found = sink.lookup(
            "approach", [("1", day, "Mars"), ("2", day, "Earth"), ("3", day, "Earth")], []
        )
        assert set(found) == {("1", day, "Mars"), ("2", day, "Earth")}
        assert found[("1", day, "Mars")]["miss_km"] == 20.0

    def test_lookup_returns_only_stored_keys_and_asked_columns(
        self, opened: Callable[..., Sink]
    ) -> None:
        sink = opened()
        sink.write(unit(new_run(), {"photo": [photo(i) for i in range(3)]}))
        assert sink.lookup("photo", [], ["camera"]) == {}
        found = sink.lookup("photo", [(0,), (2,), (99,), (2,)], ["sol"])
        assert found == {(0,): {"sol": 1000}, (2,): {"sol": 1002}}
        with pytest.raises(KeyError, match="nope"):
            sink.lookup("photo", [(0,)], ["nope"])

    def test_a_stream_not_declared_at_open_is_refused(self, opened: Callable[..., Sink]) -> None:
        sink = opened(streams=[PHOTO])
        with pytest.raises(SinkError, match="'approach' was not declared"):
            sink.write(unit(new_run(), {"approach": [{"neo_id": "x"}]}))

    def test_reserved_table_names_are_refused(self, make_sink: MakeSink) -> None:
        sink = make_sink()
        try:
            with pytest.raises(SinkError, match="reserved"):
                sink.open(PIPELINE, [Stream("_etl_runs", ("a",), (Column("a", "string"),))], [])
        finally:
            sink.close()

    # -- atomicity: data, quarantine, watermark, run record --------------------------------

    def test_watermark_commits_with_the_data(
        self, opened: Callable[..., Sink], make_sink: MakeSink
    ) -> None:
        sink = opened()
        run = new_run()
        sink.start_run(run)
        sink.write(unit(run, {"photo": [photo(1)]}, state={"mars": {"sol": 1, "day": "x"}}))
        sink.write(unit(run, {"photo": [photo(2)]}, state={"mars": {"sol": 2, "day": "y"}}))
        sink.write(unit(run, {}, state={"apod": {"date": "2024-01-01"}}))
        assert sink.read_state(PIPELINE) == {
            "mars": {"sol": 2, "day": "y"},
            "apod": {"date": "2024-01-01"},
        }
        sink.close()
        other = opened(pipeline="other")
        assert other.read_state("other") == {}
        assert opened(lock="fail").read_state(PIPELINE)["mars"] == {"sol": 2, "day": "y"}

    def test_a_failing_unit_commits_nothing(
        self, opened: Callable[..., Sink], query_rows: QueryRows
    ) -> None:
        sink = opened()
        run = new_run()
        sink.start_run(run)
        sink.write(unit(run, {"photo": [photo(1)]}, state={"mars": {"sol": 1}}))
        bad = {
            "photo": [photo(1, camera="changed"), photo(2)],
            "approach": [
                {"neo_id": "bad\ud800", "approach_date": dt.date(2024, 1, 1), "body": "Earth"}
            ],
        }
        quarantined = [QuarantinedRecord("mars", "photo", {"photo_id": 9}, "bad")]
        with pytest.raises(SinkDataError, match=r"'approach'.*'neo_id'.*lone surrogate"):
            sink.write(unit(run, bad, state={"mars": {"sol": 2}}, quarantined=quarantined))
        # nothing of the failed unit: no row, no change, no quarantine, old watermark, units 1
        assert sink.lookup("photo", [(1,), (2,)], ["camera"]) == {(1,): {"camera": "CAM1"}}
        assert query_rows(sink, "SELECT count(*) FROM _etl_quarantine") == [(0,)]
        assert sink.read_state(PIPELINE) == {"mars": {"sol": 1}}
        assert sink.recent_runs(PIPELINE)[0]["units"] == 1
        # and the sink is still usable
        assert sink.write(unit(run, {"photo": [photo(2)]})) == {"photo": UpsertCounts(1, 0, 0)}

    def test_non_finite_numbers_are_refused_with_a_clear_error(
        self, opened: Callable[..., Sink]
    ) -> None:
        sink = opened()
        with pytest.raises(SinkDataError, match=r"'photo'.*photo_id=5.*'ratio'.*nan"):
            sink.write(unit(new_run(), {"photo": [photo(4), photo(5, ratio=float("nan"))]}))
        assert sink.lookup("photo", [(4,)], []) == {}

    @pytest.mark.parametrize(
        ("raw", "problem"),
        [
            ({"nested": [1.0, float("nan")]}, "not JSON-serialisable"),
            ({"ok": None, "bad": float("-inf")}, "not JSON-serialisable"),
            ({"text": "lone \ud800"}, "lone surrogate"),
        ],
    )
    def test_unstorable_json_is_refused_not_changed(
        self, opened: Callable[..., Sink], raw: Any, problem: str
    ) -> None:
        sink = opened()
        with pytest.raises(SinkDataError, match=rf"photo_id=8.*'raw'.*{problem}"):
            sink.write(unit(new_run(), {"photo": [photo(7), photo(8, raw=raw)]}))
        assert sink.lookup("photo", [(7,), (8,)], []) == {}
        big = {"big": 2**70, "none": None, "text": "ü\u2028"}  # still stored exactly
        sink.write(unit(new_run(), {"photo": [photo(8, raw=big)]}))
        assert sink.lookup("photo", [(8,)], ["raw"]) == {(8,): {"raw": big}}

    def test_quarantined_records_are_kept_whatever_they_hold(
        self, opened: Callable[..., Sink]
    ) -> None:
        sink = opened()
        run = new_run()
        sink.start_run(run)
        odd = [
            QuarantinedRecord("mars", "photo", {"photo_id": 1, "camera": "a\x00b"}, "NUL"),
            QuarantinedRecord("mars", "photo", {"photo_id": 2, "camera": "\ud800"}, "surrogate"),
            QuarantinedRecord("mars", "photo", {"photo_id": 3, "ratio": float("inf")}, "inf"),
            QuarantinedRecord("mars", "photo", ["not", "a", "dict"], "not a dict: ü"),
        ]
        counts = sink.write(unit(run, {"photo": [photo(10)]}, quarantined=odd))
        assert counts == {"photo": UpsertCounts(1, 0, 0)}
        stored = sink.quarantined(PIPELINE, run_id=run.run_id)
        assert [row["error"] for row in stored] == ["not a dict: ü", "inf", "surrogate", "NUL"]
        assert stored[3]["record"] == {"photo_id": 1, "camera": "a\x00b"}
        assert stored[3]["step"] == "mars" and stored[3]["stream"] == "photo"
        assert stored[2]["record"]["photo_id"] == 2
        assert stored[1]["record"]["ratio"] == "inf"
        assert stored[0]["record"] == ["not", "a", "dict"]
        assert isinstance(stored[0]["created_at"], dt.datetime)
        assert sink.quarantined(PIPELINE, run_id="other") == []
        assert len(sink.quarantined(PIPELINE, limit=2)) == 2

    # -- run records -----------------------------------------------------------------------

    def test_run_records_follow_the_run(
        self, opened: Callable[..., Sink], make_sink: MakeSink
    ) -> None:
        sink = opened()
        run = new_run("run-a")
        run.options = {"full_refresh": False, "since": "2024-01-01"}
        sink.start_run(run)
        [started] = sink.recent_runs(PIPELINE)
        assert started["status"] == "running" and started["units"] == 0
        first = unit(
            run,
            {"photo": [photo(1), photo(2)]},
            quarantined=[QuarantinedRecord("mars", "photo", {}, "x")],
        )
        sink.write(first)
        [during] = sink.recent_runs(PIPELINE)
        assert during["units"] == 1
        # stored counts already include what the unit upserted
        assert during["counts"]["photo"]["loaded"] == 2
        assert during["counts"]["photo"]["quarantined"] == 1
        assert during["counts"]["photo"]["inserted"] == 2
        finished = dataclasses.replace(
            first.run, status="succeeded", finished_at=dt.datetime.now(dt.UTC), requests=7
        )
        finished.counts["photo"].inserted = 2
        sink.finish_run(finished)
        sink.close()
        reader = make_sink()  # not opened: reading needs no lock and creates nothing
        try:
            [row] = reader.recent_runs(PIPELINE, limit=5)
            assert row["run_id"] == "run-a" and row["pipeline"] == PIPELINE
            assert row["status"] == "succeeded" and row["requests"] == 7 and row["units"] == 1
            assert row["options"] == {"full_refresh": False, "since": "2024-01-01"}
            assert row["finished_at"] >= row["started_at"]
            assert reader.recent_runs("another") == []
            assert len(reader.quarantined(PIPELINE)) == 1
        finally:
            reader.close()

    def test_reading_history_of_an_empty_database_gives_nothing(self, make_sink: MakeSink) -> None:
        reader = make_sink()
        try:
            assert reader.recent_runs(PIPELINE) == []
            assert reader.quarantined(PIPELINE) == []
        finally:
            reader.close()

    def test_newest_runs_come_first_and_dead_runs_are_marked_interrupted(
        self, opened: Callable[..., Sink]
    ) -> None:
        sink = opened()
        dead = new_run("run-1")
        sink.start_run(dead)  # ... and the process dies without finish_run
        sink.close()
        sink = opened()
        alive = RunRecord("run-2", PIPELINE, dead.started_at + dt.timedelta(seconds=1))
        sink.start_run(alive)
        runs = sink.recent_runs(PIPELINE)
        assert [r["run_id"] for r in runs] == ["run-2", "run-1"]
        assert [r["status"] for r in runs] == ["running", "interrupted"]
        assert "without recording its end" in runs[1]["error"]

    def test_run_errors_are_stored_without_secrets(self, opened: Callable[..., Sink]) -> None:
        from etlcore.secrets import Secret

        secret = Secret("hunter2-very-secret", "DB_PASS")
        sink = opened()
        run = new_run()
        sink.start_run(run)
        failed = dataclasses.replace(
            run,
            status="failed",
            finished_at=dt.datetime.now(dt.UTC),
            error=f"boom with {secret.reveal()} inside",
        )
        sink.finish_run(failed)
        [row] = sink.recent_runs(PIPELINE)
        assert row["status"] == "failed"
        assert "hunter2-very-secret" not in row["error"] and "boom" in row["error"]

    # -- the per-pipeline lock -------------------------------------------------------------

    def test_a_second_run_of_the_pipeline_fails_in_fail_mode(
        self, opened: Callable[..., Sink], make_sink: MakeSink
    ) -> None:
        first = opened()
        second = make_sink(lock="fail")
        with pytest.raises(PipelineLockedError, match=f"another run of pipeline '{PIPELINE}'"):
            second.open(PIPELINE, [PHOTO], [])
        second.close()
        opened(pipeline="different")  # another pipeline is not blocked
        first.close()
        opened(lock="fail")  # and once the first run is over, the lock is free

    def test_waiting_for_the_lock_gives_up_after_the_timeout(
        self, opened: Callable[..., Sink], make_sink: MakeSink
    ) -> None:
        opened()
        waiting = make_sink(lock="wait", lock_timeout_seconds=0.3)
        with pytest.raises(PipelineLockedError, match="still after waiting"):
            waiting.open(PIPELINE, [PHOTO], [])
        waiting.close()

    # -- schema changes --------------------------------------------------------------------

    def test_a_new_nullable_column_is_added(self, opened: Callable[..., Sink]) -> None:
        sink = opened(streams=[PHOTO])
        sink.write(unit(new_run(), {"photo": [photo(1)]}))
        sink.close()
        wider = dataclasses.replace(PHOTO, columns=(*PHOTO.columns, Column("credit", "string")))
        sink = opened(streams=[wider])
        counts = sink.write(unit(new_run("run-2"), {"photo": [photo(2, credit="NASA")]}))
        assert counts == {"photo": UpsertCounts(1, 0, 0)}
        found = sink.lookup("photo", [(1,), (2,)], ["credit"])
        assert found == {(1,): {"credit": None}, (2,): {"credit": "NASA"}}
        sink.close()
        # the old declaration still loads: a column the stream no longer has is left alone
        assert opened(streams=[PHOTO]).write(unit(new_run("run-3"), {"photo": [photo(3)]}))

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (
                lambda s: dataclasses.replace(
                    s,
                    columns=tuple(
                        Column(c.name, "string") if c.name == "sol" else c for c in s.columns
                    ),
                ),
                r"column 'sol' of table \S*photo is \w+.* but stream 'photo' declares string",
            ),
            (
                lambda s: dataclasses.replace(
                    s, columns=(*s.columns, Column("rover", "string", nullable=False))
                ),
                r"photo has no column 'rover'.*NOT NULL.*add it by hand",
            ),
            (
                lambda s: dataclasses.replace(s, primary_key=("photo_id", "camera")),
                r"primary key \(photo_id\).*declares \(photo_id, camera\)",
            ),
        ],
        ids=["type-change", "new-not-null-column", "key-change"],
    )
    def test_an_incompatible_change_stops_with_a_clear_error(
        self,
        opened: Callable[..., Sink],
        make_sink: MakeSink,
        change: Callable[[Stream], Stream],
        message: str,
    ) -> None:
        sink = opened(streams=[PHOTO])
        sink.write(unit(new_run(), {"photo": [photo(1)]}))
        sink.close()
        changed = make_sink()
        try:
            with pytest.raises(SchemaMismatchError, match=message):
                changed.open(PIPELINE, [change(PHOTO)], [])
        finally:
            changed.close()
        # nothing was changed: the old declaration still works
        assert opened(streams=[PHOTO]).lookup("photo", [(1,)], ["sol"]) == {(1,): {"sol": 1001}}

    # -- views -----------------------------------------------------------------------------

    def test_views_are_created_after_their_tables_and_replaced(
        self, opened: Callable[..., Sink], query_rows: QueryRows
    ) -> None:
        sink = opened(streams=[PHOTO], views=[BUSY_CAMERAS, PHOTOS_PER_CAMERA])
        sink.write(unit(new_run(), {"photo": [photo(i) for i in range(7)]}))
        rows = query_rows(sink, "SELECT camera, photos FROM photos_per_camera ORDER BY camera")
        assert rows == [("CAM0", 3), ("CAM1", 2), ("CAM2", 2)]
        sink.close()
        # columns change (and a view depends on it): the views are dropped and re-created
        reshaped = View(
            "photos_per_camera",
            {
                "postgres": "SELECT camera, min(sol) AS first_sol, count(*) AS photos "
                "FROM photo GROUP BY camera",
                "sqlite": "SELECT camera, min(sol) AS first_sol, count(*) AS photos "
                "FROM photo GROUP BY camera",
            },
        )
        sink = opened(streams=[PHOTO], views=[reshaped, BUSY_CAMERAS])
        rows = query_rows(sink, "SELECT camera, first_sol FROM photos_per_camera ORDER BY camera")
        assert rows == [("CAM0", 1000), ("CAM1", 1001), ("CAM2", 1002)]
        assert len(query_rows(sink, "SELECT camera FROM busy_cameras")) == 3

    def test_a_broken_view_is_reported_by_name(self, make_sink: MakeSink) -> None:
        broken = View(
            "broken", {"postgres": "SELECT nope FROM photo", "sqlite": "SELECT nope FROM photo"}
        )
        sink = make_sink()
        try:
            with pytest.raises(SchemaMismatchError, match="view 'broken'"):
                sink.open(PIPELINE, [PHOTO], [broken])
        finally:
            sink.close()

    def test_a_view_without_sql_for_the_dialect_is_reported(self, make_sink: MakeSink) -> None:
        sink = make_sink()
        try:
            with pytest.raises(SchemaMismatchError, match="view 'elsewhere' has no SQL"):
                sink.open(PIPELINE, [PHOTO], [View("elsewhere", {"duckdb": "SELECT 1"})])
        finally:
            sink.close()

    # -- text ------------------------------------------------------------------------------

    def test_long_strings_and_any_unicode_load(self, opened: Callable[..., Sink]) -> None:
        sink = opened()
        texts = {
            1: "x" * 2_000_000,
            2: "emoji 🛰️🚀 and CJK 火星 and RTL مريخ and combining e\u0301",
            3: "\u2028 line separator, \ufeff BOM, \U0010fffd last plane",
            4: "",
            5: "quotes ' \" \\ tabs\tand\nnewlines\r\n, and COPY-ish \\N \\.",
        }
        records = [photo(i, camera=text, raw={"text": text}) for i, text in texts.items()]
        sink.write(unit(new_run(), {"photo": records}))
        found = sink.lookup("photo", [(i,) for i in texts], ["camera", "raw"])
        for i, text in texts.items():
            assert found[(i,)] == {"camera": text, "raw": {"text": text}}
        again = sink.write(unit(new_run(), {"photo": records}))
        assert again == {"photo": UpsertCounts(0, 0, len(texts))}

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.differing_executors,  # one method, run by each sink's subclass
        ],
    )
    @given(
        data=st.lists(
            st.tuples(
                st.text(st.characters(codec="utf-8", exclude_characters="\x00")),
                st.integers(-(2**63), 2**63 - 1),
                st.floats(allow_nan=False, allow_infinity=False),
                st.booleans(),
                st.dates(),
            ),
            min_size=1,
            max_size=5,
        )
    )
    def test_generated_values_round_trip(
        self, opened: Callable[..., Sink], data: list[tuple[str, int, float, bool, dt.date]]
    ) -> None:
        sink = getattr(self, "_generated_sink", None)
        if sink is None:
            sink = self._generated_sink = opened()  # one sink for all examples of the test
        base = getattr(self, "_generated_next", 1)
        self._generated_next = base + len(data)
        records = [
            photo(
                base + i,
                camera=text,
                sol=number,
                ratio=real,
                hazardous=flag,
                earth_date=day,
                raw={"t": text, "n": number},
            )
            for i, (text, number, real, flag, day) in enumerate(data)
        ]
        sink.write(unit(new_run(), {"photo": records}))
        found = sink.lookup("photo", [(r["photo_id"],) for r in records], [])
        for record in records:
            row = found[(record["photo_id"],)]
            for name in ("camera", "sol", "hazardous", "earth_date", "raw"):
                assert same_instant(row[name], record[name]), (name, row[name], record[name])
            assert row["ratio"] == record["ratio"]
