"""``testing.records``: a source that emits the records written in its config.

It lets a test feed a transform, an enricher or a sink through a real pipeline without a
network. It is registered only by the test kit's harness, never through an entry point,
so it does not show in ``etl plugins``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from etlcore.contract import COLUMN_TYPES, Batch, Column, Record, Source, StepContext, Stream


class RecordsSource(Source):
    """Emits ``records`` as stream ``stream``; ISO strings become dates and timestamps."""

    name = "testing.records"
    description = "Emits the records given in its config (for tests)."
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["stream", "primary_key", "columns", "records"],
        "properties": {
            "stream": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            "primary_key": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "columns": {
                "type": "object",
                "description": "Column name -> type; a trailing '!' means NOT NULL.",
                "additionalProperties": {
                    "type": "string",
                    "pattern": "^(" + "|".join(COLUMN_TYPES) + ")!?$",
                },
            },
            "records": {"type": "array", "items": {"type": "object"}},
        },
    }

    def streams(self) -> Sequence[Stream]:
        columns = tuple(
            Column(name, spec.rstrip("!"), nullable=not spec.endswith("!"))
            for name, spec in self.config["columns"].items()
        )
        return (Stream(self.config["stream"], tuple(self.config["primary_key"]), columns),)

    def extract(self, ctx: StepContext, state: Mapping[str, Any] | None) -> Iterator[Batch]:
        stream = self.streams()[0]
        records = [_typed(stream, raw) for raw in self.config["records"]]
        for start in range(0, len(records), ctx.batch_size):
            chunk = records[start : start + ctx.batch_size]
            yield Batch({stream.name: chunk}, state={"emitted": start + len(chunk)})


def _typed(stream: Stream, raw: Mapping[str, Any]) -> Record:
    record = dict(raw)
    for column in stream.columns:
        value = record.get(column.name)
        if isinstance(value, str) and column.type == "date":
            record[column.name] = _or_raw(dt.date.fromisoformat, value)
        elif isinstance(value, str) and column.type == "timestamp":
            record[column.name] = _or_raw(dt.datetime.fromisoformat, value)
    return record


def _or_raw(parse: Any, value: str) -> Any:
    try:
        return parse(value)
    except ValueError:
        return value  # left for the engine to quarantine, like a real source would
