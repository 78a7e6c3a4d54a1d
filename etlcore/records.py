"""Record validation against a stream: the one gate every record passes before a sink.

Checks are compiled once per stream into a list of per-column functions, so validating a
record costs a few ``isinstance`` calls. What fails goes to quarantine with a reason that
names the column; nothing is dropped.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any

from etlcore.contract import Column, Record, Stream

Check = Callable[[Any], str | None]


def _string(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"expected string, got {type(value).__name__}"
    if "\x00" in value:
        return "contains a NUL character (not storable in PostgreSQL text)"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "is not valid Unicode (lone surrogate)"
    return None


def _integer(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"expected integer, got {type(value).__name__}"
    if not -(2**63) <= value < 2**63:
        return "integer out of the 64-bit range"
    return None


def _number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected number, got {type(value).__name__}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"number is {value} (only finite numbers are stored)"
    return None


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"expected boolean, got {type(value).__name__}"


def _date(value: Any) -> str | None:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        return f"expected date, got {type(value).__name__}"
    return None


def _timestamp(value: Any) -> str | None:
    if not isinstance(value, dt.datetime):
        return f"expected timestamp, got {type(value).__name__}"
    if value.tzinfo is None or value.utcoffset() is None:
        return "timestamp has no timezone"
    return None


def _json(value: Any) -> str | None:
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        return f"not JSON-serialisable: {exc}"
    if "\\u0000" in text:
        return "JSON contains a NUL character (not storable in PostgreSQL jsonb)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "JSON is not valid Unicode (lone surrogate)"
    return None


CHECKS: dict[str, Check] = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "date": _date,
    "timestamp": _timestamp,
    "json": _json,
}


class RecordValidator:
    """Validates records of one stream; ``problems(record)`` is empty for a valid record."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        key = set(stream.primary_key)
        self._columns: list[tuple[str, bool, Check]] = [
            (column.name, column.nullable and column.name not in key, CHECKS[column.type])
            for column in stream.columns
        ]
        self._known = frozenset(stream.column_names)
        self._fast = _compile_fast_check(stream)

    def problems(self, record: Any) -> list[str]:
        if type(record) is dict and self._fast(record):
            return []
        return self._explain(record)

    def _explain(self, record: Any) -> list[str]:
        if not isinstance(record, dict):
            return [f"a record must be a dict, got {type(record).__name__}"]
        found: list[str] = []
        for name, nullable, check in self._columns:
            value = record.get(name)
            if value is None:
                if not nullable:
                    found.append(f"{name}: is required (primary key or NOT NULL) but missing")
                continue
            problem = check(value)
            if problem:
                found.append(f"{name}: {problem}")
        if not self._known.issuperset(record):
            extra = record.keys() - self._known
            found.append(
                f"unknown columns {sorted(extra)} (declare them on stream {self.stream.name!r}, "
                "or keep them in a json column)"
            )
        return found


# The fast path: one generated function per stream answers "valid?" with a few `type(v) is`
# tests per column (no calls, no allocations); only records it rejects go through the
# per-column checks above, which say why. Both must agree: tests/engine/test_records.py.
_FAST_TESTS: dict[str, str] = {
    "string": "type(v) is str and '\\x00' not in v and (v.isascii() or _utf8(v))",
    "integer": "type(v) is int and -9223372036854775808 <= v <= 9223372036854775807",
    "number": "(type(v) is float and _isfinite(v)) or type(v) is int",
    "boolean": "type(v) is bool",
    "date": "type(v) is _date",
    "timestamp": "isinstance(v, _datetime) and v.utcoffset() is not None",
    "json": "_json(v) is None",
}


def _utf8(value: str) -> bool:
    return _string(value) is None


def _compile_fast_check(stream: Stream) -> Callable[[dict[str, Any]], bool]:
    key = set(stream.primary_key)
    lines = ["def fast(record):", "    get = record.get"]
    for column in stream.columns:
        lines.append(f"    v = get({column.name!r})")
        if column.nullable and column.name not in key:
            lines.append(f"    if v is not None and not ({_FAST_TESTS[column.type]}):")
        else:
            lines.append(f"    if v is None or not ({_FAST_TESTS[column.type]}):")
        lines.append("        return False")
    lines.append("    return _known.issuperset(record)")
    namespace: dict[str, Any] = {
        "_isfinite": math.isfinite,
        "_date": dt.date,
        "_datetime": dt.datetime,
        "_json": _json,
        "_utf8": _utf8,
        "_known": frozenset(stream.column_names),
    }
    exec("\n".join(lines), namespace)
    fast: Callable[[dict[str, Any]], bool] = namespace["fast"]
    return fast


def jsonable(record: Any) -> Any:
    """A JSON-compatible copy of a record for the quarantine table (odd values as repr)."""
    if isinstance(record, dict):
        return {str(key): jsonable(value) for key, value in record.items()}
    if isinstance(record, list | tuple):
        return [jsonable(value) for value in record]
    if isinstance(record, float) and not math.isfinite(record):
        return repr(record)
    if record is None or isinstance(record, bool | int | float):
        return record
    if isinstance(record, str):
        return record.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode()
    if isinstance(record, dt.date):
        return record.isoformat()
    return repr(record)


def stream_json_schema(stream: Stream) -> dict[str, Any]:
    """The stream as a JSON Schema of its records' JSON form (for docs and `etl plugins`)."""
    types = {
        "string": {"type": "string"},
        "integer": {"type": "integer"},
        "number": {"type": "number"},
        "boolean": {"type": "boolean"},
        "date": {"type": "string", "format": "date"},
        "timestamp": {"type": "string", "format": "date-time"},
        "json": {},
    }

    def column_schema(column: Column) -> dict[str, Any]:
        schema: dict[str, Any] = dict(types[column.type])
        if column.nullable and column.name not in stream.primary_key and "type" in schema:
            schema["type"] = [schema["type"], "null"]
        if column.description:
            schema["description"] = column.description
        return schema

    return {
        "title": stream.name,
        "type": "object",
        "properties": {column.name: column_schema(column) for column in stream.columns},
        "required": list(stream.primary_key),
        "x-primary-key": list(stream.primary_key),
        "additionalProperties": False,
    }


def validate_record(stream: Stream, record: Record) -> list[str]:
    """One-off validation; build a :class:`RecordValidator` to validate many records."""
    return RecordValidator(stream).problems(record)
