"""Hook implementations: registers the ``postgres`` and ``sqlite`` sinks with etlcore."""

from __future__ import annotations

from collections.abc import Callable

import etlcore
from etl_sinks.postgres import PostgresSink
from etl_sinks.sqlite import SqliteSink
from etlcore.contract import Sink


@etlcore.hookimpl
def register_sinks(register: Callable[[type[Sink]], None]) -> None:
    register(PostgresSink)
    register(SqliteSink)
