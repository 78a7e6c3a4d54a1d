"""End to end on PostgreSQL: every table and the daily_summary view, and an idempotent re-run."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest
from etl_nasa_sources.date_windows import today_us_eastern

from tests.nasa.pipeline_helpers import harness, nasa_pipeline, run

psycopg = pytest.importorskip("psycopg")
from psycopg import sql  # noqa: E402

PG_URL = os.environ.get("ETL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def pg_schema() -> Iterator[str]:
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    schema = f"test_nasa_{uuid.uuid4().hex[:10]}"
    yield schema
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def pg_query(schema: str, statement: str) -> list[tuple]:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        return conn.execute(statement).fetchall()


def test_offline_run_on_postgres_fills_tables_and_view_and_rerun_changes_nothing(
    sim, tmp_path, pg_schema
):
    pipeline = nasa_pipeline(sim, tmp_path / "unused.db")
    pipeline["sinks"] = [{"plugin": "postgres", "url": PG_URL, "schema": pg_schema}]
    h = harness(tmp_path)
    since = today_us_eastern() - dt.timedelta(days=15)
    first = run(h, pipeline, since=since)
    assert first.succeeded, first.run.error
    for table in ("apod", "neo", "neo_close_approach", "mars_photo", "nasa_event"):
        assert pg_query(pg_schema, f"SELECT COUNT(*) FROM {table}")[0][0] > 0, table
    view = pg_query(
        pg_schema,
        "SELECT SUM(neo_approaches), SUM(hazardous_approaches), SUM(mars_photos), "
        "COUNT(apod_title) FROM daily_summary",
    )[0]
    approaches = pg_query(pg_schema, "SELECT COUNT(*) FROM neo_close_approach")[0][0]
    hazardous = pg_query(
        pg_schema,
        "SELECT COUNT(*) FROM neo_close_approach ca JOIN neo n USING (neo_id) "
        "WHERE n.is_potentially_hazardous",
    )[0][0]
    photos = pg_query(pg_schema, "SELECT COUNT(*) FROM mars_photo")[0][0]
    apods = pg_query(pg_schema, "SELECT COUNT(*) FROM apod")[0][0]
    assert tuple(view) == (approaches, hazardous, photos, apods)
    closest = pg_query(
        pg_schema,
        "SELECT d.closest_miss_km = m.km FROM daily_summary d JOIN (SELECT close_approach_date, "
        "MIN(miss_distance_km) AS km FROM neo_close_approach GROUP BY 1) m "
        'ON m.close_approach_date = d."date"',
    )
    assert closest and all(ok for (ok,) in closest)

    second = run(h, pipeline, since=since)
    assert second.succeeded, second.run.error
    assert all(c.inserted == 0 and c.updated == 0 for c in second.run.counts.values())
