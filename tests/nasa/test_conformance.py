"""etlcore's source conformance suite for each NASA source, against the simulator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from etl_nasa_sources import ApodSource, MarsPhotosSource, NeowsSource

from etlcore.contract import RunOptions
from etlcore.testing import SourceConformance
from etlcore.testing.context import make_step_context
from tests.nasa.conftest import KEY
from tests.simulator import NasaSimulator


@pytest.fixture(scope="module")
def module_sim() -> Iterator[NasaSimulator]:
    with NasaSimulator(fixtures=None) as simulator:
        yield simulator


# The suite checks that resuming reads no unknown rows: the lookback stays inside the first
# run's window here (in production it is longer than a day's run on purpose).


class TestApodConformance(SourceConformance):
    source_class = ApodSource

    @pytest.fixture
    def source_config(self, module_sim: NasaSimulator) -> dict[str, Any]:
        return {"api_url": module_sim.base_url, "api_key": KEY, "initial_days": 5}


class TestNeowsConformance(SourceConformance):
    source_class = NeowsSource

    @pytest.fixture
    def source_config(self, module_sim: NasaSimulator) -> dict[str, Any]:
        return {
            "api_url": module_sim.base_url,
            "api_key": KEY,
            "initial_days": 2,
            "lookback_days": 2,
        }


class TestMarsConformance(SourceConformance):
    source_class = MarsPhotosSource

    @pytest.fixture
    def source_config(self, module_sim: NasaSimulator) -> dict[str, Any]:
        return {
            "api_url": module_sim.mars_url,
            "rovers": ["perseverance"],
            "initial_days": 3,
            "lookback_days": 3,
        }


@pytest.mark.parametrize("source_class", [ApodSource, NeowsSource])
def test_stop_requested_ends_after_the_current_batch(sim, source_class):
    source = source_class({"api_url": sim.base_url, "api_key": KEY, "workers": 1, "window_days": 7})
    stop = {"now": False}
    ctx = make_step_context(
        options=RunOptions(since=dt.date(2024, 1, 1), until=dt.date(2024, 6, 30)),
        stop_requested=lambda: stop["now"],
    )
    batches = []
    for batch in source.extract(ctx, None):
        batches.append(batch)
        if batch.state is not None:
            stop["now"] = True
    assert batches and batches[-1].state is not None
    # At most the windows already in flight were asked for, not half a year of them.
    assert len(sim.requests) <= 3
