"""Fixtures of the sink tests: a fresh PostgreSQL schema (dropped afterwards) or SQLite file."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from etl_sinks.postgres import PostgresSink
from etl_sinks.sqlite import SqliteSink
from psycopg import sql

PG_URL = os.environ.get("ETL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The test database; in CI (CI=true) an unreachable server fails instead of skipping."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL} (.ci/run should start it)")
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    return PG_URL


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    """A unique schema name for this test, dropped at the end (others test in parallel)."""
    schema = f"test_sinks_{uuid.uuid4().hex[:10]}"
    yield schema
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def pg_config(pg_url: str, pg_schema: str) -> dict[str, Any]:
    return {"url": pg_url, "schema": pg_schema, "reconnect_attempts": 2}


@pytest.fixture
def pg_query(pg_url: str, pg_schema: str) -> Callable[[str], list[tuple[Any, ...]]]:
    """Run SQL in the test schema on a connection of its own."""

    def query(statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(pg_schema)))
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description else []

    return query


@pytest.fixture
def make_pg_sink(pg_config: dict[str, Any]) -> Callable[..., PostgresSink]:
    return lambda **config: PostgresSink({**pg_config, **config})


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "nasa.db"


@pytest.fixture
def make_sqlite_sink(sqlite_path: Path) -> Callable[..., SqliteSink]:
    return lambda **config: SqliteSink({"path": str(sqlite_path), **config})
