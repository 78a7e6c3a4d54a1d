"""Test kit for plugin authors: fixtures and one-line conformance suites.

The fixtures (``etl_http_server``, ``etl_step_context``, ``etl_sqlite_sink``,
``etl_pipeline``) come with the pytest plugin :mod:`etlcore.testing.pytest_plugin`, which
pytest loads by itself once etlcore is installed. The suites::

    from etlcore.testing import sink_test_class, source_test_class

    TestMySource = source_test_class(MySource, config={...})

    TestMySink = sink_test_class(MySink, config=..., query=...)  # the etl-sinks suite

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
    "sink_test_class": "etlcore.testing.sink_suite",
}

__all__ = [*_EXPORTS, "SinkConformance"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name == "SinkConformance":
        # The shared sink suite of the etl-sinks distribution, imported on first use only.
        return importlib.import_module("etlcore.testing.sink_suite").shared_sink_suite()
    raise AttributeError(f"module 'etlcore.testing' has no attribute {name!r}")
