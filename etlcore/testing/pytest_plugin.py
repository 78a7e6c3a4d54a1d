"""pytest plugin registered by etlcore (entry point ``pytest11``): the plugin authors' fixtures.

pytest loads this module in every session of every project that has etlcore installed, so it
imports nothing heavy at module level: each fixture imports what it needs when it runs.

Fixtures:

``etl_http_server``
    A :class:`~etlcore.testing.http_server.LocalHTTPServer` on 127.0.0.1, started and stopped
    around the test.
``etl_step_context``
    A :class:`~etlcore.contract.StepContext` for calling a plugin's methods directly.
``etl_sqlite_sink``
    A :class:`~etlcore.testing.sqlite_sink.TemporarySqliteSink`: a SQLite file in the test's
    temporary folder, its ``step`` to put under ``sinks:``, and ``rows(table)`` to read back.
``etl_pipeline``
    A :class:`~etlcore.testing.pipeline.PipelineHarness` that writes and runs pipelines in
    the test's temporary folder with the installed plugins, ``testing.records`` and any
    class you ``add_plugin``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from etlcore.contract import StepContext
    from etlcore.testing.http_server import LocalHTTPServer
    from etlcore.testing.pipeline import PipelineHarness
    from etlcore.testing.sqlite_sink import TemporarySqliteSink


@pytest.fixture
def etl_http_server() -> Iterator[LocalHTTPServer]:
    """A local HTTP server for a source's tests: ``add_json``/``add_handler``, then ``.url``."""
    from etlcore.testing.http_server import LocalHTTPServer

    with LocalHTTPServer() as server:
        yield server


@pytest.fixture
def etl_step_context() -> StepContext:
    """A step context like the runner's, for unit tests of a plugin's methods."""
    from etlcore.testing.context import make_step_context

    return make_step_context()


@pytest.fixture
def etl_sqlite_sink(tmp_path: Path) -> TemporarySqliteSink:
    """A SQLite database in the test's temporary folder, loaded by the ``sqlite`` sink."""
    from etlcore.testing.sqlite_sink import TemporarySqliteSink

    return TemporarySqliteSink(tmp_path / "etl-test.db")


@pytest.fixture
def etl_pipeline(tmp_path: Path) -> PipelineHarness:
    """Write and run pipelines with the installed plugins plus the ones a test adds."""
    from etlcore.testing.pipeline import PipelineHarness
    from etlcore.testing.records_source import RecordsSource

    harness = PipelineHarness(tmp_path)
    harness.add_plugin(RecordsSource)
    return harness
