"""The plugin authors' kit: its fixtures, its harness, and a conformance suite that catches
the mistakes it names (each bad source below breaks exactly one rule)."""

from __future__ import annotations

import datetime as dt
import inspect
import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import pytest
import requests

from etlcore.contract import Batch, Column, Source, StepContext, Stream
from etlcore.testing import (
    LocalHTTPServer,
    PipelineHarness,
    RecordsSource,
    Response,
    SourceConformance,
    TemporarySqliteSink,
    build_registry,
    make_step_context,
    source_test_class,
)

# -- the local HTTP server ------------------------------------------------------------------


def test_the_http_server_answers_routes_and_records_requests(
    etl_http_server: LocalHTTPServer,
) -> None:
    etl_http_server.add_json("/items", {"items": [1]}, headers={"X-RateLimit-Remaining": "9"})
    etl_http_server.add_handler("/echo", lambda request: {"page": request.query["page"]})
    first = requests.get(f"{etl_http_server.url}/items", headers={"X-Api-Key": "k"}, timeout=5)
    assert (first.status_code, first.json()) == (200, {"items": [1]})
    assert first.headers["X-RateLimit-Remaining"] == "9"
    assert requests.get(f"{etl_http_server.url}/echo?page=2", timeout=5).json() == {"page": "2"}
    assert [r.path for r in etl_http_server.requests] == ["/items", "/echo"]
    assert etl_http_server.requests_to("/items")[0].header("x-api-key") == "k"


def test_the_http_server_says_what_is_missing_or_broken(etl_http_server: LocalHTTPServer) -> None:
    etl_http_server.add_handler("/boom", lambda request: 1 / 0)
    etl_http_server.add_handler("/teapot", lambda request: Response(418, body="short and stout"))
    missing = requests.get(f"{etl_http_server.url}/nowhere", timeout=5)
    assert missing.status_code == 404 and "/nowhere" in missing.json()["error"]
    broken = requests.get(f"{etl_http_server.url}/boom", timeout=5)
    assert broken.status_code == 500 and "ZeroDivisionError" in broken.json()["error"]
    teapot = requests.get(f"{etl_http_server.url}/teapot", timeout=5)
    assert (teapot.status_code, teapot.text) == (418, "short and stout")


def test_the_step_context_builds_the_engine_http_client(etl_http_server: LocalHTTPServer) -> None:
    etl_http_server.add_json("/ping", {"pong": True})
    context = make_step_context(step="s", batch_size=7)
    with context.http_client(etl_http_server.url) as client:
        assert client.get_json("/ping") == {"pong": True}
    assert (context.step, context.batch_size, context.lookup("t", [(1,)], ["a"])) == ("s", 7, {})


# -- the records source and the pipeline harness --------------------------------------------


def test_the_records_source_types_dates_and_batches(etl_step_context: StepContext) -> None:
    source = RecordsSource(
        {
            "stream": "day",
            "primary_key": ["day"],
            "columns": {"day": "date!", "at": "timestamp", "n": "integer"},
            "records": [
                {"day": "2024-01-01", "at": "2024-01-01T10:00:00+00:00", "n": 1},
                {"day": "not a date", "n": 2},
                {"day": "2024-01-03", "n": 3},
            ],
        }
    )
    (stream,) = source.streams()
    assert stream.column("day").nullable is False and stream.column("n").nullable is True
    batches = list(source.extract(make_step_context(batch_size=2), None))
    assert [len(batch) for batch in batches] == [2, 1]
    first, bad = batches[0].records["day"]
    assert first["day"] == dt.date(2024, 1, 1)
    assert first["at"] == dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)
    assert bad["day"] == "not a date"  # left for the engine to quarantine


def test_the_harness_runs_a_pipeline_into_the_temporary_sqlite_sink(
    etl_pipeline: PipelineHarness, etl_sqlite_sink: TemporarySqliteSink
) -> None:
    pipeline = {
        "name": "kit",
        "sources": [
            {
                "plugin": "testing.records",
                "stream": "thing",
                "primary_key": ["id"],
                "columns": {"id": "integer!", "name": "string"},
                "records": [{"id": 2, "name": "b"}, {"id": 1, "name": "a"}, {"id": "x"}],
            }
        ],
        "sinks": [etl_sqlite_sink.step],
    }
    result = etl_pipeline.run(pipeline)
    assert result.succeeded, result.run.error
    counts = result.run.counts["thing"]
    assert (counts.loaded, counts.quarantined) == (2, 1)
    rows = etl_sqlite_sink.rows("thing", order_by="id")
    assert [(row["id"], row["name"]) for row in rows] == [(1, "a"), (2, "b")]
    assert "thing" in etl_sqlite_sink.tables()
    assert etl_sqlite_sink.read_state("kit") == {"testing_records": {"emitted": 3}}


def test_the_harness_reports_config_errors(etl_pipeline: PipelineHarness) -> None:
    from etlcore.config import ConfigError

    with pytest.raises(ConfigError, match="unknown source plugin 'nope'"):
        etl_pipeline.validate({"name": "x", "sources": [{"plugin": "nope"}], "sinks": []})


class _Shadow(Source):
    name = "testing.records"


def test_a_test_class_replaces_an_installed_plugin_of_the_same_name() -> None:
    registry = build_registry([RecordsSource])
    assert registry.get("source", "testing.records") is RecordsSource
    assert build_registry([RecordsSource, _Shadow]).get("source", "testing.records") is _Shadow
    twice = build_registry([_Shadow, RecordsSource, RecordsSource])
    assert twice.get("source", "testing.records") is RecordsSource


