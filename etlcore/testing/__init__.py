"""Test kit for plugin authors: fixtures and one-line conformance suites.

The fixtures (``etl_http_server``, ``etl_step_context``, ``etl_sqlite_sink``,
``etl_pipeline``) come with the pytest plugin :mod:`etlcore.testing.pytest_plugin`, which
pytest loads by itself once etlcore is installed. The suites::

    from etlcore.testing import source_test_class, SinkConformance

    TestMySource = source_test_class(MySource, config={...})

    class TestMySink(SinkConformance):  # the shared suite of the etl-sinks distribution
        ...

Names are imported on first use, so ``import etlcore.testing`` stays cheap and etlcore
never imports a plugin distribution unless a test asks for the sink suite.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SourceConformance": "etlcore.testing.conformance",
    "source_test_class": "etlcore.testing.conformance",
    "make_step_context": "etlcore.testing.context",
    "LocalHTTPServer": "etlcore.testing.http_server",
    "Request": "etlcore.testing.http_server",
    "Response": "etlcore.testing.http_server",
    "PipelineHarness": "etlcore.testing.pipeline",
    "build_registry": "etlcore.testing.pipeline",
    "RecordsSource": "etlcore.testing.records_source",
    "TemporarySqliteSink": "etlcore.testing.sqlite_sink",
}

__all__ = [*_EXPORTS, "SinkConformance", "sink_test_class"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in ("SinkConformance", "sink_test_class"):
        return _sink_suite(name)
    raise AttributeError(f"module 'etlcore.testing' has no attribute {name!r}")


def _sink_suite(name: str) -> Any:
    # The shared sink suite belongs to the etl-sinks distribution, which depends on etlcore:
    # importing it here, lazily, keeps etlcore free of any import of a plugin.
    try:
        module = importlib.import_module("etl_sinks.testing")
    except ImportError as exc:
        raise ImportError(
            f"etlcore.testing.{name} is the shared sink suite of the etl-sinks distribution; "
            f"install it (pip install etl-sinks) to use it ({exc})"
        ) from exc
    return getattr(module, name)
