"""The shared sink suite (of etl-sinks) through the kit's one-liner."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

import pytest

from etlcore.plugins import PluginRegistry
from etlcore.testing import sink_test_class

SqliteSink = PluginRegistry.load(strict=False).get("sink", "sqlite")


def _query(sink: Any, statement: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(sink.path)) as connection:
        return connection.execute(statement).fetchall()


TestSqliteSinkThroughTheKit = pytest.mark.slow(
    sink_test_class(SqliteSink, lambda tmp_path: {"path": str(tmp_path / "kit.db")}, _query)
)


def test_the_one_liner_is_the_shared_suite() -> None:
    from etl_sinks.testing import SinkConformance

    from etlcore.testing import SinkConformance as reexported

    assert reexported is SinkConformance
    assert issubclass(TestSqliteSinkThroughTheKit, SinkConformance)
    assert TestSqliteSinkThroughTheKit.__name__ == "TestSqliteSinkConformance"
