"""The ``postgres`` sink: COPY into a temporary staging table, then an idempotent merge.

Per commit unit, in one transaction: fetch the stored fingerprints (``_etl_hash``) of each
stream's de-duplicated keys and drop the records whose fingerprint matches (unchanged: never
sent); COPY records with new keys straight into the target; COPY the rest into a
``TEMP … ON COMMIT DROP`` table and ``INSERT … ON CONFLICT (key) DO UPDATE … WHERE (row) IS
DISTINCT FROM (new row)`` into the target, so an unchanged row is never rewritten (its xmin
stays); then the quarantined records, the watermark and the run record. A session-level
advisory lock per (schema, pipeline) keeps two runs of one pipeline from interleaving.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, ClassVar, TypeVar

import orjson
import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import set_json_dumps

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
from etl_sinks.postgres_connection import PostgresSettings
from etl_sinks.rows import (
    clean_text,
    counts_of,
    counts_with,
    dedupe_last_wins,
    dumps_meta,
    dumps_quarantined,
    find_unstorable_value,
    non_finite_number,
    row_getter,
)
from etl_sinks.views import view_sql, views_in_order
from etlcore.contract import (
    CommitUnit,
    Record,
    RunRecord,
    Sink,
    Stream,
    UpsertCounts,
    View,
)
from etlcore.secrets import mask_known_secrets

log = logging.getLogger("etl_sinks.postgres")

T = TypeVar("T")

# The one place that knows PostgreSQL types:
# declared type -> (DDL type as format_type() prints it, binary COPY type).
PG_TYPES: dict[str, tuple[str, str]] = {
    "string": ("text", "text"),
    "integer": ("bigint", "int8"),
    "number": ("double precision", "float8"),
    "boolean": ("boolean", "bool"),
    "date": ("date", "date"),
    "timestamp": ("timestamp with time zone", "timestamptz"),
    "json": ("jsonb", "jsonb"),
}

LOOKUP_CHUNK = 5000
# The hidden per-row fingerprint (see _fingerprints): a row whose stored hash equals the hash of
# the incoming values is known unchanged without being sent to the server.
HASH_COLUMN = "_etl_hash"
RECONNECT_BACKOFF_SECONDS = (0.5, 2.0, 5.0, 10.0, 20.0)

# jsonb refuses NaN, and Python's json would write it: refuse it client-side, with a reason.
# One encoder for all: json.dumps with non-default options builds a new encoder per call.
_stdlib_json_dumps = json.JSONEncoder(
    allow_nan=False, ensure_ascii=False, separators=(",", ":")
).encode


def _jsonb_dumps(value: Any) -> str | bytes:
    """JSON for a jsonb column: orjson (JSON encoding is most of the client's work in a load),
    with the standard library's strict rules wherever orjson would differ."""
    try:
        text = orjson.dumps(value)
    except TypeError:  # integers beyond 64 bits, lone surrogates, non-str keys
        return _stdlib_json_dumps(value)
    if b"null" in text:
        _stdlib_json_dumps(value)  # orjson writes NaN/inf as null: raise rather than change it
    return text


def _fingerprints(records: Sequence[Record]) -> list[int | None]:
    """Each record's fingerprint: the first 8 bytes of SHA-256 over orjson's encoding of the
    record, as a signed bigint (SHA-256 rather than BLAKE2b: CPUs with SHA extensions make it
    about a quarter faster on rows of this size). It is taken from the record rather than the
    row so that an unchanged record costs no row building at all.

    Equal records always have equal fingerprints, and so equal stored rows. The converse need
    not hold (another key order, another UTC offset for the same instant, a key the stream does
    not declare): such a record only costs a comparison in the database. ``None`` where orjson
    cannot encode a value (integers beyond 64 bits, non-string JSON keys): the database compares
    those. One blind spot: orjson writes NaN inside a json value as null, so such a record that
    matches a stored null is counted unchanged rather than refused (the engine quarantines it
    before it reaches a sink)."""
    dumps = orjson.dumps
    sha256 = hashlib.sha256
    from_bytes = int.from_bytes
    out: list[int | None] = []
    append = out.append
    for record in records:
        try:
            digest = sha256(dumps(record)).digest()[:8]
        except TypeError:
            append(None)
            continue
        append(from_bytes(digest, "big", signed=True))
    return out


PG_HINTS = DialectHints(
    sql_type=lambda column_type: PG_TYPES[column_type][0],
    change_type=lambda table, column, sql_type: (
        f"convert it (ALTER TABLE {table} ALTER COLUMN {column} TYPE {sql_type} "
        f"USING {column}::{sql_type}), or drop the table and reload it with "
        "`etl run --full-refresh`"
    ),
    drop_not_null=lambda table, column: (
        f"make it nullable (ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL)"
    ),
)


def _advisory_key(*parts: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``parts`` (the same in every process)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _StreamSql:
    """The statements of one stream, built once at open()."""

    def __init__(self, schema: str, stream: Stream, index: int) -> None:
        self.stream = stream
        self.columns = stream.column_names
        self.copy_types = [PG_TYPES[c.type][1] for c in stream.columns] + ["int8"]
        self.row = row_getter(self.columns)
        # a record's key: the value (one key column) or the tuple of values, as fetched back
        self.key_of: Callable[[Record], Any] = itemgetter(*stream.primary_key)
        table = sql.Identifier(schema, stream.name)
        stage = sql.Identifier(f"_etl_stage_{index}")
        cols = sql.SQL(", ").join(map(sql.Identifier, [*self.columns, HASH_COLUMN]))
        key = sql.SQL(", ").join(map(sql.Identifier, stream.primary_key))
        self.create_stage = sql.SQL("CREATE TEMP TABLE {} ({}, {} bigint) ON COMMIT DROP").format(
            stage,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(PG_TYPES[c.type][0]))
                for c in stream.columns
            ),
            sql.Identifier(HASH_COLUMN),
        )
        self.copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(stage, cols)
        # New keys skip the staging table: COPY straight into the target.
        self.copy_direct = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(table, cols)
        key_types = [PG_TYPES[stream.column(k).type][0] for k in stream.primary_key]
        # One query per batch for the stored fingerprints of its keys (an index probe each).
        where = (
            "{key} = ANY({arr})"
            if len(key_types) == 1
            else ("({key}) IN (SELECT * FROM unnest({arr}))")
        )
        self.fetch_hashes = sql.SQL("SELECT {key}, {h} FROM {table} WHERE " + where).format(
            key=key,
            h=sql.Identifier(HASH_COLUMN),
            table=table,
            arr=sql.SQL(", ").join(sql.SQL("%b::" + t + "[]") for t in key_types),
        )
        self.key_count = len(key_types)
        # True while the batches of this stream hold only new keys (a first load): the next one
        # then skips the fingerprint query and is COPYed straight in (see PostgresSink._upsert).
        self.expect_new = False
        others = [c for c in self.columns if c not in stream.primary_key]
        conflict: sql.Composable
        if others:
            target = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in others)
            new = sql.SQL(", ").join(
                sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in others
            )
            sets = sql.SQL(", ").join(
                sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
                for c in [*others, HASH_COLUMN]
            )
            # ROW(...) keeps a one-column comparison a row comparison too.
            conflict = sql.SQL("DO UPDATE SET {} WHERE ROW({}) IS DISTINCT FROM ROW({})").format(
                sets, target, new
            )
        else:
            conflict = sql.SQL("DO NOTHING")
        # ON CONFLICT DO UPDATE locks the conflicting row even when its WHERE guard is false,
        # and a lock writes the row's header (a dirty page, WAL). Rows identical to the stored
        # ones leave the staging table first, so a re-run of unchanged data writes nothing.
        same = [sql.SQL("t.{0} = s.{0}").format(sql.Identifier(k)) for k in stream.primary_key]
        if others:
            same.append(
                sql.SQL("ROW({}) IS NOT DISTINCT FROM ROW({})").format(
                    target,
                    sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in others),
                )
            )
        self.drop_unchanged = sql.SQL("DELETE FROM {stage} s USING {table} t WHERE {same}").format(
            stage=stage, table=table, same=sql.SQL(" AND ").join(same)
        )
        # xmax = 0 on a returned row means it was inserted, not updated; rows the WHERE guard
        # skipped are not returned at all: they are the unchanged ones.
        self.upsert = sql.SQL(
            "WITH upserted AS (INSERT INTO {table} AS t ({cols}) SELECT {cols} FROM {stage} "
            "ON CONFLICT ({key}) {conflict} RETURNING (xmax = 0) AS inserted) "
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
            "FROM upserted"
        ).format(table=table, cols=cols, stage=stage, key=key, conflict=conflict)


