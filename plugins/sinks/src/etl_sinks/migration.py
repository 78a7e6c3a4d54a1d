"""Comparing a stream's declared schema with the table a sink already has.

A new nullable column is added automatically; anything else that does not fit (a type change,
a new NOT NULL column, a different primary key) stops the run with one error that lists every
problem, names table and column, and says what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from etl_sinks.errors import SchemaMismatchError
from etlcore.contract import Column, Stream


@dataclass(frozen=True)
class ExistingColumn:
    """A column as the database describes it."""

    name: str
    sql_type: str
    not_null: bool


@dataclass
class MigrationPlan:
    """What to change on an existing table to take the stream."""

    add: list[Column] = field(default_factory=list)
    drop_not_null: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.add or self.drop_not_null)


@dataclass(frozen=True)
class DialectHints:
    """How to phrase the manual fix in one sink's SQL."""

    sql_type: Callable[[str], str]
    """Declared column type → the SQL type this sink creates."""
    change_type: Callable[[str, str, str], str]
    """(table, column, sql type) → a statement or instruction that converts the column."""
    drop_not_null: Callable[[str, str], str]
    """(table, column) → how to make a column nullable."""


def is_not_null(stream: Stream, column: Column) -> bool:
    """Primary-key columns are NOT NULL whatever their declaration."""
    return not column.nullable or column.name in stream.primary_key


def plan_migration(
    table: str,
    stream: Stream,
    existing: Mapping[str, ExistingColumn],
    existing_key: Sequence[str],
    hints: DialectHints,
) -> MigrationPlan:
    """Plan the changes to ``table`` (its qualified name, for messages); raise
    :class:`SchemaMismatchError` listing every incompatible difference."""
    plan = MigrationPlan()
    problems: list[str] = []
    if tuple(existing_key) != tuple(stream.primary_key):
        problems.append(
            f"table {table} has primary key ({', '.join(existing_key) or 'none'}) but stream "
            f"{stream.name!r} declares ({', '.join(stream.primary_key)}): a key change needs a "
            "manual migration; or drop the table and reload it with `etl run --full-refresh`"
        )
    for column in stream.columns:
        wanted = hints.sql_type(column.type)
        found = existing.get(column.name)
        if found is None:
            if is_not_null(stream, column):
                problems.append(
                    f"table {table} has no column {column.name!r}, which stream {stream.name!r} "
                    f"declares NOT NULL: add it by hand with a default "
                    f"(ALTER TABLE {table} ADD COLUMN {column.name} {wanted} NOT NULL DEFAULT …), "
                    "or declare the column nullable"
                )
            else:
                plan.add.append(column)
            continue
        if found.sql_type.lower() != wanted.lower():
            problems.append(
                f"column {column.name!r} of table {table} is {found.sql_type} but stream "
                f"{stream.name!r} declares {column.type} ({wanted}): "
                f"{hints.change_type(table, column.name, wanted)}"
            )
        elif found.not_null and not is_not_null(stream, column):
            plan.drop_not_null.append(column.name)
    declared = set(stream.column_names)
    for name, found in existing.items():
        if name not in declared and found.not_null:
            problems.append(
                f"column {name!r} of table {table} is NOT NULL but stream {stream.name!r} no "
                f"longer declares it, so new rows cannot be inserted: "
                f"{hints.drop_not_null(table, name)}, or drop the column"
            )
    if problems:
        raise SchemaMismatchError(
            "the database schema does not match the pipeline's streams:\n- " + "\n- ".join(problems)
        )
    return plan
