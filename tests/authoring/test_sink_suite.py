"""The shared sink suite through the kit's one-liner, and etlcore's distance from etl-sinks."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
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


def test_etlcore_and_its_pytest_plugin_import_no_plugin_distribution() -> None:
    code = (
        "import sys, etlcore.testing, etlcore.testing.pytest_plugin, etlcore.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('etl_sinks', 'etl_nasa_sources', 'image_enricher')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path("/")
    )
    assert result.stdout.strip() == "[]"