class PostgresSink(Sink):
    """Loads into PostgreSQL (e.g. RDS) with COPY and an idempotent merge."""

    name = "postgres"
    dialect = "postgres"
    description = (
        "PostgreSQL (RDS): COPY into a staging table, then INSERT … ON CONFLICT DO UPDATE that "
        "skips unchanged rows; data, watermark and run record in one transaction per batch"
    )
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "url": {
                "type": "string",
                "description": "a DATABASE_URL (postgresql://user:password@host:5432/dbname); "
                "wins over host/user/password/dbname when set and non-empty",
            },
            "host": {"type": "string"},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 5432},
            "user": {"type": "string"},
            "password": {"type": "string", "description": "use ${secret:…}"},
            "dbname": {"type": "string"},
            "sslmode": {
                "enum": ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
                "description": "default: require for remote hosts, prefer for localhost",
            },
            "schema": {"type": "string", "minLength": 1, "maxLength": 63, "default": "nasa"},
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
            "reconnect_attempts": {
                "type": "integer",
                "minimum": 0,
                "maximum": 10,
                "default": 3,
                "description": "reconnects (with backoff) after a lost connection",
            },
            "verify_unchanged": {
                "type": "boolean",
                "default": False,
                "description": "compare every incoming row with the stored one in the database "
                "instead of trusting the stored fingerprint (restores rows edited by hand; "
                "slower re-runs). `etl run --full-refresh` does the same for one run",
            },
        },
    }

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.settings = PostgresSettings.from_config(config)
        self.schema = self.settings.schema
        self.verify_unchanged = bool(config.get("verify_unchanged", False))
        self._conn: psycopg.Connection[Any] | None = None
        self._pipeline: str | None = None
        self._streams: dict[str, _StreamSql] = {}
        self._units = 0
        self._opened = False
        self._pending: tuple[int, dict[str, UpsertCounts]] | None = None

    # -- connection, lock ------------------------------------------------------------------

    @property
    def backend_pid(self) -> int | None:
        """The server process of the open connection (what ``pg_terminate_backend`` takes)."""
        return self._conn.info.backend_pid if self._conn and not self._conn.closed else None

    def _connect(self) -> psycopg.Connection[Any]:
        name = f"etl:{self._pipeline}" if self._pipeline else "etl"
        try:
            conn = psycopg.connect(autocommit=True, **self.settings.connect_kwargs(name))
        except psycopg.Error as exc:
            raise SinkConnectionError(
                self.settings.redact(
                    f"cannot connect to PostgreSQL at {self.settings.where}: {exc}".strip()
                )
            ) from None
        try:
            conn.execute("SET TIME ZONE 'UTC'")
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
            set_json_dumps(_jsonb_dumps, context=conn)
        except psycopg.Error as exc:
            conn.close()
            raise SinkConnectionError(self.settings.redact(f"PostgreSQL setup: {exc}")) from None
        return conn

    def _lock_key(self) -> int:
        return _advisory_key("etl-pipeline", self.schema, self._pipeline or "")

    def _lock_holder(self, conn: psycopg.Connection[Any]) -> str:
        unsigned = self._lock_key() & 0xFFFFFFFFFFFFFFFF
        row = conn.execute(
            "SELECT a.pid, a.application_name, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid AND l.objsubid = 1",
            (unsigned >> 32, unsigned & 0xFFFFFFFF),
        ).fetchone()
        if row is None:
            return ""
        pid, app, since = row
        return f" (server process {pid}, {app or 'unnamed client'}, connected since {since:%c} UTC)"

    def _take_lock(self, conn: psycopg.Connection[Any], *, waiting_allowed: bool) -> None:
        key = self._lock_key()
        if conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone() == (True,):
            return
        busy = (
            f"another run of pipeline {self._pipeline!r} is in progress on schema "
            f"{self.schema!r}{self._lock_holder(conn)}"
        )
        if not waiting_allowed or self.settings.lock == "fail":
            raise PipelineLockedError(f"{busy}; wait for it to finish, or set lock: wait")
        timeout = self.settings.lock_timeout_seconds
        log.info("%s; waiting for it to finish", busy)
        try:
            if timeout is not None:
                conn.execute(sql.SQL("SET lock_timeout = {}").format(int(timeout * 1000)))
            conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        except psycopg.errors.LockNotAvailable:
            raise PipelineLockedError(
                f"{busy}, still after waiting {timeout:g} s; try again later or raise "
                "lock_timeout_seconds"
            ) from None
        finally:
            if timeout is not None and not conn.closed:
                conn.execute("RESET lock_timeout")

    def _reconnect(self, delay: float) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        time.sleep(delay)
        conn = self._connect()
        try:
            # The old session's lock died with it. Someone else may have taken the pipeline over
            # meanwhile: then this run stops rather than interleave with it.
            self._take_lock(conn, waiting_allowed=False)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        log.warning("reconnected to PostgreSQL and took the lock of pipeline %r", self._pipeline)

    def _is_lost(self, exc: BaseException) -> bool:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            return True
        return isinstance(
            exc,
            psycopg.errors.AdminShutdown
            | psycopg.errors.CrashShutdown
            | psycopg.errors.CannotConnectNow,
        )

    def _retrying(
        self,
        what: str,
        action: Callable[[psycopg.Connection[Any]], T],
        *,
        committed: Callable[[psycopg.Connection[Any]], T | None] | None = None,
    ) -> T:
        """Run ``action`` on the connection; after a lost connection, reconnect with backoff
        (taking the lock again) and run it again. ``committed`` tells, after a reconnect,
        whether the lost attempt had in fact committed (the connection can drop during COMMIT)
        and returns its result then."""
        attempts = self.settings.reconnect_attempts
        if what == "finish_run":  # the end of a run is worth one reconnect whatever the setting
            attempts = max(attempts, 1)
        attempt = 0
        while True:
            if self._conn is None:
                if not self._opened:
                    raise SinkError(f"the postgres sink is not open ({what}); call open() first")
                # an earlier failure left no connection: get one, and the lock, first
                self._reconnect(delay=0.0)
            conn = self._conn
            assert conn is not None  # _reconnect sets it or raises
            try:
                return action(conn)
            except psycopg.Error as exc:
                if not self._is_lost(exc):
                    raise SinkError(
                        f"PostgreSQL refused {what}: "
                        + clean_text(self.settings.redact(str(exc).strip()))
                    ) from None
                reason = " ".join(self.settings.redact(str(exc) or type(exc).__name__).split())
                if attempt >= attempts:
                    raise SinkConnectionError(
                        f"lost the connection to PostgreSQL at {self.settings.where} during "
                        f"{what} ({reason}) and gave up after {attempts} reconnect attempt(s); "
                        "the batch in flight was rolled back, so the next run resumes from the "
                        "last committed watermark"
                    ) from None
                log.warning(
                    "lost the connection to PostgreSQL during %s (%s); reconnecting (%d/%d)",
                    what,
                    reason,
                    attempt + 1,
                    attempts,
                )
                try:
                    self._reconnect(
                        RECONNECT_BACKOFF_SECONDS[min(attempt, len(RECONNECT_BACKOFF_SECONDS) - 1)]
                    )
                except SinkConnectionError as failure:
                    if attempt + 1 >= attempts:
                        raise SinkConnectionError(
                            f"lost the connection to PostgreSQL during {what} and could not "
                            f"reconnect: {failure}; the batch in flight was rolled back"
                        ) from None
                    attempt += 1
                    continue
                attempt += 1
                if committed is not None and self._conn is not None:
                    done = committed(self._conn)
                    if done is not None:
                        return done

    # -- open: schema, tables, views --------------------------------------------------------

    def open(self, pipeline: str, streams: Sequence[Stream], views: Sequence[View]) -> None:
        self._pipeline = pipeline
        for stream in streams:
            check_stream_name(stream.name)
            if HASH_COLUMN in stream.column_names:
                raise SchemaMismatchError(
                    f"stream {stream.name!r} declares a column {HASH_COLUMN!r}, a name the "
                    "postgres sink keeps for its row fingerprints; rename the column"
                )
        self._conn = self._connect()
        try:
            self._take_lock(self._conn, waiting_allowed=True)
            self._prepare_database(self._conn, streams, views)
        except psycopg.Error as exc:
            self.close()
            message = f"preparing schema {self.schema!r}: {exc}"
            raise SinkError(self.settings.redact(message)) from None
        except BaseException:
            self.close()
            raise
        self._streams = {
            stream.name: _StreamSql(self.schema, stream, index)
            for index, stream in enumerate(streams)
        }
        self._opened = True

    def _prepare_database(
        self, conn: psycopg.Connection[Any], streams: Sequence[Stream], views: Sequence[View]
    ) -> None:
        with conn.transaction():
            # Runs of *different* pipelines may share the schema: serialise their DDL.
            ddl_key = _advisory_key("etl-ddl", self.schema)
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (ddl_key,))
            exists = conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
            ).fetchone()
            if not exists:  # IF NOT EXISTS alone would need CREATE on the database every run
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
            tables = self._describe_tables(conn)
            self._create_metadata_tables(conn, tables)
            for stream in streams:
                if stream.name in tables:
                    self._migrate_table(conn, stream, *tables[stream.name])
                else:
                    self._create_table(conn, stream)
            self._create_views(conn, views)

    def _describe_tables(
        self, conn: psycopg.Connection[Any]
    ) -> dict[str, tuple[dict[str, ExistingColumn], tuple[str, ...]]]:
        tables: dict[str, tuple[dict[str, ExistingColumn], tuple[str, ...]]] = {}
        for table, column, sql_type, not_null in conn.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
            (self.schema,),
        ):
            tables.setdefault(table, ({}, ()))[0][column] = ExistingColumn(
                column, sql_type, not_null
            )
        for table, key in conn.execute(
            "SELECT c.relname, array_agg(a.attname ORDER BY k.ord) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
            "WHERE i.indisprimary AND n.nspname = %s GROUP BY c.relname",
            (self.schema,),
        ):
            if table in tables:
                tables[table] = (tables[table][0], tuple(key))
        return tables

    def _qualified(self, table: str) -> sql.Composable:
        return sql.Identifier(self.schema, table)

    def _label(self, table: str) -> str:
        return f"{self.schema}.{table}"

    def _create_metadata_tables(
        self, conn: psycopg.Connection[Any], tables: Mapping[str, Any]
    ) -> None:
        statements = {
            STATE_TABLE: [
                "CREATE TABLE {t} (pipeline text NOT NULL, step text NOT NULL, "
                "state jsonb NOT NULL, run_id text, "
                "updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (pipeline, step))"
            ],
            RUNS_TABLE: [
                "CREATE TABLE {t} (run_id text PRIMARY KEY, pipeline text NOT NULL, "
                "started_at timestamptz NOT NULL, finished_at timestamptz, status text NOT NULL, "
                "counts jsonb NOT NULL DEFAULT '{{}}', requests bigint NOT NULL DEFAULT 0, "
                "error text, options jsonb NOT NULL DEFAULT '{{}}', "
                "units bigint NOT NULL DEFAULT 0)",
                "CREATE INDEX {i} ON {t} (pipeline, started_at DESC)",
            ],
            # record is json, not jsonb: json keeps \u0000 escapes, and a quarantined record
            # may be there precisely because it held a NUL character.
            QUARANTINE_TABLE: [
                "CREATE TABLE {t} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                "run_id text NOT NULL, pipeline text NOT NULL, step text NOT NULL, "
                "stream text NOT NULL, record json NOT NULL, error text NOT NULL, "
                "created_at timestamptz NOT NULL DEFAULT now())",
                "CREATE INDEX {i} ON {t} (pipeline, run_id)",
            ],
        }
        for table, ddl in statements.items():
            if table in tables:
                continue
            for statement in ddl:
                conn.execute(
                    sql.SQL(statement).format(
                        t=self._qualified(table), i=sql.Identifier(f"{table}_pipeline_idx")
                    )
                )

    def _column_ddl(self, stream: Stream) -> list[sql.Composable]:
        return [
            sql.SQL("{} {}{}").format(
                sql.Identifier(column.name),
                sql.SQL(PG_TYPES[column.type][0]),
                sql.SQL(" NOT NULL" if is_not_null(stream, column) else ""),
            )
            for column in stream.columns
        ]

    def _create_table(self, conn: psycopg.Connection[Any], stream: Stream) -> None:
        if not stream.primary_key:
            raise SchemaMismatchError(
                f"stream {stream.name!r} declares no primary key; the sinks upsert by key"
            )
        table = self._qualified(stream.name)
        conn.execute(
            sql.SQL("CREATE TABLE {} ({}, {} bigint, PRIMARY KEY ({}))").format(
                table,
                sql.SQL(", ").join(self._column_ddl(stream)),
                sql.Identifier(HASH_COLUMN),
                sql.SQL(", ").join(map(sql.Identifier, stream.primary_key)),
            )
        )
        if stream.description:
            conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(table, stream.description))
        for column in stream.columns:
            self._comment_column(conn, stream, column.name)
        log.info("created table %s", self._label(stream.name))

    def _comment_column(self, conn: psycopg.Connection[Any], stream: Stream, name: str) -> None:
        column = stream.column(name)
        if column.description:
            conn.execute(
                sql.SQL("COMMENT ON COLUMN {} IS {}").format(
                    sql.Identifier(self.schema, stream.name, name), column.description
                )
            )

    def _migrate_table(
        self,
        conn: psycopg.Connection[Any],
        stream: Stream,
        existing: dict[str, ExistingColumn],
        key: tuple[str, ...],
    ) -> None:
        plan = plan_migration(self._label(stream.name), stream, existing, key, PG_HINTS)
        table = self._qualified(stream.name)
        if HASH_COLUMN not in existing:
            # A table from before the fingerprints: its rows keep a NULL one (compared in the
            # database) until they change.
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN {} bigint").format(
                    table, sql.Identifier(HASH_COLUMN)
                )
            )
            log.info("added column %s to table %s", HASH_COLUMN, self._label(stream.name))
        for column in plan.add:
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                    table, sql.Identifier(column.name), sql.SQL(PG_TYPES[column.type][0])
                )
            )
            self._comment_column(conn, stream, column.name)
            log.info("added column %s to table %s", column.name, self._label(stream.name))
        for name in plan.drop_not_null:
            conn.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL").format(
                    table, sql.Identifier(name)
                )
            )
            log.info("column %s of table %s is now nullable", name, self._label(stream.name))

    def _create_views(self, conn: psycopg.Connection[Any], views: Sequence[View]) -> None:
        ordered = views_in_order(views)
        statements = [
            (
                view,
                sql.SQL("CREATE OR REPLACE VIEW {} AS ").format(self._qualified(view.name))
                + sql.SQL(view_sql(view, self.dialect)),
            )
            for view in ordered
        ]
        try:
            with conn.transaction():
                for _, statement in statements:
                    conn.execute(statement)
            return
        except psycopg.Error as exc:
            # CREATE OR REPLACE cannot drop, rename or retype a view's columns: drop ours
            # (dependents first) and create them afresh.
            log.info("re-creating views (%s)", str(exc).splitlines()[0])
        try:
            with conn.transaction():
                for view in reversed(ordered):
                    conn.execute(
                        sql.SQL("DROP VIEW IF EXISTS {}").format(self._qualified(view.name))
                    )
        except psycopg.errors.DependentObjectsStillExist as exc:
            raise SchemaMismatchError(
                f"cannot re-create the pipeline's views in schema {self.schema!r}: other views "
                f"depend on them ({str(exc).splitlines()[-1]}); drop those views and run again"
            ) from None
        for view, statement in statements:
            try:
                with conn.transaction():
                    conn.execute(statement)
            except psycopg.Error as exc:
                raise SchemaMismatchError(
                    f"view {view.name!r} cannot be created in schema {self.schema!r}: "
                    f"{str(exc).strip()}; check the view's postgres SQL"
                ) from None
            log.info("created view %s", self._label(view.name))

    # -- runs, state ---------------------------------------------------------------------

    def read_state(self, pipeline: str) -> dict[str, dict[str, Any]]:
        query = sql.SQL("SELECT step, state FROM {} WHERE pipeline = %s").format(
            self._qualified(STATE_TABLE)
        )
        rows = self._retrying(
            "read_state", lambda conn: conn.execute(query, (pipeline,)).fetchall()
        )
        return {step: state for step, state in rows}

    def _upsert_run(
        self,
        cur: psycopg.Cursor[Any],
        run: RunRecord,
        counts: Mapping[str, Any],
        units: int,
    ) -> None:
        cur.execute(
            sql.SQL(
                "INSERT INTO {} AS r (run_id, pipeline, started_at, finished_at, status, counts, "
                "requests, error, options, units) "
                "VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s::jsonb, %s) "
                "ON CONFLICT (run_id) DO UPDATE SET finished_at = EXCLUDED.finished_at, "
                "status = EXCLUDED.status, counts = EXCLUDED.counts, "
                "requests = EXCLUDED.requests, error = EXCLUDED.error, "
                "options = EXCLUDED.options, units = GREATEST(r.units, EXCLUDED.units)"
            ).format(self._qualified(RUNS_TABLE)),
            (
                run.run_id,
                run.pipeline,
                run.started_at,
                run.finished_at,
                run.status,
                dumps_meta(counts),
                run.requests,
                clean_text(self.settings.redact(run.error)) if run.error else None,
                dumps_meta(run.options),
                units,
            ),
        )

    def start_run(self, run: RunRecord) -> None:
        def action(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction(), conn.cursor() as cur:
                # This process holds the pipeline's lock: any other run still marked running
                # died without saying so (SIGKILL, lost host).
                cur.execute(
                    sql.SQL(
                        "UPDATE {} SET status = 'interrupted', error = %s "
                        "WHERE pipeline = %s AND status = 'running' AND run_id <> %s"
                    ).format(self._qualified(RUNS_TABLE)),
                    (INTERRUPTED_ERROR, run.pipeline, run.run_id),
                )
                self._upsert_run(cur, run, counts_of(run), 0)

        self._retrying("start_run", action)

    def finish_run(self, run: RunRecord) -> None:
        def action(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction(), conn.cursor() as cur:
                self._upsert_run(cur, run, counts_of(run), self._units)

        self._retrying("finish_run", action)

    # -- write ---------------------------------------------------------------------------

    def write(self, unit: CommitUnit) -> dict[str, UpsertCounts]:
        prepared: list[tuple[_StreamSql, list[int | None], int, list[Record]]] = []
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
            unique = dedupe_last_wins(records, stream_sql.stream.primary_key)
            prepared.append((stream_sql, _fingerprints(unique), len(records), unique))
        seq = self._units + 1
        counts = self._retrying(
            "write",
            lambda conn: self._write_unit(conn, unit, prepared, seq),
            committed=lambda conn: self._committed_counts(conn, unit.run.run_id, seq),
        )
        self._units = seq
        self._pending = None
        return counts

    def _committed_counts(
        self, conn: psycopg.Connection[Any], run_id: str, seq: int
    ) -> dict[str, UpsertCounts] | None:
        if self._pending is None or self._pending[0] != seq:
            return None  # the statements had not all run: the unit cannot have committed
        row = conn.execute(
            sql.SQL("SELECT units FROM {} WHERE run_id = %s").format(self._qualified(RUNS_TABLE)),
            (run_id,),
        ).fetchone()
        if row is not None and row[0] >= seq:
            log.warning("the connection dropped during COMMIT, which had gone through")
            return self._pending[1]
        return None

    def _write_unit(
        self,
        conn: psycopg.Connection[Any],
        unit: CommitUnit,
        prepared: Sequence[tuple[_StreamSql, list[int | None], int, list[Record]]],
        seq: int,
    ) -> dict[str, UpsertCounts]:
        self._pending = None
        counts: dict[str, UpsertCounts] = {}
        # Trusting the fingerprint means a row edited by hand stays as edited until its source
        # changes; verify_unchanged and --full-refresh compare every row in the database.
        trust = not (self.verify_unchanged or unit.run.options.get("full_refresh"))
        with conn.transaction(), conn.cursor() as cur:
            for stream_sql, fingerprints, received, unique in prepared:
                counts[stream_sql.stream.name] = self._upsert(
                    cur, stream_sql, unique, fingerprints, received, trust
                )
            if unit.quarantined:
                self._store_quarantined(cur, unit)
            for step, state in (unit.state or {}).items():
                cur.execute(
                    sql.SQL(
                        "INSERT INTO {} (pipeline, step, state, run_id, updated_at) "
                        "VALUES (%s, %s, %s::jsonb, %s, now()) ON CONFLICT (pipeline, step) "
                        "DO UPDATE SET state = EXCLUDED.state, run_id = EXCLUDED.run_id, "
                        "updated_at = EXCLUDED.updated_at"
                    ).format(self._qualified(STATE_TABLE)),
                    (unit.run.pipeline, step, dumps_meta(state), unit.run.run_id),
                )
            self._upsert_run(cur, unit.run, counts_with(unit.run, counts), seq)
            self._pending = (seq, counts)
        return counts

    def _upsert(
        self,
        cur: psycopg.Cursor[Any],
        stream_sql: _StreamSql,
        unique: list[Record],
        fingerprints: list[int | None],
        received: int,
        trust_fingerprints: bool,
    ) -> UpsertCounts:
        row_of = stream_sql.row
        if stream_sql.expect_new:
            # The last batch held only new keys, so this one likely does too: COPY it straight
            # in without asking. A key that exists fails the COPY; the savepoint rolls it back
            # and the batch takes the normal path (one batch's COPY wasted per switch).
            rows = [(*row_of(r), f) for r, f in zip(unique, fingerprints, strict=True)]
            try:
                with cur.connection.transaction():
                    self._copy_rows(cur, stream_sql, stream_sql.copy_direct, rows, unique)
                return UpsertCounts(len(rows), 0, received - len(rows))
            except psycopg.errors.UniqueViolation:
                stream_sql.expect_new = False
        key_of = stream_sql.key_of
        keys = [key_of(record) for record in unique]
        if stream_sql.key_count == 1:
            params: list[list[Any]] = [keys]
        else:
            params = [[k[i] for k in keys] for i in range(stream_sql.key_count)]
        with self._refused_values(stream_sql, unique):
            # binary both ways: about a third faster than text for 10,000 keys
            found = cur.execute(stream_sql.fetch_hashes, params, binary=True).fetchall()
        stored: dict[Any, int | None] = (
            dict(found) if stream_sql.key_count == 1 else {row[:-1]: row[-1] for row in found}
        )
        stream_sql.expect_new = not stored
        new: list[tuple[Any, ...]] = []
        known: list[tuple[Any, ...]] = []
        for key, record, fingerprint in zip(keys, unique, fingerprints, strict=True):
            if key not in stored:
                new.append((*row_of(record), fingerprint))
                continue
            # Equal fingerprints: unchanged, nothing to send. A NULL one (a row stored before
            # the column existed, or a record orjson cannot encode) or a different one: the
            # database compares.
            if not trust_fingerprints or fingerprint is None or stored[key] != fingerprint:
                known.append((*row_of(record), fingerprint))
        inserted = updated = 0
        if new:
            # Keys absent a moment ago go straight into the target (no staging, no merge).
            # Another pipeline sharing the table may have inserted one since: then this
            # savepoint rolls back and they take the staged path with the others.
            try:
                with cur.connection.transaction():
                    self._copy_rows(cur, stream_sql, stream_sql.copy_direct, new, unique)
                inserted = len(new)
            except psycopg.errors.UniqueViolation:
                known.extend(new)
        if known:
            more_inserted, updated = self._merge(cur, stream_sql, known, unique)
            inserted += more_inserted
        # Duplicates of a key within the batch count as unchanged: the counts add up to the
        # records received, as the engine's "records in = loaded + quarantined" needs.
        return UpsertCounts(inserted, updated, received - inserted - updated)

    def _copy_rows(
        self,
        cur: psycopg.Cursor[Any],
        stream_sql: _StreamSql,
        statement: sql.Composed,
        rows: Sequence[tuple[Any, ...]],
        unique: list[Record],
    ) -> None:
        with self._refused_values(stream_sql, unique), cur.copy(statement) as copy:
            copy.set_types(stream_sql.copy_types)
            for row in rows:
                copy.write_row(row)

    @contextmanager
    def _refused_values(self, stream_sql: _StreamSql, unique: list[Record]) -> Iterator[None]:
        """Turn a value PostgreSQL (or the encoding to it) refuses into a SinkDataError that
        names the record and column."""
        try:
            yield
        except (psycopg.DataError, UnicodeEncodeError, ValueError, TypeError) as exc:
            problem = find_unstorable_value(stream_sql.stream, unique)
            raise SinkDataError(
                problem
                or f"stream {stream_sql.stream.name!r}: PostgreSQL refused a value: "
                f"{clean_text(self.settings.redact(str(exc)))}"
            ) from None

    def _merge(
        self,
        cur: psycopg.Cursor[Any],
        stream_sql: _StreamSql,
        rows: Sequence[tuple[Any, ...]],
        unique: list[Record],
    ) -> tuple[int, int]:
        """Stage ``rows`` and upsert them, leaving rows identical to the stored ones alone;
        returns (inserted, updated)."""
        cur.execute(stream_sql.create_stage)
        self._copy_rows(cur, stream_sql, stream_sql.copy, rows, unique)
        # The staging table has no statistics: keep the planner from hashing the whole target
        # table to find a few thousand keys (an index probe per staged row is what we want).
        cur.execute("SET LOCAL enable_hashjoin = off")
        cur.execute("SET LOCAL enable_mergejoin = off")
        cur.execute(stream_sql.drop_unchanged)
        result = cur.execute(stream_sql.upsert).fetchone()
        return (int(result[0]), int(result[1])) if result else (0, 0)

    def _store_quarantined(self, cur: psycopg.Cursor[Any], unit: CommitUnit) -> None:
        with cur.copy(
            sql.SQL("COPY {} (run_id, pipeline, step, stream, record, error) FROM STDIN").format(
                self._qualified(QUARANTINE_TABLE)
            )
        ) as copy:
            for record in unit.quarantined:
                copy.write_row(
                    (
                        unit.run.run_id,
                        unit.run.pipeline,
                        clean_text(record.step),
                        clean_text(record.stream),
                        dumps_quarantined(record.record),
                        clean_text(mask_known_secrets(record.error)),
                    )
                )

    # -- reading ---------------------------------------------------------------------------

    def lookup(
        self, stream: str, keys: Sequence[tuple[Any, ...]], columns: Sequence[str]
    ) -> dict[tuple[Any, ...], Record]:
        stream_sql = self._streams.get(stream)
        if stream_sql is None:
            raise SinkError(f"lookup: stream {stream!r} was not declared when the sink was opened")
        definition = stream_sql.stream
        wanted = list(columns) or list(definition.column_names)
        for name in wanted:
            definition.column(name)  # KeyError names an unknown column
        key = definition.primary_key
        select = [*key, *[c for c in wanted if c not in key]]
        key_types = [PG_TYPES[definition.column(k).type][0] for k in key]
        query = sql.SQL(
            "SELECT {cols} FROM {table} WHERE ({key}) IN (SELECT * FROM unnest({arrays}))"
        ).format(
            cols=sql.SQL(", ").join(map(sql.Identifier, select)),
            table=self._qualified(stream),
            key=sql.SQL(", ").join(map(sql.Identifier, key)),
            arrays=sql.SQL(", ").join(sql.SQL("%s::" + t + "[]") for t in key_types),
        )
        found: dict[tuple[Any, ...], Record] = {}
        unique_keys = list(dict.fromkeys(tuple(k) for k in keys))
        for start in range(0, len(unique_keys), LOOKUP_CHUNK):
            chunk = unique_keys[start : start + LOOKUP_CHUNK]
            params = [[k[i] for k in chunk] for i in range(len(key))]

            def fetch(conn: psycopg.Connection[Any], p: list[list[Any]] = params) -> list[Any]:
                return conn.execute(query, p).fetchall()

            rows = self._retrying("lookup", fetch)
            for row in rows:
                values = dict(zip(select, row, strict=True))
                found[tuple(row[: len(key)])] = {name: values[name] for name in wanted}
        return found

    @contextmanager
    def _reader(self) -> Iterator[psycopg.Connection[Any] | None]:
        """The open connection, or a short-lived one without the lock (for the CLI)."""
        if self._conn is not None and not self._conn.closed:
            yield self._conn
            return
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    def _table_exists(self, conn: psycopg.Connection[Any], table: str) -> bool:
        row = conn.execute("SELECT to_regclass(%s)", (f'"{self.schema}"."{table}"',)).fetchone()
        return bool(row and row[0])

    def recent_runs(self, pipeline: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The last ``limit`` runs (of ``pipeline``, or of all), newest first, as plain dicts."""
        with self._reader() as conn:
            assert conn is not None
            if not self._table_exists(conn, RUNS_TABLE):
                return []
            query = sql.SQL(
                "SELECT run_id, pipeline, started_at, finished_at, status, counts, requests, "
                "error, options, units FROM {} WHERE (%s::text IS NULL OR pipeline = %s) "
                "ORDER BY started_at DESC, run_id DESC LIMIT %s"
            ).format(self._qualified(RUNS_TABLE))
            with conn.cursor(row_factory=dict_row) as cur:
                return list(cur.execute(query, (pipeline, pipeline, limit)).fetchall())

    def quarantined(
        self, pipeline: str | None = None, run_id: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Quarantined records, newest first, as plain dicts (``record`` parsed from JSON)."""
        with self._reader() as conn:
            assert conn is not None
            if not self._table_exists(conn, QUARANTINE_TABLE):
                return []
            query = sql.SQL(
                "SELECT id, run_id, pipeline, step, stream, record, error, created_at FROM {} "
                "WHERE (%s::text IS NULL OR pipeline = %s) AND (%s::text IS NULL OR run_id = %s) "
                "ORDER BY id DESC LIMIT %s"
            ).format(self._qualified(QUARANTINE_TABLE))
            with conn.cursor(row_factory=dict_row) as cur:
                return list(
                    cur.execute(query, (pipeline, pipeline, run_id, run_id, limit)).fetchall()
                )

    def close(self) -> None:
        self._opened = False
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()  # ends the session, which releases the advisory lock