# -- the source conformance suite -----------------------------------------------------------

THING = Stream(
    "thing",
    ("id",),
    (Column("id", "integer", nullable=False), Column("day", "date"), Column("name", "string")),
)


class GoodSource(Source):
    """Four records in two windows, resumable from the last committed window."""

    name = "kit.good"
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"windows": {"type": "integer", "minimum": 1}},
    }

    def streams(self) -> Sequence[Stream]:
        return (THING,)

    def records(self, window: int) -> list[dict[str, Any]]:
        return [
            {"id": window * 10 + n, "day": dt.date(2024, 1, window), "name": f"w{window}n{n}"}
            for n in range(2)
        ]

    def extract(self, ctx: StepContext, state: Mapping[str, Any] | None) -> Iterator[Batch]:
        start = state["window"] if state else 1
        for window in range(start, self.config.get("windows", 2) + 1):
            records = self.records(window)
            for offset in range(0, len(records), ctx.batch_size):
                chunk = records[offset : offset + ctx.batch_size]
                yield Batch({THING.name: chunk}, state={"window": window})


TestGoodSourceConformance = source_test_class(GoodSource, {"windows": 2})


class LaxSchemaSource(GoodSource):
    config_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}


class UndeclaredStreamSource(GoodSource):
    def extract(self, ctx: StepContext, state: Mapping[str, Any] | None) -> Iterator[Batch]:
        yield Batch({"other": [{"id": 1}]}, state={"window": 1})


class BadTypesSource(GoodSource):
    def records(self, window: int) -> list[dict[str, Any]]:
        return [{"id": str(window), "day": "2024-01-01", "name": None}]


class OversizedBatchSource(GoodSource):
    def extract(self, ctx: StepContext, state: Mapping[str, Any] | None) -> Iterator[Batch]:
        yield Batch({THING.name: self.records(1) + self.records(2)}, state={"window": 2})


class DateInStateSource(GoodSource):
    def extract(self, ctx: StepContext, state: Mapping[str, Any] | None) -> Iterator[Batch]:
        for batch in super().extract(ctx, None if state is None else {"window": 1}):
            yield Batch(batch.records, state={"window": 1, "since": dt.date(2024, 1, 1)})


class NoStateSource(GoodSource):
    def extract(self, ctx: StepContext, state: Mapping[str, Any] | None) -> Iterator[Batch]:
        for batch in super().extract(ctx, state):
            yield Batch(batch.records)


_COUNTER = itertools.count()


class RestlessSource(GoodSource):
    """Gives every record a new name on every run: a re-run is never idempotent."""

    def records(self, window: int) -> list[dict[str, Any]]:
        return [{**r, "name": f"run {next(_COUNTER)}"} for r in super().records(window)]


def _check(source_class: type[Source], check: str, request: pytest.FixtureRequest) -> None:
    """Run one named check of the suite against ``source_class``, as pytest would."""
    suite = source_test_class(source_class, {"windows": 2})()
    method = getattr(suite, check)
    fixtures = {
        "source_config": lambda: {"windows": 2},
        "first_run": lambda: suite._extract({"windows": 2}, None),
        "etl_pipeline": lambda: request.getfixturevalue("etl_pipeline"),
        "etl_sqlite_sink": lambda: request.getfixturevalue("etl_sqlite_sink"),
    }
    method(**{name: fixtures[name]() for name in inspect.signature(method).parameters})


@pytest.mark.parametrize(
    ("source_class", "check", "message"),
    [
        (LaxSchemaSource, "test_config_schema_is_strict", "additionalProperties: false"),
        (UndeclaredStreamSource, "test_streams_are_declared", "undeclared streams"),
        (BadTypesSource, "test_records_match_their_schema", "id: expected integer"),
        (OversizedBatchSource, "test_batches_respect_batch_size", "batch_size 2"),
        (DateInStateSource, "test_state_round_trips", "keep dates and times as ISO strings"),
        (NoStateSource, "test_state_round_trips", "no batch carried a watermark"),
        (RestlessSource, "test_rerun_is_idempotent", "changed the loaded rows"),
    ],
)
def test_the_suite_catches(
    source_class: type[Source], check: str, message: str, request: pytest.FixtureRequest
) -> None:
    _check(GoodSource, check, request)  # the same check passes on the good source
    with pytest.raises(AssertionError, match=message):
        _check(source_class, check, request)


def test_a_non_incremental_source_can_say_so() -> None:
    suite_class = source_test_class(NoStateSource, {"windows": 2}, incremental=False)
    assert suite_class.incremental is False
    assert issubclass(suite_class, SourceConformance)
    assert suite_class.__name__ == "TestNoStateSourceConformance"


def test_the_harness_honours_strict_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    import etlcore.plugins

    missing = EntryPoint("acme", "etl_acme_not_installed_anywhere", "etlcore")
    monkeypatch.setattr(etlcore.plugins, "entry_points", lambda group: [missing])
    broken = [p for p in build_registry().plugins if p.broken]
    assert [p.name for p in broken] == ["acme"]  # reported, and the tests go on
    monkeypatch.setenv("ETL_STRICT_PLUGINS", "1")
    with pytest.raises(etlcore.plugins.PluginLoadError, match="acme"):
        build_registry()
