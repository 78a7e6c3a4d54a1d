"""One-line conformance suites: the contract every source (or sink) plugin must keep.

Like singer-sdk's ``get_tap_test_class``: each check is a small named test, and one line turns
the suite into a pytest class for your plugin::

    TestMySource = source_test_class(MySource, config={"base_url": "..."})

or subclass it when the config needs a fixture (the kit's local HTTP server, say)::

    class TestMySource(SourceConformance):
        source_class = MySource

        @pytest.fixture
        def source_config(self, etl_http_server):
            etl_http_server.add_json("/items", {...})
            return {"base_url": etl_http_server.url}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest
from jsonschema import Draft202012Validator

from etlcore.contract import Batch, RunOptions, Source
from etlcore.records import RecordValidator
from etlcore.testing.context import make_step_context
from etlcore.testing.pipeline import PipelineHarness
from etlcore.testing.sqlite_sink import TemporarySqliteSink

CONFORMANCE_PIPELINE = "conformance"


class SourceConformance:
    """Streams declared, records match their schema, state round-trips, re-runs are idempotent.

    Set :attr:`source_class`; override the ``source_config`` fixture (default: ``{}``).
    The source must emit at least one record with that config.
    """

    source_class: ClassVar[type[Source]]
    batch_size: ClassVar[int] = 2
    """Small on purpose, so that even a little test data spans several batches."""
    incremental: ClassVar[bool] = True
    """``False`` for a source that always reads everything and keeps no watermark."""

    @pytest.fixture
    def source_config(self) -> Mapping[str, Any]:
        return {}

    @pytest.fixture
    def first_run(self, source_config: Mapping[str, Any]) -> list[Batch]:
        return self._extract(source_config, None)

    def _extract(self, config: Mapping[str, Any], state: Any) -> list[Batch]:
        source = self.source_class(config)
        context = make_step_context(step=_step_name(source.name), batch_size=self.batch_size)
        return list(source.extract(context, state))

    # -- the checks ---------------------------------------------------------------------

    def test_config_schema_is_strict(self, source_config: Mapping[str, Any]) -> None:
        schema = dict(self.source_class.config_schema)
        Draft202012Validator.check_schema(schema)
        assert schema.get("additionalProperties") is False, (
            "config_schema must set additionalProperties: false, so that a typo in a pipeline "
            "is an error instead of a silently ignored key"
        )
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(source_config)]
        assert not errors, f"the test config does not match config_schema: {errors}"

    def test_streams_are_declared(
        self, source_config: Mapping[str, Any], first_run: list[Batch]
    ) -> None:
        streams = self.source_class(source_config).streams()
        assert streams, "streams() declares no stream"
        names = [stream.name for stream in streams]
        assert len(names) == len(set(names)), f"stream names repeat: {names}"
        for stream in streams:
            columns = stream.column_names
            assert len(columns) == len(set(columns)), f"{stream.name}: column names repeat"
            assert stream.primary_key, f"{stream.name}: no primary key (re-runs would duplicate)"
            missing = set(stream.primary_key) - set(columns)
            assert not missing, f"{stream.name}: primary key columns {missing} are not columns"
        emitted = {name for batch in first_run for name in batch.records}
        assert emitted <= set(names), f"records of undeclared streams: {emitted - set(names)}"
        assert sum(len(batch) for batch in first_run) > 0, (
            "the source emitted no record: give the test config some data to read"
        )

    def test_batches_respect_batch_size(self, first_run: list[Batch]) -> None:
        sizes = [len(batch) for batch in first_run]
        assert all(size <= self.batch_size for size in sizes), (
            f"batches of {sizes} records with batch_size {self.batch_size}"
        )

    def test_records_match_their_schema(
        self, source_config: Mapping[str, Any], first_run: list[Batch]
    ) -> None:
        streams = self.source_class(source_config).streams()
        validators = {stream.name: RecordValidator(stream) for stream in streams}
        problems = [
            f"{stream}: {record!r}: {'; '.join(found)}"
            for batch in first_run
            for stream, records in batch.records.items()
            for record in records
            if stream in validators and (found := validators[stream].problems(record))
        ]
        assert not problems, "records the engine would quarantine:\n" + "\n".join(problems[:10])

    def test_state_round_trips(
        self, source_config: Mapping[str, Any], first_run: list[Batch]
    ) -> None:
        states = [batch.state for batch in first_run if batch.state is not None]
        if not self.incremental:
            pytest.skip("the source declares itself non-incremental")
        assert states, "no batch carried a watermark (set incremental = False if none is meant)"
        for state in states:
            try:
                text = json.dumps(state, allow_nan=False)  # sinks store watermarks as JSON
            except (TypeError, ValueError) as exc:
                raise AssertionError(
                    f"state {state!r} is not JSON ({exc}): sinks store watermarks as JSON, "
                    "so keep dates and times as ISO strings"
                ) from None
            assert json.loads(text) == state, f"state {state!r} changes through JSON"
        resumed = self._extract(source_config, json.loads(json.dumps(states[-1])))
        first_keys = _keys(self.source_class(source_config), first_run)
        resumed_keys = _keys(self.source_class(source_config), resumed)
        assert resumed_keys <= first_keys, "resuming from the last watermark read unknown rows"
        assert sum(map(len, resumed)) <= sum(map(len, first_run)), (
            "resuming from the last watermark read more than a first run"
        )

    def test_rerun_is_idempotent(
        self,
        source_config: Mapping[str, Any],
        etl_pipeline: PipelineHarness,
        etl_sqlite_sink: TemporarySqliteSink,
    ) -> None:
        etl_pipeline.add_plugin(self.source_class)
        source = self.source_class(source_config)
        step = _step_name(source.name)
        config = json.loads(json.dumps(source_config, default=str))
        pipeline = {
            "name": CONFORMANCE_PIPELINE,
            "batch_size": self.batch_size,
            "sources": [{"plugin": source.name, **config}],
            "sinks": [etl_sqlite_sink.step],
        }
        streams = [stream.name for stream in source.streams()]
        first = etl_pipeline.run(pipeline)
        assert first.succeeded, f"first run failed: {first.run.error}"
        loaded = {s: etl_sqlite_sink.rows(s) for s in streams}
        assert any(loaded.values()), "the first run loaded nothing"
        if self.incremental:
            committed = etl_sqlite_sink.read_state(CONFORMANCE_PIPELINE).get(step)
            assert committed is not None, "no watermark was committed"
            json.dumps(committed, allow_nan=False)
        reruns = (("a re-run", RunOptions()), ("--full-refresh", RunOptions(full_refresh=True)))
        for label, options in reruns:
            again = etl_pipeline.run(pipeline, options)
            assert again.succeeded, f"{label} failed: {again.run.error}"
            assert {s: etl_sqlite_sink.rows(s) for s in streams} == loaded, (
                f"{label} changed the loaded rows"
            )
            changed = {
                stream: (counts.inserted, counts.updated)
                for stream, counts in again.run.counts.items()
                if counts.inserted or counts.updated
            }
            assert not changed, f"{label} inserted/updated rows: {changed}"


def source_test_class(
    source_class: type[Source],
    config: Mapping[str, Any] | None = None,
    *,
    batch_size: int = 2,
    incremental: bool = True,
) -> type[SourceConformance]:
    """The source suite as a pytest class for ``source_class`` run with ``config``."""
    frozen = dict(config or {})

    class Suite(SourceConformance):
        @pytest.fixture
        def source_config(self) -> Mapping[str, Any]:
            return frozen

    Suite.source_class = source_class
    Suite.batch_size = batch_size
    Suite.incremental = incremental
    Suite.__name__ = Suite.__qualname__ = f"Test{source_class.__name__}Conformance"
    return Suite


def _step_name(plugin: str) -> str:
    from etlcore.config.pipeline import default_step_name

    return default_step_name(plugin)


def _keys(source: Source, batches: list[Batch]) -> set[tuple[str, tuple[Any, ...]]]:
    keys = {stream.name: stream.primary_key for stream in source.streams()}
    return {
        (stream, tuple(repr(record.get(column)) for column in keys[stream]))
        for batch in batches
        for stream, records in batch.records.items()
        for record in records
    }
