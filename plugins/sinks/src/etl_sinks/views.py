"""Views a pipeline declares: the order to create them in, and their SQL for a dialect."""

from __future__ import annotations

from collections.abc import Sequence
from graphlib import CycleError, TopologicalSorter

from etl_sinks.errors import SchemaMismatchError
from etlcore.contract import View


def views_in_order(views: Sequence[View]) -> list[View]:
    """Views sorted so that each comes after the views it depends on (tables need no order:
    they all exist before any view is created)."""
    by_name = {view.name: view for view in views}
    graph = {
        view.name: [name for name in view.depends_on if name in by_name and name != view.name]
        for view in views
    }
    try:
        return [by_name[name] for name in TopologicalSorter(graph).static_order()]
    except CycleError as exc:
        raise SchemaMismatchError(f"views depend on each other in a cycle: {exc.args[1]}") from None


def view_sql(view: View, dialect: str) -> str:
    """The view's ``SELECT`` for this dialect, or a clear error naming what is missing."""
    sql = view.sql.get(dialect)
    if not sql:
        raise SchemaMismatchError(
            f"view {view.name!r} has no SQL for the {dialect!r} sink (it has: "
            f"{', '.join(sorted(view.sql)) or 'none'}); add a {dialect!r} entry to the view's sql"
        )
    return sql.strip().rstrip(";")
