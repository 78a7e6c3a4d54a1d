"""Faults: 5xx, stalls and truncated JSON at 20%; a 429 storm; refused keys; bad requests."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

import pytest
from etl_nasa_sources import ApodSource, NeowsSource
from etl_nasa_sources.date_windows import today_us_eastern
from etl_nasa_sources.nasa_api import NasaApiKeyError, NasaBadRequestError

from tests.nasa.conftest import KEY, run_source
from tests.nasa.pipeline_helpers import harness, nasa_pipeline, query, run
from tests.simulator import Faults, NasaSimulator

FAST_RETRIES = {"backoff_factor": 0, "max_retries": 8}
TABLES = ("apod", "neo", "neo_close_approach", "mars_photo", "nasa_event")


def fast(pipeline):
    for step in pipeline["sources"]:
        step.update(FAST_RETRIES)
    return pipeline


def snapshot(db):
    return {t: query(db, f"SELECT * FROM {t} ORDER BY 1, 2") for t in TABLES}


@pytest.mark.slow
def test_faults_at_20_percent_still_load_everything(tmp_path):
    today = today_us_eastern()
    since = today - dt.timedelta(days=40)
    with NasaSimulator(fixtures=None, today=today) as clean:
        reference = tmp_path / "reference.db"
        assert run(harness(tmp_path), nasa_pipeline(clean, reference), since=since).succeeded
    # A stall outlasts the read timeout: the client gives up on it and retries.
    faults = Faults(error_rate=0.1, truncate_rate=0.05, stall_rate=0.05, stall_seconds=1.5)
    with NasaSimulator(fixtures=None, today=today, faults=faults) as sim:
        db = tmp_path / "faulty.db"
        pipeline = fast(nasa_pipeline(sim, db))
        for step in pipeline["sources"]:
            step["read_timeout"] = 0.5
        result = run(harness(tmp_path), pipeline, since=since)
        assert result.succeeded, result.run.error
        injected = {r.fault for r in sim.requests if r.fault}
        assert injected >= {"5xx", "truncate", "stall"}  # the faults really happened
        assert sum(1 for r in sim.requests if r.fault) >= 0.1 * len(sim.requests)
    assert snapshot(db) == snapshot(reference)


def test_429_storm_fails_cleanly_and_the_next_run_resumes(tmp_path):
    """Over quota mid-backfill: committed windows stay with their watermark, nothing else."""
    with NasaSimulator(fixtures=None, faults=Faults(storm_after=3)) as sim:
        db = tmp_path / "nasa.db"
        h = harness(tmp_path)
        pipeline = fast(nasa_pipeline(sim, db, sources=("apod",), workers=1))
        pipeline["sources"][0].update(window_days=10, max_retries=2)
        since, until = dt.date(2024, 1, 1), dt.date(2024, 2, 29)  # 6 windows
        failed = run(h, pipeline, since=since, until=until)
        assert not failed.succeeded
        assert "rate limit" in (failed.run.error or "")
        refused = Counter(r.params["start_date"] for r in sim.requests if r.status == 429)
        # No retry loop: each request is tried 1 + max_retries times, and only the windows
        # already in flight (2 x workers) are touched before the run stops.
        assert set(refused.values()) == {3} and len(refused) <= 2
        (state,) = query(db, "SELECT state FROM _etl_state WHERE step = 'apod'")
        assert '"2024-01-30"' in state[0]  # three windows of ten days committed
        assert query(db, "SELECT MAX(date) FROM apod")[0][0] <= "2024-01-30"
        loaded_before = query(db, "SELECT COUNT(*) FROM apod")[0][0]
        assert loaded_before > 0

        sim.faults.storm_after = None  # the quota refills
        sim.clear_log()
        resumed = run(h, pipeline, until=until)
        assert resumed.succeeded, resumed.run.error
        first_start = min(r.params["start_date"] for r in sim.requests)
        assert first_start == "2024-01-29"  # the watermark minus the 2-day lookback
        assert query(db, "SELECT MAX(date) FROM apod")[0][0] <= "2024-02-29"
        assert query(db, "SELECT COUNT(*) FROM apod")[0][0] > loaded_before


def test_refused_key_is_a_clear_error_without_retry_loop(sim):
    sim.valid_keys = {KEY}
    source = ApodSource({"api_url": sim.base_url, "api_key": "wrong-key-42", **FAST_RETRIES})
    with pytest.raises(NasaApiKeyError, match="API_KEY_INVALID") as caught:
        run_source(source, since=dt.date(2024, 1, 1), until=dt.date(2024, 1, 5))
    assert "NASA_API_KEY" in str(caught.value)
    assert "wrong-key-42" not in str(caught.value)
    assert len(sim.requests) == 1


def test_missing_key_is_a_clear_error(sim):
    import requests
    from etl_nasa_sources.nasa_api import NasaApi

    from etlcore.http import HttpError

    class NoHeaderClient:  # what the gateway says when a proxy strips the header
        def get_json(self, path, params=None):
            answer = requests.get(sim.base_url + path, params=params, timeout=5)
            raise HttpError("refused", url=path, status=answer.status_code, body=answer.text)

    with pytest.raises(NasaApiKeyError, match="API_KEY_MISSING"):
        NasaApi(NoHeaderClient(), "nasa.apod").get_json("/planetary/apod")


def test_missing_key_header_gets_the_gateway_error_shape(sim):
    import requests

    answer = requests.get(f"{sim.base_url}/planetary/apod", timeout=5)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "API_KEY_MISSING"


def test_key_travels_in_the_header_never_in_the_url(sim):
    run_source(
        ApodSource({"api_url": sim.base_url, "api_key": KEY}),
        since=dt.date(2024, 1, 1),
        until=dt.date(2024, 1, 2),
    )
    assert [r.key_in for r in sim.requests] == ["header"]


def test_demo_key_logs_a_warning(sim, caplog):
    with caplog.at_level(logging.WARNING):
        run_source(
            ApodSource({"api_url": sim.base_url}),
            since=dt.date(2024, 1, 1),
            until=dt.date(2024, 1, 2),
        )
    assert "DEMO_KEY" in caplog.text and "50" in caplog.text


def test_bad_request_names_the_request_and_nasa_reason(sim):
    source = NeowsSource({"api_url": sim.base_url, "api_key": KEY})
    source.config = {**source.config, "window_days": 12}  # past the schema: NeoWs says why
    with pytest.raises(NasaBadRequestError) as caught:
        run_source(source, since=dt.date(2024, 1, 1), until=dt.date(2024, 1, 12))
    message = str(caught.value)
    assert "GET /neo/rest/v1/feed?start_date=2024-01-01&end_date=2024-01-12" in message
    assert "only 7 Days" in message
    assert KEY not in message


def test_apod_date_before_first_apod_is_clamped(sim):
    source = ApodSource({"api_url": sim.base_url, "api_key": KEY})
    run_source(source, since=dt.date(1990, 1, 1), until=dt.date(1995, 6, 20))
    assert sim.requests[0].params["start_date"] == "1995-06-16"
    assert sim.requests[0].status == 200
