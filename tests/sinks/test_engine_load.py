"""Through the engine's runner: records in = loaded + quarantined, and re-runs are idempotent."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from etl_sinks.postgres import PostgresSink
from etl_sinks.sqlite import SqliteSink
from etl_sinks.testing import PHOTO, photo

import etlcore
from etlcore.contract import Batch, RunOptions, Sink, Source, StepContext, Stream
from etlcore.plugins import PluginRegistry
from etlcore.runner import run_pipeline

TOTAL = 250
BATCH = 60


def seeded_record(index: int) -> dict[str, Any]:
    """Photos, every tenth-and-so invalid in a different way."""
    record = photo(index)
    if index % 10 == 3:
        record["camera"] = "bad\x00nul"
    elif index % 10 == 7:
        record["ratio"] = float("nan")
    elif index % 10 == 9:
        record["sol"] = "not a number"
    return record


BAD = sum(1 for i in range(TOTAL) if i % 10 in (3, 7, 9))


class SeededPhotos(Source):
    """A source of photos seeded with bad records; its watermark is the next index."""

    name = "test.seeded_photos"
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {},
        "additionalProperties": False,
    }

    def streams(self) -> list[Stream]:
        return [PHOTO]

    def extract(self, ctx: StepContext, state: Mapping[str, Any] | None) -> Iterator[Batch]:
        start = state["next"] if state else 0
        for offset in range(start, TOTAL, ctx.batch_size):
            end = min(TOTAL, offset + ctx.batch_size)
            # a duplicate key inside a batch: the engine loads both, the sink keeps the last
            records = [seeded_record(i) for i in range(offset, end)] + [seeded_record(offset)]
            yield Batch({"photo": records}, state={"next": end})


class SeededPlugin:
    @staticmethod
    @etlcore.hookimpl
    def register_sources(register: Any) -> None:
        register(SeededPhotos)


@pytest.fixture
def registry() -> PluginRegistry:
    registry = PluginRegistry.load()
    registry.add_module(SeededPlugin)
    return registry


def pipeline_file(tmp_path: Path, sink_yaml: str) -> Path:
    path = tmp_path / "seeded.yaml"
    path.write_text(
        f"name: seeded\nbatch_size: {BATCH}\n"
        "sources:\n  - plugin: test.seeded_photos\n    name: mars\n"
        f"sinks:\n  - {sink_yaml}\n"
    )
    return path


def check_runs(path: Path, registry: PluginRegistry, sink: Sink) -> None:
    first = run_pipeline(path, RunOptions(), registry=registry)
    assert first.succeeded, first.run.error
    counts = first.run.counts["photo"]
    received = TOTAL + len(range(0, TOTAL, BATCH))  # each batch repeats one record
    assert counts.extracted == received
    assert counts.loaded + counts.quarantined == received
    assert counts.quarantined == BAD + sum(1 for o in range(0, TOTAL, BATCH) if o % 10 in (3, 7, 9))
    assert counts.inserted == TOTAL - BAD
    assert counts.inserted + counts.updated + counts.unchanged == counts.loaded
    stored = sink.recent_runs("seeded")  # type: ignore[attr-defined]
    assert stored[0]["status"] == "succeeded" and stored[0]["counts"]["photo"]["inserted"] == (
        TOTAL - BAD
    )
    quarantined = sink.quarantined("seeded", run_id=first.run.run_id, limit=1000)  # type: ignore[attr-defined]
    assert len(quarantined) == counts.quarantined
    assert {q["step"] for q in quarantined} == {"mars"}
    assert any("NUL" in q["error"] for q in quarantined)
    assert any(q["record"].get("camera") == "bad\\u0000nul" for q in quarantined)

    # nothing new since the watermark: the re-run extracts nothing
    second = run_pipeline(path, RunOptions(), registry=registry)
    assert second.succeeded and second.run.counts == {}
    # a full refresh re-reads everything and changes no row
    third = run_pipeline(path, RunOptions(full_refresh=True), registry=registry)
    assert third.succeeded, third.run.error
    again = third.run.counts["photo"]
    assert (again.inserted, again.updated) == (0, 0)
    assert again.unchanged == counts.loaded


def test_sqlite_through_the_runner(tmp_path: Path, registry: PluginRegistry) -> None:
    db = tmp_path / "seeded.db"
    check_runs(
        pipeline_file(tmp_path, f"plugin: sqlite\n    path: {db}"),
        registry,
        SqliteSink({"path": str(db)}),
    )


@pytest.mark.postgres
def test_postgres_through_the_runner(
    tmp_path: Path, registry: PluginRegistry, pg_config: dict[str, Any]
) -> None:
    yaml = f"plugin: postgres\n    url: {pg_config['url']}\n    schema: {pg_config['schema']}"
    check_runs(pipeline_file(tmp_path, yaml), registry, PostgresSink(pg_config))


@pytest.mark.postgres
def test_a_full_refresh_restores_a_row_edited_by_hand(
    tmp_path: Path,
    registry: PluginRegistry,
    pg_config: dict[str, Any],
    pg_query: Any,
) -> None:
    """The fingerprints trust the stored row; --full-refresh compares every row instead."""
    yaml = f"plugin: postgres\n    url: {pg_config['url']}\n    schema: {pg_config['schema']}"
    path = pipeline_file(tmp_path, yaml)
    assert run_pipeline(path, RunOptions(), registry=registry).succeeded
    pg_query("UPDATE photo SET camera = 'edited by hand' WHERE photo_id = 1")
    again = run_pipeline(path, RunOptions(full_refresh=True), registry=registry)
    assert again.succeeded, again.run.error
    counts = again.run.counts["photo"]
    assert (counts.inserted, counts.updated) == (0, 1)
    assert pg_query("SELECT camera FROM photo WHERE photo_id = 1") == [(photo(1)["camera"],)]
