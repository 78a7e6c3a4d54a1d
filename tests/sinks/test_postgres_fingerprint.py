"""The postgres sink's row fingerprints (``_etl_hash``): unchanged rows are skipped before the
COPY, counts stay exact, old tables migrate, and the hand-edit trade-off has its escape hatches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from etl_sinks.errors import SchemaMismatchError
from etl_sinks.postgres import HASH_COLUMN, PostgresSink
from etl_sinks.testing import APPROACH, PHOTO, new_run, photo, unit
from psycopg import sql

from etlcore.contract import Column, Stream, UpsertCounts

pytestmark = pytest.mark.postgres

Query = Callable[..., list[tuple[Any, ...]]]
VERSIONS = "SELECT photo_id, xmin::text, xmax::text, ctid::text FROM photo ORDER BY photo_id"


def versions_by_id(query: Query) -> dict[int, tuple[Any, ...]]:
    return {row[0]: row[1:] for row in query(VERSIONS)}


def hashes(query: Query) -> dict[int, int | None]:
    return dict(query(f"SELECT photo_id, {HASH_COLUMN} FROM photo"))


def load(sink: PostgresSink, records: list[dict[str, Any]], run_id: str) -> UpsertCounts:
    return sink.write(unit(new_run(run_id, "nasa"), {"photo": records}))["photo"]


def test_a_mixed_batch_counts_exactly_and_leaves_unchanged_rows_alone(
    make_pg_sink: Callable[..., PostgresSink], pg_query: Query, pg_schema: str
) -> None:
    sink = make_pg_sink()
    sink.open("nasa", [PHOTO], [])
    assert load(sink, [photo(i) for i in range(300)], "run-1") == UpsertCounts(300, 0, 0)
    stored = hashes(pg_query)
    assert None not in stored.values() and len(set(stored.values())) == 300
    before = versions_by_id(pg_query)

    batch = (
        [photo(i) for i in range(100)]  # unchanged
        + [photo(i, sol=-i) for i in range(100, 200)]  # changed
        + [photo(i) for i in range(300, 400)]  # new
        + [photo(5), photo(150, sol=-150)]  # repeated keys: the last one wins
    )
    assert load(sink, batch, "run-2") == UpsertCounts(100, 100, 102)
    after = versions_by_id(pg_query)
    assert all(after[i] == before[i] for i in range(100))
    assert all(after[i] != before[i] for i in range(100, 200))
    assert all(after[i] == before[i] for i in range(200, 300))
    assert pg_query("SELECT count(*) FROM photo WHERE sol < 0") == [(100,)]
    new_hashes = hashes(pg_query)
    assert all(new_hashes[i] == stored[i] for i in range(100))
    assert all(new_hashes[i] != stored[i] for i in range(100, 200))
    sink.close()
    # the updated and inserted rows carry the fingerprint a fresh load gives them
    other = f"{pg_schema}_fresh"
    fresh = make_pg_sink(schema=other)
    try:
        fresh.open("nasa", [PHOTO], [])
        load(fresh, [photo(i, sol=-i) for i in range(100, 200)], "run-x")
        fresh.close()
        fresh_hashes = dict(pg_query(f'SELECT photo_id, {HASH_COLUMN} FROM "{other}".photo'))
        assert all(new_hashes[i] == fresh_hashes[i] for i in range(100, 200))
    finally:
        fresh.close()
        pg_query(f'DROP SCHEMA IF EXISTS "{other}" CASCADE')

    # a second identical run sends nothing and rewrites nothing
    sink = make_pg_sink()
    sink.open("nasa", [PHOTO], [])
    snapshot = pg_query(VERSIONS)
    assert load(sink, batch, "run-3") == UpsertCounts(0, 0, 302)
    assert pg_query(VERSIONS) == snapshot
    sink.close()


def test_a_table_from_before_the_fingerprints_gets_the_column_and_compares_the_slow_way(
    make_pg_sink: Callable[..., PostgresSink], pg_query: Query
) -> None:
    records = [photo(i) for i in range(50)]
    sink = make_pg_sink()
    sink.open("nasa", [PHOTO], [])
    load(sink, records, "run-1")
    sink.close()
    pg_query(f"ALTER TABLE photo DROP COLUMN {HASH_COLUMN}")  # as an older version left it
    before = pg_query(VERSIONS)

    sink = make_pg_sink()
    sink.open("nasa", [PHOTO], [])
    assert pg_query(
        "SELECT is_nullable FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'photo' AND column_name = %s",
        (HASH_COLUMN,),
    ) == [("YES",)]
    assert set(hashes(pg_query).values()) == {None}
    # NULL fingerprints: compared in the database, still nothing rewritten
    assert load(sink, records, "run-2") == UpsertCounts(0, 0, 50)
    assert pg_query(VERSIONS) == before
    assert set(hashes(pg_query).values()) == {None}
    # a changed row is updated and gets its fingerprint; a new one is inserted with one
    records[3] = photo(3, camera="changed")
    assert load(sink, [*records, photo(50)], "run-3") == UpsertCounts(1, 1, 49)
    assert {k for k, v in hashes(pg_query).items() if v is not None} == {3, 50}
    sink.close()


@pytest.mark.parametrize("escape", ["default", "verify_unchanged", "full_refresh", "null_hash"])
def test_a_row_edited_by_hand_is_restored_only_when_asked(
    escape: str, make_pg_sink: Callable[..., PostgresSink], pg_query: Query
) -> None:
    records = [photo(i) for i in range(20)]
    sink = make_pg_sink()
    sink.open("nasa", [PHOTO], [])
    load(sink, records, "run-1")
    sink.close()
    pg_query("UPDATE photo SET camera = 'edited by hand' WHERE photo_id = 4")
    if escape == "null_hash":
        pg_query(f"UPDATE photo SET {HASH_COLUMN} = NULL WHERE photo_id = 4")
    edited = versions_by_id(pg_query)

    sink = make_pg_sink(verify_unchanged=escape == "verify_unchanged")
    sink.open("nasa", [PHOTO], [])
    run = new_run("run-2", "nasa")
    run.options = {"full_refresh": escape == "full_refresh"}
    counts = sink.write(unit(run, {"photo": records}))["photo"]
    sink.close()
    after = versions_by_id(pg_query)
    assert all(after[i] == edited[i] for i in range(20) if i != 4)  # never rewritten
    camera = pg_query("SELECT camera FROM photo WHERE photo_id = 4")[0][0]
    if escape == "default":
        # the documented trade-off: the fingerprint still matches the source
        assert counts == UpsertCounts(0, 0, 20)
        assert camera == "edited by hand"
        assert after[4] == edited[4]
    else:
        assert counts == UpsertCounts(0, 1, 19)
        assert camera == records[4]["camera"]


def test_a_key_inserted_behind_the_sinks_back_falls_back_to_the_merge(
    make_pg_sink: Callable[..., PostgresSink], pg_query: Query
) -> None:
    """Keys that looked new but exist by the time of the COPY (another pipeline writing the
    same table) are merged instead: the COPY's unique violation rolls back to a savepoint."""
    sink = make_pg_sink()
    sink.open("nasa", [PHOTO], [])
    load(sink, [photo(i) for i in range(10)], "run-1")
    before = versions_by_id(pg_query)
    # blind the fingerprint query: every key looks new
    stream_sql = sink._streams["photo"]
    stream_sql.fetch_hashes = sql.SQL("{} AND false").format(stream_sql.fetch_hashes)
    batch = [photo(i) for i in range(9)] + [photo(9, sol=-1), photo(10), photo(11)]
    assert load(sink, batch, "run-2") == UpsertCounts(2, 1, 9)
    after = versions_by_id(pg_query)
    assert all(after[i] == before[i] for i in range(9))
    assert after[9] != before[9]
    assert pg_query("SELECT count(*) FROM photo") == [(12,)]
    sink.close()


