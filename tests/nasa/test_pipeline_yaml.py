"""The suggested YAML: environment variables point the sources at the simulator."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from etl_nasa_sources import ApodSource, MarsPhotosSource, NeowsSource, UnifyTransform
from etl_nasa_sources.date_windows import today_us_eastern

from etlcore.testing.pipeline import PipelineHarness
from tests.nasa.pipeline_helpers import query

EXAMPLE = Path(__file__).with_name("nasa_example.yaml")


def harness(tmp_path: Path, environ: dict[str, str]) -> PipelineHarness:
    h = PipelineHarness(tmp_path, environ=environ)
    h.add_plugin(ApodSource, NeowsSource, MarsPhotosSource, UnifyTransform)
    return h


def test_env_vars_point_every_source_at_the_simulator(sim, tmp_path):
    db = tmp_path / "nasa.db"
    environ = {
        "NASA_API_URL": sim.base_url,
        "MARS_PHOTOS_API_URL": sim.mars_url,
        "NASA_API_KEY": "sim-key-from-env",
        "NASA_TEST_DB": str(db),
    }
    h = harness(tmp_path, environ)
    pipeline = h.write(EXAMPLE.read_text())
    since = today_us_eastern() - dt.timedelta(days=3)
    result = h.run(pipeline, since=since)
    assert result.succeeded, result.run.error
    paths = {r.path.split("/")[1] for r in sim.requests}
    assert paths == {"planetary", "neo", "mars-photos"}
    assert {r.key_in for r in sim.requests if not r.path.startswith("/mars")} == {"header"}
    assert query(db, "SELECT COUNT(*) FROM daily_summary")[0][0] > 0


def test_without_a_mars_mirror_the_mars_step_is_skipped(sim, tmp_path):
    db = tmp_path / "nasa.db"
    h = harness(tmp_path, {"NASA_API_URL": sim.base_url, "NASA_TEST_DB": str(db)})
    result = h.run(h.write(EXAMPLE.read_text()), since=today_us_eastern())
    assert result.succeeded, result.run.error
    assert not [r for r in sim.requests if r.path.startswith("/mars")]
    # The view reads nasa_event only, so it works whichever sources a pipeline runs.
    rows = query(db, "SELECT apod_title, mars_photos FROM daily_summary")
    assert rows and all(mars is None for _, mars in rows)
