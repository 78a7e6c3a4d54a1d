"""Record validation: what each column type accepts, and the fast path agreeing with the
explanations (a record is rejected by one exactly when the other names a problem)."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etlcore.contract import COLUMN_TYPES, Column, Stream
from etlcore.records import RecordValidator, jsonable, stream_json_schema

STREAM = Stream(
    "everything",
    ("id",),
    (
        *(Column(f"c_{kind}", kind) for kind in COLUMN_TYPES),
        Column("id", "integer"),
        Column("required", "string", nullable=False),
    ),
)
VALIDATOR = RecordValidator(STREAM)
UTC = dt.UTC

GOOD = {
    "string": ["", "héllo", "😀" * 3, "x" * 100_000],
    "integer": [0, -(2**63), 2**63 - 1],
    "number": [0, 1.5, -2, 1e300],
    "boolean": [True, False],
    "date": [dt.date(1995, 6, 16)],
    "timestamp": [dt.datetime(2024, 1, 1, tzinfo=UTC)],
    "json": [{"a": [1, "x", None]}, [1, 2], "text", 3],
}
BAD = {
    "string": [("a\x00b", "NUL"), ("\ud800", "lone surrogate"), (5, "expected string")],
    "integer": [(True, "expected integer"), (1.0, "expected integer"), (2**63, "64-bit")],
    "number": [(math.nan, "only finite"), (math.inf, "only finite"), ("1", "expected number")],
    "boolean": [(1, "expected boolean")],
    "date": [(dt.datetime(2024, 1, 1), "expected date"), ("2024-01-01", "expected date")],
    "timestamp": [(dt.datetime(2024, 1, 1), "no timezone")],
    "json": [
        ({"a": math.nan}, "not JSON-serialisable"),
        ({"a": "\x00"}, "NUL"),
        ({"a": object()}, "not JSON-serialisable"),
    ],
}


def record(**values: object) -> dict[str, object]:
    return {"id": 1, "required": "r", **values}


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, vs in GOOD.items() for v in vs])
def test_accepts(kind: str, value: object) -> None:
    assert VALIDATOR.problems(record(**{f"c_{kind}": value})) == []


@pytest.mark.parametrize(
    ("kind", "value", "reason"), [(k, v, r) for k, vs in BAD.items() for v, r in vs]
)
def test_rejects_with_a_reason_naming_the_column(kind: str, value: object, reason: str) -> None:
    problems = VALIDATOR.problems(record(**{f"c_{kind}": value}))
    assert len(problems) == 1
    assert problems[0].startswith(f"c_{kind}: ") and reason in problems[0]


def test_missing_key_and_required_columns() -> None:
    assert VALIDATOR.problems({"required": "r"}) == [
        "id: is required (primary key or NOT NULL) but missing"
    ]
    assert VALIDATOR.problems({"id": 1}) == [
        "required: is required (primary key or NOT NULL) but missing"
    ]


def test_unknown_columns_are_named() -> None:
    problems = VALIDATOR.problems(record(surprise=1))
    assert problems == [
        "unknown columns ['surprise'] (declare them on stream 'everything', "
        "or keep them in a json column)"
    ]


def test_not_a_dict() -> None:
    assert VALIDATOR.problems(["a", "list"]) == ["a record must be a dict, got list"]


ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
    st.dictionaries(
        st.text(max_size=3), st.one_of(st.integers(), st.floats(), st.text()), max_size=3
    ),
    st.lists(st.integers(), max_size=3),
)


@settings(max_examples=500)
@given(st.dictionaries(st.sampled_from([c.name for c in STREAM.columns] + ["zz"]), ANY_VALUE))
def test_fast_path_agrees_with_the_explanations(values: dict[str, object]) -> None:
    fast_says_valid = VALIDATOR._fast(values)
    assert fast_says_valid == (VALIDATOR._explain(values) == [])
    if not fast_says_valid:
        assert VALIDATOR.problems(values)


def test_jsonable_keeps_bad_records_readable() -> None:
    bad = {"n": math.nan, "s": "a\x00b", "d": dt.date(2024, 1, 2), "o": object()}
    out = jsonable(bad)
    assert out["n"] == "nan" and out["s"] == "a\\u0000b" and out["d"] == "2024-01-02"
    assert out["o"].startswith("<object object")


def test_stream_json_schema() -> None:
    schema = stream_json_schema(STREAM)
    assert schema["required"] == ["id"]
    assert schema["properties"]["c_date"] == {"type": ["string", "null"], "format": "date"}
    assert schema["properties"]["id"] == {"type": "integer"}
