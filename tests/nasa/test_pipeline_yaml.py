"""The suggested YAML: environment variables point the sources at the simulator."""

from __future__ import annotations

import datetime as dt
import logging
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


def test_demo_key_stays_readable_in_every_steps_warning(sim, tmp_path, caplog):
    """DEMO_KEY is public: sending it must not add it to the mask every log line goes through."""
    from etlcore.secrets import mask_known_secrets

    db = tmp_path / "nasa.db"
    h = harness(tmp_path, {"NASA_API_URL": sim.base_url, "NASA_TEST_DB": str(db)})
    with caplog.at_level(logging.WARNING):
        result = h.run(h.write(EXAMPLE.read_text()), since=today_us_eastern())
    assert result.succeeded, result.run.error
    warnings = [
        mask_known_secrets(r.getMessage())
        for r in caplog.records
        if "which allows 30 requests" in r.getMessage()
    ]
    assert len(warnings) == 2  # apod and neows; the Mars step is skipped without a mirror
    assert all("using NASA's DEMO_KEY" in w for w in warnings), warnings
