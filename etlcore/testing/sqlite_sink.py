"""The ``etl_sqlite_sink`` fixture's object: a SQLite database file in a temporary folder.

The sink itself is the ``sqlite`` plugin of the ``etl-sinks`` distribution, found through the
plugin registry when needed: etlcore never imports a plugin.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

SQLITE_PLUGIN = "sqlite"


class TemporarySqliteSink:
    """Where a test's pipeline loads, and how the test reads back what was loaded."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def step(self) -> dict[str, Any]:
        """The pipeline's ``sinks:`` entry for this database."""
        return {"plugin": SQLITE_PLUGIN, "path": str(self.path)}

    def tables(self) -> list[str]:
        """Tables and views in the database, sorted."""
        if not self.path.exists():
            return []
        with closing(sqlite3.connect(self.path)) as connection:
            rows = connection.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
            ).fetchall()
        return [name for (name,) in rows]

    def rows(self, table: str, order_by: str | None = None) -> list[dict[str, Any]]:
        """Every row of ``table`` as a dict, in ``order_by`` order (default: rowid)."""
        quoted = '"' + table.replace('"', '""') + '"'
        order = f" ORDER BY {order_by}" if order_by else ""
        with closing(sqlite3.connect(self.path)) as connection:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute(f"SELECT * FROM {quoted}{order}")]

    def sink(self) -> Any:
        """A new, unopened instance of the ``sqlite`` sink on this database."""
        from etlcore.plugins import PluginRegistry

        sink_class = PluginRegistry.load(strict=False).get("sink", SQLITE_PLUGIN)
        if sink_class is None:
            raise LookupError(
                "no 'sqlite' sink is installed: the temporary SQLite sink needs the etl-sinks "
                "distribution (pip install etl-sinks)"
            )
        return sink_class({"path": str(self.path)})

    def read_state(self, pipeline: str) -> dict[str, dict[str, Any]]:
        """The watermarks the sink has committed for ``pipeline``, by source step."""
        sink = self.sink()
        try:
            sink.open(pipeline, [], [])
            state: dict[str, dict[str, Any]] = sink.read_state(pipeline)
            return state
        finally:
            sink.close()
