"""Small in-test plugins that exercise the engine without any network or database."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from etlcore import hookimpl
from etlcore.contract import (
    Batch,
    Column,
    CommitUnit,
    Record,
    RunRecord,
    Sink,
    Source,
    StepContext,
    Stream,
    Transform,
    UpsertCounts,
    View,
)
from etlcore.secrets import reveal

NUMBERS = Stream(
    "numbers",
    ("n",),
    (Column("n", "integer"), Column("label", "string"), Column("half", "number")),
)


class CountingSource(Source):
    """Emits ``count`` records n = 1..count, resuming after the committed watermark."""

    name = "toy.count"
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["count"],
        "properties": {
            "count": {"type": "integer", "minimum": 0, "description": "How many records."},
            "bad_every": {"type": "integer", "minimum": 1, "description": "Every Nth is bad."},
            "fail_at": {"type": "integer", "description": "Raise when reaching this n."},
            "stream": {"type": "string", "default": "numbers"},
            "token": {"type": "string", "description": "A secret, to test masking."},
            "sleep_per_batch": {"type": "number", "minimum": 0},
        },
    }

    def streams(self) -> Sequence[Stream]:
        name = self.config.get("stream", "numbers")
        return [
            NUMBERS if name == "numbers" else Stream(name, NUMBERS.primary_key, NUMBERS.columns)
        ]

    def extract(self, ctx: StepContext, state: Mapping[str, Any] | None) -> Iterator[Batch]:
        start = (state or {}).get("last", 0) + 1
        count = self.config["count"]
        bad_every = self.config.get("bad_every")
        fail_at = self.config.get("fail_at")
        stream = self.config.get("stream", "numbers")
        token = self.config.get("token", "")
        n = start
        while n <= count:
            end = min(count, n + ctx.batch_size - 1)
            rows: list[Record] = []
            for i in range(n, end + 1):
                if fail_at is not None and i == fail_at:
                    # deliberately careless: puts the secret token into the message
                    raise RuntimeError(f"source failed at n={i} (token {reveal(token)})")
                label: Any = f"n{i}"
                if bad_every and i % bad_every == 0:
                    label = i  # an integer where a string belongs: quarantined
                rows.append({"n": i, "label": label, "half": i / 2})
            if self.config.get("sleep_per_batch"):
                time.sleep(self.config["sleep_per_batch"])
            ctx.log.debug("batch %d..%d with token %s", n, end, self.config.get("token"))
            yield Batch({stream: rows}, state={"last": end})
            n = end + 1


class ExplodingTransform(Transform):
    """Raises when a batch contains ``explode_at``; otherwise passes batches through."""

    name = "toy.explode"
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"explode_at": {"type": "integer"}},
    }

    def transform(self, batch: Batch, ctx: StepContext) -> Batch:
        target = self.config.get("explode_at")
        for rows in batch.records.values():
            if any(row.get("n") == target for row in rows):
                raise RuntimeError(f"transform exploded at n={target}")
        return batch


class MemoryStore:
    """What a memory sink holds; writes apply all-or-nothing, like a transaction."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple[Any, ...], Record]] = {}
        self.state: dict[str, dict[str, dict[str, Any]]] = {}
        self.runs: dict[str, RunRecord] = {}
        self.quarantine: list[Any] = []
        self.writes = 0
        self.lock = threading.Lock()


STORES: dict[str, MemoryStore] = {}


class MemorySink(Sink):
    """Keeps everything in :data:`STORES` under the ``store`` name; can fail on a write."""

    name = "toy.memory"
    dialect = "memory"
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "store": {"type": "string"},
            "fail_on_write": {"type": "integer", "description": "Raise on the Nth write."},
        },
    }

    def open(self, pipeline: str, streams: Sequence[Stream], views: Sequence[View]) -> None:
        self.store = STORES.setdefault(self.config.get("store", "default"), MemoryStore())
        self.keys = {stream.name: stream.primary_key for stream in streams}
        self.writes = 0

    def read_state(self, pipeline: str) -> dict[str, dict[str, Any]]:
        return copy.deepcopy(self.store.state.get(pipeline, {}))

    def start_run(self, run: RunRecord) -> None:
        self.store.runs[run.run_id] = copy.deepcopy(run)

    def write(self, unit: CommitUnit) -> dict[str, UpsertCounts]:
        self.writes += 1
        if self.writes == self.config.get("fail_on_write"):
            raise RuntimeError("sink write failed")
        with self.store.lock:
            tables = {name: dict(rows) for name, rows in self.store.tables.items()}
            counts: dict[str, UpsertCounts] = {}
            for stream, records in unit.records.items():
                table = tables.setdefault(stream, {})
                figures = counts.setdefault(stream, UpsertCounts())
                for record in records:
                    key = tuple(record[k] for k in self.keys[stream])
                    if key not in table:
                        figures.inserted += 1
                    elif table[key] != record:
                        figures.updated += 1
                    else:
                        figures.unchanged += 1
                    table[key] = dict(record)
            self.store.tables = tables
            self.store.quarantine.extend(unit.quarantined)
            if unit.state:
                self.store.state.setdefault(unit.run.pipeline, {}).update(unit.state)
            self.store.runs[unit.run.run_id] = copy.deepcopy(unit.run)
            self.store.writes += 1
        return counts

    def finish_run(self, run: RunRecord) -> None:
        self.store.runs[run.run_id] = copy.deepcopy(run)

    def lookup(
        self, stream: str, keys: Sequence[tuple[Any, ...]], columns: Sequence[str]
    ) -> dict[tuple[Any, ...], Record]:
        table = self.store.tables.get(stream, {})
        return {key: {c: table[key].get(c) for c in columns} for key in keys if key in table}


class NullSink(Sink):
    """Counts records and forgets them: for memory and speed measurements."""

    name = "toy.null"
    dialect = "null"
    loaded: ClassVar[int] = 0

    def open(self, pipeline: str, streams: Sequence[Stream], views: Sequence[View]) -> None:
        NullSink.loaded = 0

    def read_state(self, pipeline: str) -> dict[str, dict[str, Any]]:
        return {}

    def start_run(self, run: RunRecord) -> None:
        pass

    def write(self, unit: CommitUnit) -> dict[str, UpsertCounts]:
        NullSink.loaded += sum(len(rows) for rows in unit.records.values())
        return {}

    def finish_run(self, run: RunRecord) -> None:
        pass


@hookimpl
def register_sources(register: Callable[[type[Source]], None]) -> None:
    register(CountingSource)


@hookimpl
def register_transforms(register: Callable[[type[Transform]], None]) -> None:
    register(ExplodingTransform)


@hookimpl
def register_sinks(register: Callable[[type[Sink]], None]) -> None:
    register(MemorySink)
    register(NullSink)