def test_composite_keys_are_fingerprinted_too(
    make_pg_sink: Callable[..., PostgresSink], pg_query: Query
) -> None:
    rows = [
        {
            "neo_id": f"n{i % 7}",
            "approach_date": dt.date(2024, 1, 1 + i % 20),
            "body": b,
            "miss_km": i * 1.5,
        }
        for i in range(60)
        for b in ("Earth", "Mars")
    ]
    sink = make_pg_sink()
    sink.open("nasa", [APPROACH], [])
    first = sink.write(unit(new_run("run-1", "nasa"), {"approach": rows}))["approach"]
    stored = pg_query("SELECT count(*) FROM approach")[0][0]
    assert first == UpsertCounts(stored, 0, len(rows) - stored)
    versions = pg_query("SELECT neo_id, approach_date, body, xmin::text, ctid::text FROM approach")
    again = sink.write(unit(new_run("run-2", "nasa"), {"approach": rows}))["approach"]
    assert again == UpsertCounts(0, 0, len(rows))
    assert (
        pg_query("SELECT neo_id, approach_date, body, xmin::text, ctid::text FROM approach")
        == versions
    )
    rows[-1] = {**rows[-1], "miss_km": -1.0}
    assert sink.write(unit(new_run("run-3", "nasa"), {"approach": rows}))["approach"] == (
        UpsertCounts(0, 1, len(rows) - 1)
    )
    sink.close()


def test_a_stream_cannot_declare_the_fingerprint_column(
    make_pg_sink: Callable[..., PostgresSink],
) -> None:
    stream = Stream("odd", ("id",), (Column("id", "integer"), Column(HASH_COLUMN, "integer")))
    with pytest.raises(SchemaMismatchError, match=HASH_COLUMN):
        make_pg_sink().open("nasa", [stream], [])
