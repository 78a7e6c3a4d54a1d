"""Errors the sinks raise: each says what went wrong, where, and what to do about it."""

from __future__ import annotations


class SinkError(RuntimeError):
    """A sink could not do what it was asked; the message is meant for the user."""


class SchemaMismatchError(SinkError):
    """An existing table (or view) cannot take a stream's declared schema without a manual step."""


class PipelineLockedError(SinkError):
    """Another run of the same pipeline holds the per-pipeline lock."""


class SinkConnectionError(SinkError):
    """The database could not be reached, or the connection was lost for good."""


class SinkDataError(SinkError):
    """A record carries a value the database cannot store (the engine's validation should have
    quarantined it before it reached the sink)."""
