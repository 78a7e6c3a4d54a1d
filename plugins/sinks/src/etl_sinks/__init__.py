"""etlcore sinks: ``postgres`` (COPY + idempotent merge) and ``sqlite`` (the embedded default)."""

from etl_sinks.errors import (
    PipelineLockedError,
    SchemaMismatchError,
    SinkConnectionError,
    SinkDataError,
    SinkError,
)
from etl_sinks.postgres import PostgresSink
from etl_sinks.sqlite import SqliteSink

__all__ = [
    "PipelineLockedError",
    "PostgresSink",
    "SchemaMismatchError",
    "SinkConnectionError",
    "SinkDataError",
    "SinkError",
    "SqliteSink",
]
