"""The plugin contract: what a source, transform, enricher, sink or secret provider is.

A *record* is a dict of column name to Python value. A *batch* carries the records of one
or more streams plus, for a source, the watermark that becomes true once those records are
committed. Sinks commit a batch's records, its quarantined records, its watermark and the
run record in one transaction (a *commit unit*).

Column types and the Python values records carry:

============  ===========================================================
``string``    ``str`` (no NUL characters, valid Unicode)
``integer``   ``int`` (not ``bool``)
``number``    ``float`` or ``int``, finite (no NaN, no infinity)
``boolean``   ``bool``
``date``      ``datetime.date`` (not a ``datetime``)
``timestamp`` ``datetime.datetime`` with a timezone (sinks store UTC)
``json``      any JSON-serialisable value (dict, list, str, number, bool)
============  ===========================================================

``None`` is allowed wherever a column is nullable. Records reaching a sink have passed the
engine's validation against their stream (see :mod:`etlcore.records`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    import logging

    from etlcore.http import HttpClient

Record = dict[str, Any]
ColumnType = Literal["string", "integer", "number", "boolean", "date", "timestamp", "json"]
COLUMN_TYPES: tuple[ColumnType, ...] = (
    "string",
    "integer",
    "number",
    "boolean",
    "date",
    "timestamp",
    "json",
)

EMPTY_CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {},
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Column:
    """One typed column of a stream."""

    name: str
    type: ColumnType
    nullable: bool = True
    description: str = ""


@dataclass(frozen=True)
class Stream:
    """A named, keyed, typed flow of records: it becomes one table in a sink."""

    name: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"stream {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


@dataclass(frozen=True)
class View:
    """A SQL view a plugin declares; sinks create it after the tables it reads.

    ``sql`` maps a sink dialect (``"postgres"``, ``"sqlite"``) to the ``SELECT`` statement
    (without ``CREATE VIEW``). Tables are named unqualified; the sink sets the schema.
    """

    name: str
    sql: Mapping[str, str]
    depends_on: tuple[str, ...] = ()
    description: str = ""


@dataclass
class Batch:
    """Records of one or more streams, and the watermark to commit with them.

    ``state`` is set by sources only: the source step's new watermark, true once these
    records are committed. ``None`` means "no change of watermark with this batch".
    """

    records: dict[str, list[Record]]
    state: dict[str, Any] | None = None

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.records.values())


@dataclass(frozen=True)
class QuarantinedRecord:
    """A record that failed validation: kept with the reason, never dropped."""

    step: str
    stream: str
    record: Any  # the raw record as JSON-compatible data (non-serialisable values as repr)
    error: str


@dataclass
class StreamCounts:
    """Per-stream figures of a run."""

    extracted: int = 0
    loaded: int = 0
    quarantined: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


RunStatus = Literal["running", "succeeded", "failed", "interrupted"]


@dataclass
class RunRecord:
    """What a run did. Sinks keep one row per run (see the sinks' ``_etl_runs`` table)."""

    run_id: str
    pipeline: str
    started_at: dt.datetime
    status: RunStatus = "running"
    finished_at: dt.datetime | None = None
    counts: dict[str, StreamCounts] = field(default_factory=dict)
    requests: int = 0
    error: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class CommitUnit:
    """Everything a sink commits in one transaction."""

    run: RunRecord
    records: dict[str, list[Record]]
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    state: dict[str, dict[str, Any]] | None = None  # source step name -> new watermark


@dataclass
class UpsertCounts:
    """What a sink did with the records of one stream in one commit unit."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class RunOptions:
    """The options of one ``etl run``."""

    since: dt.date | None = None
    until: dt.date | None = None
    full_refresh: bool = False
    dry_run: bool = False
    select: tuple[str, ...] = ()


@dataclass
class StepContext:
    """What a plugin gets from the engine while a run is under way."""

    pipeline: str
    run_id: str
    step: str
    options: RunOptions
    batch_size: int
    log: logging.Logger
    stop_requested: Callable[[], bool]
    """True once the user asked to stop (Ctrl-C): finish the current batch and return."""
    http_client: Callable[..., HttpClient]
    """Build an :class:`etlcore.http.HttpClient`; its requests count in the run summary."""
    lookup: Callable[[str, Sequence[tuple[Any, ...]], Sequence[str]], dict[tuple[Any, ...], Record]]
    """``lookup(stream, keys, columns)``: rows already in the primary sink, by primary key."""


class Plugin:
    """Base of every step plugin. ``name`` is what a pipeline's ``plugin:`` key names."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    config_schema: ClassVar[Mapping[str, Any]] = EMPTY_CONFIG_SCHEMA
    """JSON Schema (draft 2020-12) of the step's config block, without the engine's keys."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def streams(self) -> Sequence[Stream]:
        """The streams this step emits (sources and transforms), given its config."""
        return ()

    def views(self) -> Sequence[View]:
        """SQL views this step declares for sinks to create."""
        return ()


class Source(Plugin):
    """Extracts batches of records. Must not touch the network before :meth:`extract`."""

    def extract(self, ctx: StepContext, state: Mapping[str, Any] | None) -> Iterator[Batch]:
        """Yield batches of at most ``ctx.batch_size`` records, each with its new watermark.

        ``state`` is the watermark last committed for this step, or ``None`` on a first
        run and with ``--full-refresh``.
        """
        raise NotImplementedError


class Transform(Plugin):
    """Reshapes batches: may change records, drop streams it consumes, or add streams."""

    def transform(self, batch: Batch, ctx: StepContext) -> Batch:
        raise NotImplementedError


class Enricher(Plugin):
    """Fills columns of records from somewhere else. A failure is noted on the record."""

    def enrich(self, batch: Batch, ctx: StepContext) -> Batch:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections and pools at the end of a run."""


class Sink(Plugin):
    """Commits records, quarantine, watermarks and run records, one unit per transaction.

    Lifecycle: ``open`` → ``read_state`` → ``start_run`` → ``write``… → ``finish_run`` →
    ``close``. ``close`` is always called, even after an error.
    """

    dialect: ClassVar[str] = ""
    """The SQL dialect of :class:`View` statements this sink runs (e.g. ``"postgres"``)."""

    def open(self, pipeline: str, streams: Sequence[Stream], views: Sequence[View]) -> None:
        """Connect, take the per-pipeline lock, create or migrate tables and views."""
        raise NotImplementedError

    def read_state(self, pipeline: str) -> dict[str, dict[str, Any]]:
        """Watermarks committed for this pipeline, by source step name."""
        raise NotImplementedError

    def start_run(self, run: RunRecord) -> None:
        """Record that a run has started (its own small transaction)."""
        raise NotImplementedError

    def write(self, unit: CommitUnit) -> dict[str, UpsertCounts]:
        """Upsert records, store quarantined records, the watermark and ``unit.run``: atomically.

        An unchanged row is not rewritten. Raises on failure with nothing of the unit committed.
        """
        raise NotImplementedError

    def finish_run(self, run: RunRecord) -> None:
        """Record the final status, counts and error of a run."""
        raise NotImplementedError

    def lookup(
        self, stream: str, keys: Sequence[tuple[Any, ...]], columns: Sequence[str]
    ) -> dict[tuple[Any, ...], Record]:
        """Rows already stored, by primary-key tuple; keys not stored are absent."""
        return {}

    def recent_runs(self, pipeline: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The last ``limit`` run records, newest first, as plain dicts (``etl runs``).

        Works without :meth:`open` (reads only; no lock, no table creation).
        """
        raise NotImplementedError(f"sink {self.name!r} cannot list runs")

    def quarantined(
        self, pipeline: str | None = None, run_id: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Quarantined records, newest first, as plain dicts (``etl quarantine``).

        Works without :meth:`open` (reads only; no lock, no table creation).
        """
        raise NotImplementedError(f"sink {self.name!r} cannot list quarantined records")

    def close(self) -> None:
        """Release the lock and the connection."""


class SecretNotFound(LookupError):
    """The provider has no secret of that name."""


class SecretAccessDenied(PermissionError):
    """The provider has the secret but may not read it."""


class SecretProvider:
    """Resolves ``${secret:NAME}``. Return the value, or raise :class:`SecretNotFound`."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def get(self, name: str) -> str:
        raise NotImplementedError
