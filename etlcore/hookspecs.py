"""The extension points of etlcore. Each hook receives a ``register`` callback.

A plugin module implements any of these with ``@etlcore.hookimpl`` and calls
``register(SomeClass)`` once per class it provides. Argument names are the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from etlcore.contract import Enricher, SecretProvider, Sink, Source, Transform

hookspec = pluggy.HookspecMarker("etlcore")


@hookspec
def register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register source classes: they extract batches of records from somewhere."""


@hookspec
def register_transforms(register: Callable[[type[Transform]], None]) -> None:
    """Register transform classes: they reshape batches, and may emit new streams."""


@hookspec
def register_enrichers(register: Callable[[type[Enricher]], None]) -> None:
    """Register enricher classes: they fill columns of records from an outside service."""


@hookspec
def register_sinks(register: Callable[[type[Sink]], None]) -> None:
    """Register sink classes: they commit records, quarantine, watermarks and run records."""


@hookspec
def register_secret_providers(register: Callable[[type[SecretProvider]], None]) -> None:
    """Register secret providers: they resolve ``${secret:NAME}`` references."""
