"""The ``sqlite`` sink: the embedded default (a ``nasa.db`` file), same contract as ``postgres``.

WAL mode, one ``BEGIN IMMEDIATE`` transaction per commit unit (rows, quarantine, watermark,
run record), an upsert whose ``DO UPDATE … WHERE (row) IS NOT (new row)`` guard leaves
unchanged rows untouched, and an exclusive lock file per pipeline so that two runs of one
pipeline serialise (the operating system releases it if the process dies).

Values are stored as SQLite has them: dates and timestamps as ISO-8601 text (timestamps in
UTC), JSON as text, booleans as 0/1; :meth:`SqliteSink.lookup` and :meth:`read_state` give
back the Python types of the contract.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import filelock

from etl_sinks.errors import (
    PipelineLockedError,
    SchemaMismatchError,
    SinkConnectionError,
    SinkDataError,
    SinkError,
)
from etl_sinks.metadata import (
    INTERRUPTED_ERROR,
    QUARANTINE_TABLE,
    RUNS_TABLE,
    STATE_TABLE,
    check_stream_name,
)
from etl_sinks.migration import DialectHints, ExistingColumn, is_not_null, plan_migration
from etl_sinks.rows import (
    clean_text,
    counts_of,
    counts_with,
    dedupe_last_wins,
    dumps_meta,
    dumps_quarantined,
    find_unstorable_value,
    non_finite_number,
)
from etl_sinks.views import view_sql, views_in_order
from etlcore.contract import CommitUnit, Record, RunRecord, Sink, Stream, UpsertCounts, View
from etlcore.secrets import mask_known_secrets

log = logging.getLogger("etl_sinks.sqlite")

DEFAULT_PATH = "nasa.db"
BUSY_TIMEOUT_SECONDS = 60.0
LOOKUP_CHUNK = 500

_dumps_json = functools.partial(
    json.dumps, allow_nan=False, ensure_ascii=False, sort_keys=True, separators=(",", ":")
)


def _timestamp_to_text(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _json_from_text(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# The one place that knows SQLite types: declared type -> (column type, to SQLite, from SQLite).
# The column types keep SQLite's type affinity right (JSON TEXT has TEXT affinity, so a JSON
# scalar such as "1.0" is not turned into a number) and tell the declared types apart.
SQLITE_TYPES: dict[str, tuple[str, Callable[[Any], Any] | None, Callable[[Any], Any] | None]] = {
    "string": ("TEXT", None, None),
    "integer": ("INTEGER", None, None),
    "number": ("REAL", None, float),
    "boolean": ("BOOLEAN", int, bool),
    "date": ("DATE", dt.date.isoformat, dt.date.fromisoformat),
    "timestamp": ("TIMESTAMP", _timestamp_to_text, dt.datetime.fromisoformat),
    "json": ("JSON TEXT", _dumps_json, _json_from_text),
}

SQLITE_HINTS = DialectHints(
    sql_type=lambda column_type: SQLITE_TYPES[column_type][0],
    change_type=lambda table, column, sql_type: (
        "SQLite cannot change a column's type in place: drop the table "
        f"(DROP TABLE {table}) and reload it with `etl run --full-refresh`"
    ),
    drop_not_null=lambda table, column: (
        f"SQLite cannot drop NOT NULL in place: rebuild table {table} without it"
    ),
)


def _q(name: str) -> str:
    """A quoted SQLite identifier."""
    return '"' + name.replace('"', '""') + '"'


class _StreamSql:
    """The statements and value converters of one stream, built once at open()."""

    def __init__(self, stream: Stream, index: int) -> None:
        self.stream = stream
        self.columns = stream.column_names
        self.key = stream.primary_key
        self.to_db = [
            (i, conv)
            for i, c in enumerate(stream.columns)
            if (conv := SQLITE_TYPES[c.type][1]) is not None
        ]
        self.from_db = {c.name: SQLITE_TYPES[c.type][2] for c in stream.columns}
        table, stage = _q(stream.name), f"temp.{_q(f'_etl_stage_{index}')}"
        cols = ", ".join(map(_q, self.columns))
        self.create_stage = (
            f"CREATE TEMP TABLE IF NOT EXISTS {_q(f'_etl_stage_{index}')} ("
            + ", ".join(f"{_q(c.name)} {SQLITE_TYPES[c.type][0]}" for c in stream.columns)
            + ")"
        )
        self.drop_stage = f"DROP TABLE IF EXISTS {stage}"
        self.stage_insert = (
            f"INSERT INTO {stage} ({cols}) VALUES ({', '.join('?' for _ in self.columns)})"
        )
        self.clear_stage = f"DELETE FROM {stage}"
        match = " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in self.key)
        self.count_new = (
            f"SELECT count(*) FROM {stage} s WHERE NOT EXISTS "
            f"(SELECT 1 FROM main.{table} t WHERE {match})"
        )
        others = [c for c in self.columns if c not in self.key]
        if others:
            sets = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in others)
            old = ", ".join(_q(c) for c in others)
            new = ", ".join(f"excluded.{_q(c)}" for c in others)
            conflict = f"DO UPDATE SET {sets} WHERE ({old}) IS NOT ({new})"
        else:
            conflict = "DO NOTHING"
        # "WHERE true" is how SQLite tells an upsert's SELECT from a join's ON clause.
        self.upsert = (
            f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM {stage} WHERE true "
            f"ON CONFLICT ({', '.join(map(_q, self.key))}) {conflict}"
        )

    def row(self, record: Record) -> list[Any]:
        values = list(map(record.get, self.columns))
        for index, convert in self.to_db:
            value = values[index]
            if value is not None:
                values[index] = convert(value)
        return values

    def key_to_db(self, key: Sequence[Any]) -> list[Any]:
        converted = []
        for name, value in zip(self.key, key, strict=True):
            convert = SQLITE_TYPES[self.stream.column(name).type][1]
            converted.append(convert(value) if convert and value is not None else value)
        return converted

    def value_from_db(self, name: str, value: Any) -> Any:
        convert = self.from_db[name]
        return convert(value) if convert is not None and value is not None else value


class SqliteSink(Sink):
    """Loads into a SQLite file: the embedded default when no database is configured."""

    name = "sqlite"
    dialect = "sqlite"
    description = (
        "SQLite file (default nasa.db) in WAL mode: upserts that skip unchanged rows; data, "
        "watermark and run record in one transaction per batch"
    )
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "path": {"type": "string", "minLength": 1, "default": DEFAULT_PATH},
            "lock": {
                "enum": ["wait", "fail"],
                "default": "wait",
                "description": "when another run of the pipeline is in progress: wait, or fail",
            },
            "lock_timeout_seconds": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "with lock: wait, give up after this long (default: no limit)",
            },
        },
    }

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.path = str(config.get("path", DEFAULT_PATH))
        self.lock_mode = config.get("lock", "wait")
        if self.lock_mode not in ("wait", "fail"):
            raise SinkError(f"sqlite sink: lock must be 'wait' or 'fail', not {self.lock_mode!r}")
        timeout = config.get("lock_timeout_seconds")
        self.lock_timeout = float(timeout) if timeout is not None else None
        self._conn: sqlite3.Connection | None = None
        self._lock: filelock.BaseFileLock | None = None
        self._pipeline: str | None = None
        self._streams: dict[str, _StreamSql] = {}
        self._units = 0

    # -- connection, lock ------------------------------------------------------------------

    @property
    def _in_memory(self) -> bool:
        return self.path == ":memory:" or self.path.startswith("file::memory:")

    def _connect(self, *, read_only: bool = False) -> sqlite3.Connection:
        try:
            if read_only:
                conn = sqlite3.connect(
                    f"{Path(self.path).resolve().as_uri()}?mode=ro",
                    uri=True,
                    isolation_level=None,
                    timeout=BUSY_TIMEOUT_SECONDS,
                )
            else:
                conn = sqlite3.connect(
                    self.path,
                    isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE … COMMIT
                    timeout=BUSY_TIMEOUT_SECONDS,
                    check_same_thread=False,
                )
                conn.execute("PRAGMA journal_mode = WAL")
                # NORMAL in WAL mode: a power loss may drop the last commits, but always whole,
                # with their watermarks, so the next run re-pulls them.
                conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise SinkConnectionError(
                f"cannot open SQLite database {self.path!r}: {exc} (does its folder exist and "
                "is it writable?)"
            ) from None
        return conn

    def _take_lock(self, pipeline: str) -> None:
        if self._in_memory:
            return  # a private in-memory database cannot be shared by two runs
        lock_path = f"{self.path}.{pipeline}.lock"
        timeout = 0 if self.lock_mode == "fail" else (self.lock_timeout or -1)
        lock = filelock.FileLock(lock_path, thread_local=False)
        busy = f"another run of pipeline {pipeline!r} is in progress on {self.path!r}"
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            if timeout == 0:
                raise PipelineLockedError(
                    f"{busy} (lock file {lock_path}); wait for it to finish, or set lock: wait"
                ) from None
            log.info("%s; waiting for it to finish", busy)
            try:
                lock.acquire(timeout=timeout)
            except filelock.Timeout:
                raise PipelineLockedError(
                    f"{busy}, still after waiting {timeout:g} s; try again later or raise "
                    "lock_timeout_seconds"
                ) from None
        self._lock = lock

    @contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Cursor]:
        conn = self._conn
        if conn is None:
            raise SinkError(f"the sqlite sink is not open ({what}); call open() first")
        cur = conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise SinkError(f"SQLite {self.path!r}: cannot start {what}: {exc}") from None
        try:
            yield cur
        except sqlite3.Error as exc:
            conn.rollback()
            raise SinkError(
                f"SQLite {self.path!r}: {what} failed, nothing of it was committed: {exc}"
            ) from None
        except BaseException:
            conn.rollback()
            raise
        try:
            cur.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.rollback()
            raise SinkError(f"SQLite {self.path!r}: {what} could not commit: {exc}") from None

    # -- open: tables, views ---------------------------------------------------------------

    def open(self, pipeline: str, streams: Sequence[Stream], views: Sequence[View]) -> None:
        self._pipeline = pipeline
        for stream in streams:
            check_stream_name(stream.name)
            if not stream.primary_key:
                raise SchemaMismatchError(
                    f"stream {stream.name!r} declares no primary key; the sinks upsert by key"
                )
        if not self._in_memory:
            try:  # like the database file itself, its folder is created on first use
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SinkConnectionError(
                    f"cannot open SQLite database {self.path!r}: cannot create its folder: "
                    f"{exc.strerror}"
                ) from None
        self._take_lock(pipeline)
        try:
            self._conn = self._connect()
            with self._transaction("creating tables") as cur:
                self._create_metadata_tables(cur)
                for stream in streams:
                    self._create_or_migrate(cur, stream)
                self._create_views(cur, views)
            self._streams = {}
            for index, stream in enumerate(streams):
                stream_sql = _StreamSql(stream, index)
                self._conn.execute(stream_sql.drop_stage)
                self._conn.execute(stream_sql.create_stage)
                self._streams[stream.name] = stream_sql
        except sqlite3.Error as exc:
            self.close()
            raise SinkError(f"SQLite {self.path!r}: preparing tables: {exc}") from None
        except BaseException:
            self.close()
            raise

    def _create_metadata_tables(self, cur: sqlite3.Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (pipeline TEXT NOT NULL, "
            "step TEXT NOT NULL, state JSON TEXT NOT NULL, run_id TEXT, "
            "updated_at TIMESTAMP NOT NULL, PRIMARY KEY (pipeline, step))"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (run_id TEXT NOT NULL PRIMARY KEY, "
            "pipeline TEXT NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, "
            "status TEXT NOT NULL, counts JSON TEXT NOT NULL DEFAULT '{}', "
            "requests INTEGER NOT NULL DEFAULT 0, error TEXT, "
            "options JSON TEXT NOT NULL DEFAULT '{}', units INTEGER NOT NULL DEFAULT 0)"
        )
        cur.execute(
            f"CREATE INDEX IF NOT EXISTS {RUNS_TABLE}_pipeline_idx "
            f"ON {RUNS_TABLE} (pipeline, started_at DESC)"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} ("
            "id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, "
            "pipeline TEXT NOT NULL, step TEXT NOT NULL, stream TEXT NOT NULL, "
            "record JSON TEXT NOT NULL, error TEXT NOT NULL, created_at TIMESTAMP NOT NULL)"
        )
        cur.execute(
            f"CREATE INDEX IF NOT EXISTS {QUARANTINE_TABLE}_pipeline_idx "
            f"ON {QUARANTINE_TABLE} (pipeline, run_id)"
        )

    def _create_or_migrate(self, cur: sqlite3.Cursor, stream: Stream) -> None:
        kind = cur.execute(
            "SELECT type FROM sqlite_schema WHERE name = ? AND type IN ('table', 'view')",
            (stream.name,),
        ).fetchone()
        if kind is None:
            columns = [
                f"{_q(c.name)} {SQLITE_TYPES[c.type][0]}"
                + (" NOT NULL" if is_not_null(stream, c) else "")
                for c in stream.columns
            ]
            key = ", ".join(map(_q, stream.primary_key))
            cur.execute(
                f"CREATE TABLE {_q(stream.name)} ({', '.join(columns)}, PRIMARY KEY ({key}))"
            )
            log.info("created table %s in %s", stream.name, self.path)
            return
        if kind[0] == "view":
            raise SchemaMismatchError(
                f"{stream.name!r} in {self.path!r} is a view, but stream {stream.name!r} needs a "
                "table of that name: drop the view or rename the stream"
            )
        existing: dict[str, ExistingColumn] = {}
        key_positions: list[tuple[int, str]] = []
        for _cid, name, sql_type, not_null, _default, pk in cur.execute(
            f"PRAGMA main.table_info({_q(stream.name)})"
        ).fetchall():
            existing[name] = ExistingColumn(name, sql_type, bool(not_null))
            if pk:
                key_positions.append((pk, name))
        key_columns = [name for _, name in sorted(key_positions)]
        plan = plan_migration(stream.name, stream, existing, key_columns, SQLITE_HINTS)
        if plan.drop_not_null:
            raise SchemaMismatchError(
                f"columns {plan.drop_not_null} of table {stream.name} are NOT NULL but stream "
                f"{stream.name!r} declares them nullable: SQLite cannot relax NOT NULL in "
                f"place; rebuild the table (DROP TABLE {stream.name}, then "
                "`etl run --full-refresh`)"
            )
        for column in plan.add:
            cur.execute(
                f"ALTER TABLE {_q(stream.name)} ADD COLUMN {_q(column.name)} "
                f"{SQLITE_TYPES[column.type][0]}"
            )
            log.info("added column %s to table %s", column.name, stream.name)

    def _create_views(self, cur: sqlite3.Cursor, views: Sequence[View]) -> None:
        # SQLite has no CREATE OR REPLACE VIEW; inside the transaction, drop-and-create is
        # atomic for readers.
        ordered = views_in_order(views)
        statements = [(view, view_sql(view, self.dialect)) for view in ordered]
        for view in reversed(ordered):
            cur.execute(f"DROP VIEW IF EXISTS {_q(view.name)}")
        for view, select in statements:
            try:
                cur.execute(f"CREATE VIEW {_q(view.name)} AS {select}")
                cur.execute(f"SELECT * FROM {_q(view.name)} LIMIT 0")  # fails on a bad column
            except sqlite3.Error as exc:
                raise SchemaMismatchError(
                    f"view {view.name!r} cannot be created in {self.path!r}: {exc}; check the "
                    "view's sqlite SQL"
                ) from None

    # -- runs, state -----------------------------------------------------------------------

    def read_state(self, pipeline: str) -> dict[str, dict[str, Any]]:
        if self._conn is None:
            raise SinkError("the sqlite sink is not open (read_state); call open() first")
        rows = self._conn.execute(
            f"SELECT step, state FROM {STATE_TABLE} WHERE pipeline = ?", (pipeline,)
        ).fetchall()
        return {step: json.loads(state) for step, state in rows}

    def _upsert_run(
        self, cur: sqlite3.Cursor, run: RunRecord, counts: Mapping[str, Any], units: int
    ) -> None:
        cur.execute(
            f"INSERT INTO {RUNS_TABLE} (run_id, pipeline, started_at, finished_at, status, "
            "counts, requests, error, options, units) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id) DO UPDATE SET finished_at = excluded.finished_at, "
            "status = excluded.status, counts = excluded.counts, requests = excluded.requests, "
            "error = excluded.error, options = excluded.options, "
            "units = max(units, excluded.units)",
            (
                run.run_id,
                run.pipeline,
                _timestamp_to_text(run.started_at),
                _timestamp_to_text(run.finished_at) if run.finished_at else None,
                run.status,
                dumps_meta(counts),
                run.requests,
                clean_text(mask_known_secrets(run.error)) if run.error else None,
                dumps_meta(run.options),
                units,
            ),
        )

    def start_run(self, run: RunRecord) -> None:
        with self._transaction("start_run") as cur:
            # This process holds the pipeline's lock: any other run still marked running
            # died without saying so.
            cur.execute(
                f"UPDATE {RUNS_TABLE} SET status = 'interrupted', error = ? "
                "WHERE pipeline = ? AND status = 'running' AND run_id <> ?",
                (INTERRUPTED_ERROR, run.pipeline, run.run_id),
            )
            self._upsert_run(cur, run, counts_of(run), 0)

    def finish_run(self, run: RunRecord) -> None:
        with self._transaction("finish_run") as cur:
            self._upsert_run(cur, run, counts_of(run), self._units)

    # -- write -----------------------------------------------------------------------------

    def write(self, unit: CommitUnit) -> dict[str, UpsertCounts]:
        prepared: list[tuple[_StreamSql, list[Record], int]] = []
        for name, records in unit.records.items():
            if not records:
                continue
            stream_sql = self._streams.get(name)
            if stream_sql is None:
                raise SinkError(
                    f"stream {name!r} was not declared when the sink was opened "
                    f"(declared: {', '.join(sorted(self._streams)) or 'none'})"
                )
            problem = non_finite_number(stream_sql.stream, records)
            if problem:
                raise SinkDataError(problem)
            prepared.append(
                (stream_sql, dedupe_last_wins(records, stream_sql.stream.primary_key), len(records))
            )
        seq = self._units + 1
        counts: dict[str, UpsertCounts] = {}
        with self._transaction("write") as cur:
            for stream_sql, unique, received in prepared:
                counts[stream_sql.stream.name] = self._upsert(cur, stream_sql, unique, received)
            if unit.quarantined:
                now = _timestamp_to_text(dt.datetime.now(dt.UTC))
                cur.executemany(
                    f"INSERT INTO {QUARANTINE_TABLE} (run_id, pipeline, step, stream, record, "
                    "error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            unit.run.run_id,
                            unit.run.pipeline,
                            clean_text(q.step),
                            clean_text(q.stream),
                            dumps_quarantined(q.record),
                            clean_text(mask_known_secrets(q.error)),
                            now,
                        )
                        for q in unit.quarantined
                    ],
                )
            for step, state in (unit.state or {}).items():
                cur.execute(
                    f"INSERT INTO {STATE_TABLE} (pipeline, step, state, run_id, updated_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (pipeline, step) DO UPDATE SET "
                    "state = excluded.state, run_id = excluded.run_id, "
                    "updated_at = excluded.updated_at",
                    (
                        unit.run.pipeline,
                        step,
                        dumps_meta(state),
                        unit.run.run_id,
                        _timestamp_to_text(dt.datetime.now(dt.UTC)),
                    ),
                )
            self._upsert_run(cur, unit.run, counts_with(unit.run, counts), seq)
        self._units = seq
        return counts

    def _upsert(
        self, cur: sqlite3.Cursor, stream_sql: _StreamSql, unique: list[Record], received: int
    ) -> UpsertCounts:
        try:
            cur.executemany(stream_sql.stage_insert, map(stream_sql.row, unique))
        except (UnicodeEncodeError, ValueError, TypeError, OverflowError) as exc:
            problem = find_unstorable_value(stream_sql.stream, unique)
            raise SinkDataError(
                problem or f"stream {stream_sql.stream.name!r}: a value cannot be stored: {exc}"
            ) from None
        inserted = cur.execute(stream_sql.count_new).fetchone()[0]
        cur.execute(stream_sql.upsert)
        changed = cur.execute("SELECT changes()").fetchone()[0]
        cur.execute(stream_sql.clear_stage)
        updated = changed - inserted
        return UpsertCounts(inserted, updated, received - inserted - updated)

    # -- reading ---------------------------------------------------------------------------

    def lookup(
        self, stream: str, keys: Sequence[tuple[Any, ...]], columns: Sequence[str]
    ) -> dict[tuple[Any, ...], Record]:
        stream_sql = self._streams.get(stream)
        if stream_sql is None or self._conn is None:
            raise SinkError(f"lookup: stream {stream!r} was not declared when the sink was opened")
        definition = stream_sql.stream
        wanted = list(columns) or list(definition.column_names)
        for name in wanted:
            definition.column(name)  # KeyError names an unknown column
        key = definition.primary_key
        select = [*key, *[c for c in wanted if c not in key]]
        found: dict[tuple[Any, ...], Record] = {}
        unique_keys = list(dict.fromkeys(tuple(k) for k in keys))
        placeholder = "(" + ", ".join("?" for _ in key) + ")"
        for start in range(0, len(unique_keys), LOOKUP_CHUNK):
            chunk = unique_keys[start : start + LOOKUP_CHUNK]
            params = [value for k in chunk for value in stream_sql.key_to_db(k)]
            query = (
                f"SELECT {', '.join(map(_q, select))} FROM main.{_q(stream)} "
                f"WHERE ({', '.join(map(_q, key))}) IN "
                f"(VALUES {', '.join(placeholder for _ in chunk)})"
            )
            for row in self._conn.execute(query, params):
                values = {
                    name: stream_sql.value_from_db(name, value)
                    for name, value in zip(select, row, strict=True)
                }
                found[tuple(values[k] for k in key)] = {name: values[name] for name in wanted}
        return found

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection | None]:
        """The open connection, or a read-only one (``None`` if the file does not exist)."""
        if self._conn is not None:
            yield self._conn
            return
        if self._in_memory or not Path(self.path).exists():
            yield None
            return
        conn = self._connect(read_only=True)
        try:
            yield conn
        finally:
            conn.close()

    @staticmethod
    def _has_table(conn: sqlite3.Connection, table: str) -> bool:
        row = conn.execute(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        return row is not None

    def recent_runs(self, pipeline: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The last ``limit`` runs (of ``pipeline``, or of all), newest first, as plain dicts."""
        with self._reader() as conn:
            if conn is None or not self._has_table(conn, RUNS_TABLE):
                return []
            cur = conn.execute(
                "SELECT run_id, pipeline, started_at, finished_at, status, counts, requests, "
                f"error, options, units FROM {RUNS_TABLE} WHERE (? IS NULL OR pipeline = ?) "
                "ORDER BY started_at DESC, run_id DESC LIMIT ?",
                (pipeline, pipeline, limit),
            )
            names = [d[0] for d in cur.description]
            runs = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        for run in runs:
            for name in ("started_at", "finished_at"):
                if run[name] is not None:
                    run[name] = dt.datetime.fromisoformat(run[name])
            run["counts"] = json.loads(run["counts"])
            run["options"] = json.loads(run["options"])
        return runs

    def quarantined(
        self, pipeline: str | None = None, run_id: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Quarantined records, newest first, as plain dicts (``record`` parsed from JSON)."""
        with self._reader() as conn:
            if conn is None or not self._has_table(conn, QUARANTINE_TABLE):
                return []
            cur = conn.execute(
                "SELECT id, run_id, pipeline, step, stream, record, error, created_at "
                f"FROM {QUARANTINE_TABLE} WHERE (? IS NULL OR pipeline = ?) "
                "AND (? IS NULL OR run_id = ?) ORDER BY id DESC LIMIT ?",
                (pipeline, pipeline, run_id, run_id, limit),
            )
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        for row in rows:
            row["record"] = json.loads(row["record"])
            row["created_at"] = dt.datetime.fromisoformat(row["created_at"])
        return rows

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release(force=True)
