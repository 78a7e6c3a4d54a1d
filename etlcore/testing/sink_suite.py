"""The shared sink suite as a one-line pytest class.

The suite itself (``SinkConformance``) belongs to the ``etl-sinks`` distribution, which
depends on etlcore; it is imported here only when a test asks for it, so etlcore never
imports a plugin. It checks what every SQL sink shares (upserts and their counts, atomic
commit units with watermarks, run records, quarantine, the per-pipeline lock, schema
changes, views): it fits sinks into a SQL database, queried through ``query``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from etlcore.contract import Sink

QueryRows = Callable[[Sink, str], list[tuple[Any, ...]]]


def shared_sink_suite() -> type:
    """``etl_sinks.testing.SinkConformance``, with a clear error when etl-sinks is missing."""
    try:
        module = importlib.import_module("etl_sinks.testing")
    except ImportError as exc:
        raise ImportError(
            "the shared sink suite comes with the etl-sinks distribution: "
            f"pip install etl-sinks ({exc})"
        ) from exc
    suite: type = module.SinkConformance
    return suite


def sink_test_class(
    sink_class: type[Sink],
    config: Callable[[Path], Mapping[str, Any]],
    query: QueryRows,
) -> type:
    """The shared suite as a pytest class for ``sink_class``::

        TestMySink = sink_test_class(
            MySink,
            config=lambda tmp_path: {"path": str(tmp_path / "test.db")},
            query=lambda sink, sql: my_connect(sink).execute(sql).fetchall(),
        )

    ``config(tmp_path)`` is the config of a fresh, empty database for one test (the suite
    adds ``lock`` and ``lock_timeout_seconds``); ``query(sink, sql)`` runs a SELECT on the
    database that ``sink`` writes to and returns rows as tuples.
    """

    class Suite(shared_sink_suite()):  # type: ignore[misc]
        @pytest.fixture
        def make_sink(self, tmp_path: Path) -> Callable[..., Sink]:
            base = dict(config(tmp_path))
            return lambda **extra: sink_class({**base, **extra})

        @pytest.fixture
        def query_rows(self) -> QueryRows:
            return query

    Suite.__name__ = Suite.__qualname__ = f"Test{sink_class.__name__}Conformance"
    return Suite
