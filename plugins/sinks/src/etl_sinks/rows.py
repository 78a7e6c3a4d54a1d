"""From records to rows: de-duplication by key, JSON for the sinks' own tables, and the
diagnosis of a value a database refused."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

from etlcore.contract import Record, RunRecord, Stream, StreamCounts, UpsertCounts


def dedupe_last_wins(records: Sequence[Record], key: Sequence[str]) -> list[Record]:
    """One record per primary key, the last occurrence in the batch winning (in its place).

    A batch can carry the same key twice (an API page overlapping the next); the database's
    upsert cannot touch one row twice in one statement, and the latest version is the truth.
    """
    if len(key) == 1:
        (name,) = key
        by_key: dict[Any, Record] = {record[name]: record for record in records}
    else:
        by_key = {tuple(record[name] for name in key): record for record in records}
    if len(by_key) == len(records):
        return list(records)
    return list(by_key.values())


def row_getter(columns: Sequence[str]) -> Callable[[Record], tuple[Any, ...]]:
    """A fast function from a record to the tuple of its values in ``columns`` order
    (a missing nullable column is ``None``)."""
    names = tuple(columns)

    def row(record: Record) -> tuple[Any, ...]:
        return tuple(map(record.get, names))

    return row


def non_finite_number(stream: Stream, records: Sequence[Record]) -> str | None:
    """Describe the first NaN/infinite value of a ``number`` column, or ``None``.

    PostgreSQL would store NaN and SQLite would turn it into NULL: both silently change what
    the source said, so the sinks refuse them (the engine quarantines them before).
    """
    names = [column.name for column in stream.columns if column.type == "number"]
    if not names:
        return None
    for record in records:
        for name in names:
            value = record.get(name)
            if isinstance(value, float) and not math.isfinite(value):
                return describe_value_problem(stream, record, name, f"is {value}")
    return None


def find_unstorable_value(stream: Stream, records: Sequence[Record]) -> str | None:
    """Find why a database refused a batch: the first NUL, lone surrogate, non-finite number
    or non-JSON value, described with stream, key and column. ``None`` if nothing is found."""
    for record in records:
        for column in stream.columns:
            value = record.get(column.name)
            problem = _value_problem(column.type, value)
            if problem:
                return describe_value_problem(stream, record, column.name, problem)
    return None


def describe_value_problem(stream: Stream, record: Record, column: str, problem: str) -> str:
    key = ", ".join(f"{name}={record.get(name)!r}" for name in stream.primary_key)
    return (
        f"stream {stream.name!r}, record ({key}), column {column!r}: {problem}. The engine's "
        "validation quarantines such records before they reach a sink; a plugin that calls the "
        "sink directly must validate its records (etlcore.records.RecordValidator)"
    )


def _value_problem(column_type: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, float) and not math.isfinite(value):
        return f"is {value} (only finite numbers can be stored)"
    if column_type == "json":
        try:
            text = json.dumps(value, allow_nan=False, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            return f"is not JSON-serialisable ({exc})"
        if "\\u0000" in text:
            return "holds a NUL character inside its JSON (not storable in jsonb)"
        return _text_problem(text)
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (not storable in PostgreSQL text)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (contains a lone surrogate)"
    return None


def json_default(value: Any) -> Any:
    """``json.dumps`` default for watermarks and run options: dates as ISO text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def dumps_meta(value: Any) -> str:
    """JSON text of a watermark, counts or options (compact, keys sorted)."""
    return json.dumps(value, default=json_default, sort_keys=True, separators=(",", ":"))


def dumps_quarantined(record: Any) -> str:
    """JSON text of a quarantined record that any database stores: ASCII-only, so that NUL
    characters and lone surrogates survive as ``\\u`` escapes; NaN/inf become strings."""
    return json.dumps(_finite(record), default=repr, ensure_ascii=True, sort_keys=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def clean_text(text: str) -> str:
    """Text any database stores: NUL shown as ``\\x00``, lone surrogates escaped."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def counts_with(run: RunRecord, written: dict[str, UpsertCounts]) -> dict[str, Any]:
    """The run's per-stream counts including what this unit just upserted, as JSON data.

    The engine adds a unit's upsert counts to the run after ``write`` returns; storing them
    already added keeps the stored run record true if the process dies right after the commit.
    """
    merged: dict[str, Any] = {}
    for stream, counts in run.counts.items():
        merged[stream] = dataclasses.asdict(counts)
    for stream, upserts in written.items():
        figures = merged.setdefault(stream, dataclasses.asdict(StreamCounts()))
        figures["inserted"] += upserts.inserted
        figures["updated"] += upserts.updated
        figures["unchanged"] += upserts.unchanged
    return merged


def counts_of(run: RunRecord) -> dict[str, Any]:
    return {stream: dataclasses.asdict(counts) for stream, counts in run.counts.items()}
