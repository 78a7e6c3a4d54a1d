"""Request counts of a one-year backfill, and of the run right after it."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from etl_nasa_sources.date_windows import today_us_eastern

from tests.nasa.pipeline_helpers import harness, nasa_pipeline, run
from tests.simulator import NasaSimulator


@pytest.mark.slow
def test_one_year_backfill_then_a_second_run_makes_only_the_lookback_calls(tmp_path):
    today = today_us_eastern()
    since = today - dt.timedelta(days=365)  # 366 days including today
    with NasaSimulator(fixtures=None, today=today) as sim:
        h = harness(tmp_path)
        pipeline = nasa_pipeline(sim, tmp_path / "nasa.db", batch_size=1000)
        first = run(h, pipeline, since=since)
        assert first.succeeded, first.run.error

        assert sim.count("/planetary/apod") == math.ceil(366 / 92) == 4
        # NeoWs' own clock is UTC; around midnight its today is one day ahead of New York's.
        neows_days = (dt.datetime.now(dt.UTC).date() - since).days + 1
        assert sim.count("/neo/rest/v1/feed") == math.ceil(neows_days / 7)
        assert neows_days != 366 or sim.count("/neo/rest/v1/feed") == 53
        for rover in ("curiosity", "perseverance"):
            sols_in_year = [
                r
                for r in sim.dataset.manifest_rows(rover)
                if dt.date.fromisoformat(r["earth_date"]) >= since
            ]
            assert sim.count(f"/mars-photos/api/v1/manifests/{rover}") == 1
            assert sim.count(f"/mars-photos/api/v1/rovers/{rover}/photos") == len(sols_in_year)
        assert first.run.requests == len(sim.requests)

        sim.clear_log()
        second = run(h, pipeline)  # no --since: from the watermarks
        assert second.succeeded, second.run.error
        assert sim.count("/planetary/apod") == 1  # the 2-day lookback, one range call
        assert sim.count("/neo/rest/v1/feed") == 2  # 14 days of lookback: two 7-day windows
        assert sim.count("/mars-photos/api/v1/manifests/") == 2
        assert sim.count("/mars-photos/api/v1/rovers/") == 0  # no sol changed
        assert all(c.inserted == 0 and c.updated == 0 for c in second.run.counts.values())

        # NASA adds photos to a recent sol: only that sol is fetched again.
        latest = sim.dataset.manifest_rows("curiosity")[-1]
        sim.dataset.set_sol_count("curiosity", latest["sol"], latest["total_photos"] + 3)
        sim.clear_log()
        third = run(h, pipeline)
        assert third.succeeded, third.run.error
        photo_calls = [r for r in sim.requests if r.path.endswith("/photos")]
        assert [(r.path, r.params) for r in photo_calls] == [
            ("/mars-photos/api/v1/rovers/curiosity/photos", {"sol": str(latest["sol"])})
        ]
        assert third.run.counts["mars_photo"].inserted == 3
