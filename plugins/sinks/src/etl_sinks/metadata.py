"""The sinks' own tables: names and columns, the same in every sink (see docs/sinks.md)."""

from __future__ import annotations

STATE_TABLE = "_etl_state"
"""Watermarks: one row per (pipeline, source step)."""

RUNS_TABLE = "_etl_runs"
"""Run records: one row per run."""

QUARANTINE_TABLE = "_etl_quarantine"
"""Records that failed validation, with the reason: one row per record."""

METADATA_TABLES = (STATE_TABLE, RUNS_TABLE, QUARANTINE_TABLE)

RUN_COLUMNS = (
    "run_id",
    "pipeline",
    "started_at",
    "finished_at",
    "status",
    "counts",
    "requests",
    "error",
    "options",
    "units",
)
QUARANTINE_COLUMNS = (
    "id",
    "run_id",
    "pipeline",
    "step",
    "stream",
    "record",
    "error",
    "created_at",
)

INTERRUPTED_ERROR = (
    "the run ended without recording its end (process killed or connection lost); "
    "what it committed is kept and the next run resumes from its last watermark"
)


def check_stream_name(name: str) -> None:
    """Stream names must not collide with the sinks' own tables."""
    from etl_sinks.errors import SchemaMismatchError

    if name.startswith("_etl_"):
        raise SchemaMismatchError(
            f"stream {name!r}: names starting with '_etl_' are reserved for the sink's own "
            "tables; rename the stream"
        )
