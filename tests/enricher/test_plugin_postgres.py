"""The enricher in a pipeline run that loads into PostgreSQL (the production sink)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest

from etlcore.testing.pipeline import PipelineHarness
from tests.enricher.conftest import LOOPBACK_NETWORKS
from tests.enricher.test_plugin import fetches, pipeline
from tests.imageserver import ImageServer

psycopg = pytest.importorskip("psycopg")
from psycopg import sql  # noqa: E402

PG_URL = os.environ.get("ETL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_schema() -> Iterator[str]:
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    schema = f"test_enricher_{uuid.uuid4().hex[:10]}"  # others test in parallel
    yield schema
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.mark.postgres
def test_enriched_rows_are_looked_up_in_postgres_and_not_fetched_again(
    image_server: ImageServer, etl_pipeline: PipelineHarness, pg_schema: str
) -> None:
    enrich = {
        "allowed_hosts": [image_server.authority],
        "allow_private_networks": list(LOOPBACK_NETWORKS),
    }
    spec = pipeline(
        image_server, {"plugin": "postgres", "url": PG_URL, "schema": pg_schema}, enrich
    )
    spec["name"] = "enrich_pg"

    first = etl_pipeline.run(spec)
    assert first.succeeded, first.run.error
    fetched = fetches(image_server, "/run/a.jpg")
    second = etl_pipeline.run(spec)
    assert second.succeeded, second.run.error

    assert fetches(image_server, "/run/a.jpg") == fetched
    counts = second.run.counts["nasa_event"]
    assert (counts.unchanged, counts.updated, counts.inserted) == (3, 1, 0)
    with psycopg.connect(PG_URL) as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT source_id, image_width, image_height, image_format, enrich_status, "
                "enrich_error, enriched_at FROM {}.nasa_event ORDER BY source_id"
            ).format(sql.Identifier(pg_schema))
        ).fetchall()
    by_id = {row[0]: row[1:] for row in rows}
    assert by_id["2024-01-01"][:5] == (1200, 800, "JPEG", "ok", None)
    assert isinstance(by_id["2024-01-01"][5], dt.datetime)
    assert by_id["2024-01-03"][3:5] == ("failed", "not_an_image")
    assert by_id["2024-01-02"][3] == "skipped"
