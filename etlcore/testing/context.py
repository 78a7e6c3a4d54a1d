"""A :class:`~etlcore.contract.StepContext` for calling a plugin directly in a unit test."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from etlcore.contract import Record, RunOptions, StepContext

Lookup = Callable[[str, Sequence[tuple[Any, ...]], Sequence[str]], dict[tuple[Any, ...], Record]]


def _no_rows(
    stream: str, keys: Sequence[tuple[Any, ...]], columns: Sequence[str]
) -> dict[tuple[Any, ...], Record]:
    return {}


def make_step_context(
    *,
    step: str = "step",
    pipeline: str = "test",
    run_id: str = "test-run",
    batch_size: int = 1000,
    options: RunOptions | None = None,
    lookup: Lookup | None = None,
    stop_requested: Callable[[], bool] | None = None,
) -> StepContext:
    """A context like the runner's: a real HTTP client factory, no stored rows by default.

    ``lookup`` stands in for the primary sink's ``lookup``; pass one to test an enricher that
    skips records already enriched.
    """

    def http_client(*args: Any, **kwargs: Any) -> Any:
        # Imported late so that importing the test kit stays cheap.
        from etlcore.http import HttpClient

        kwargs.setdefault("sleep", lambda _seconds: None)  # retries without wall-clock waits
        return HttpClient(*args, **kwargs)

    return StepContext(
        pipeline=pipeline,
        run_id=run_id,
        step=step,
        options=options or RunOptions(),
        batch_size=batch_size,
        log=logging.getLogger(f"etlcore.test.{step}"),
        stop_requested=stop_requested or (lambda: False),
        http_client=http_client,
        lookup=lookup or _no_rows,
    )
