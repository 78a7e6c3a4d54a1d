"""Run the NASA pipeline end to end (engine runner + sqlite sink) against a simulator."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from etl_nasa_sources import ApodSource, MarsPhotosSource, NeowsSource, UnifyTransform

from etlcore.runner import RunResult
from etlcore.testing.pipeline import PipelineHarness
from tests.simulator import NasaSimulator

KEY = "sim-key-0123456789"


def nasa_pipeline(
    sim: NasaSimulator,
    db: Path,
    *,
    sources: tuple[str, ...] = ("apod", "neows", "mars"),
    rovers: tuple[str, ...] = ("curiosity", "perseverance"),
    workers: int = 4,
    batch_size: int = 500,
) -> dict[str, Any]:
    """The steps suggested for pipelines/nasa.yaml, pointed at ``sim``."""
    steps = []
    if "apod" in sources:
        steps.append(
            {
                "plugin": "nasa.apod",
                "name": "apod",
                "api_url": sim.base_url,
                "api_key": KEY,
                "workers": workers,
            }
        )
    if "neows" in sources:
        steps.append(
            {
                "plugin": "nasa.neows",
                "name": "neows",
                "api_url": sim.base_url,
                "api_key": KEY,
                "workers": workers,
            }
        )
    if "mars" in sources:
        steps.append(
            {
                "plugin": "nasa.mars_photos",
                "name": "mars_photos",
                "api_url": sim.mars_url,
                "rovers": list(rovers),
                "workers": workers,
            }
        )
    return {
        "name": "nasa",
        "batch_size": batch_size,
        "sources": steps,
        "transforms": [{"plugin": "nasa.unify"}],
        "sinks": [{"plugin": "sqlite", "path": str(db)}],
    }


def harness(directory: Path) -> PipelineHarness:
    h = PipelineHarness(directory, environ={})
    h.add_plugin(ApodSource, NeowsSource, MarsPhotosSource, UnifyTransform)
    return h


def run(
    h: PipelineHarness,
    pipeline: dict[str, Any],
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> RunResult:
    return h.run(pipeline, since=since, until=until)


def query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()
