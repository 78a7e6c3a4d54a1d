"""Both sinks pass the shared conformance suite (etl_sinks.testing)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from etl_sinks.testing import SinkConformance


class TestSqliteConformance(SinkConformance):
    @pytest.fixture
    def make_sink(self, make_sqlite_sink: Callable[..., Any]) -> Callable[..., Any]:
        return make_sqlite_sink

    @pytest.fixture
    def query_rows(self, sqlite_path: Path) -> Callable[[Any, str], list[tuple[Any, ...]]]:
        def query(sink: Any, statement: str) -> list[tuple[Any, ...]]:
            with sqlite3.connect(sqlite_path) as conn:
                return conn.execute(statement).fetchall()

        return query


@pytest.mark.postgres
class TestPostgresConformance(SinkConformance):
    @pytest.fixture
    def make_sink(self, make_pg_sink: Callable[..., Any]) -> Callable[..., Any]:
        return make_pg_sink

    @pytest.fixture
    def query_rows(self, pg_query: Callable[..., Any]) -> Callable[[Any, str], Any]:
        return lambda sink, statement: pg_query(statement)
