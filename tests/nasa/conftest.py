"""Fixtures for the NASA source tests: simulators and a way to run one source step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from etlcore.contract import Batch, RunOptions, Source
from etlcore.testing.context import make_step_context
from tests.simulator import NasaSimulator, shared_fixtures_dir

KEY = "sim-key-0123456789"


def fixtures_dir() -> Path:
    """``../shared/fixtures/nasa``, or skip: the recorded payloads only exist in dev/CI."""
    path = shared_fixtures_dir()
    if path is None:
        pytest.skip("../shared/fixtures not present (only in the dev/CI layout)")
    return path


@pytest.fixture
def sim() -> Iterator[NasaSimulator]:
    """A simulator serving generated data only (runs everywhere)."""
    with NasaSimulator(fixtures=None) as simulator:
        yield simulator


@pytest.fixture
def recorded_sim() -> Iterator[NasaSimulator]:
    """A simulator serving the shared recorded payloads where it has them."""
    with NasaSimulator(fixtures=fixtures_dir()) as simulator:
        yield simulator


def run_source(
    source: Source,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    state: Mapping[str, Any] | None = None,
    batch_size: int = 1000,
) -> list[Batch]:
    """All batches of one ``extract`` with a test context (real HTTP client, no sleeping)."""
    ctx = make_step_context(options=RunOptions(since=since, until=until), batch_size=batch_size)
    return list(source.extract(ctx, state))


def records(batches: list[Batch], stream: str) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.records.get(stream, [])]


def last_state(batches: list[Batch]) -> dict[str, Any] | None:
    states = [b.state for b in batches if b.state is not None]
    return states[-1] if states else None
