"""example.weather against a fake Open-Meteo archive on the kit's local HTTP server."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from etlcore.contract import RunOptions
from etlcore.testing import LocalHTTPServer, SourceConformance, make_step_context

from etl_example_weather import OBSERVATION, WeatherSource, parse_hourly

from .fake_open_meteo import FakeArchive, temperature_at

BERLIN = {"location": "berlin", "latitude": 52.52, "longitude": 13.41}


@pytest.fixture
def archive(etl_http_server: LocalHTTPServer) -> LocalHTTPServer:
    etl_http_server.add_handler("/v1/archive", FakeArchive())
    return etl_http_server


class TestConformance(SourceConformance):
    source_class = WeatherSource
    batch_size = 10

    @pytest.fixture
    def source_config(self, archive: LocalHTTPServer) -> dict[str, Any]:
        three_days_ago = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3)
        return {**BERLIN, "start_date": three_days_ago.isoformat(), "api_url": archive.url}


def extract(source: WeatherSource, state: Any = None, **options: Any) -> list[Any]:
    context = make_step_context(batch_size=1000, options=RunOptions(**options))
    return list(source.extract(context, state))


def test_columns_become_rows_in_utc() -> None:
    body = {
        "utc_offset_seconds": 3600,
        "hourly": {
            "time": ["2024-01-01T00:00", "2024-01-01T01:00"],
            "temperature_2m": [1.5, None],
            "precipitation": [0.0, 0.3],
        },
    }
    rows = parse_hourly("berlin", body)
    assert rows[0] == {
        "location": "berlin",
        "observed_at": dt.datetime(2023, 12, 31, 23, tzinfo=dt.UTC),
        "temperature_c": 1.5,
        "precipitation_mm": 0.0,
    }
    assert rows[1]["temperature_c"] is None  # not "0.0": missing stays missing


def test_one_request_per_window(archive: LocalHTTPServer) -> None:
    source = WeatherSource({**BERLIN, "start_date": "2024-01-01", "api_url": archive.url})
    batches = extract(source, until=dt.date(2024, 1, 17))
    windows = [(r.query["start_date"], r.query["end_date"]) for r in archive.requests]
    assert windows == [
        ("2024-01-01", "2024-01-07"),
        ("2024-01-08", "2024-01-14"),
        ("2024-01-15", "2024-01-17"),
    ]
    assert sum(len(b.records[OBSERVATION.name]) for b in batches) == 17 * 24
    assert batches[-1].state == {"next_date": "2024-01-18"}


def test_resumes_from_the_watermark(archive: LocalHTTPServer) -> None:
    source = WeatherSource({**BERLIN, "start_date": "2024-01-01", "api_url": archive.url})
    extract(source, {"next_date": "2024-01-10"}, until=dt.date(2024, 1, 11))
    assert [r.query["start_date"] for r in archive.requests] == ["2024-01-10"]


def test_the_watermark_waits_for_hours_the_archive_lacks(etl_http_server: LocalHTTPServer) -> None:
    etl_http_server.add_handler("/v1/archive", FakeArchive(available_until=dt.date(2024, 1, 3)))
    source = WeatherSource({**BERLIN, "start_date": "2024-01-01", "api_url": etl_http_server.url})
    batches = extract(source, until=dt.date(2024, 1, 20))
    assert len(etl_http_server.requests) == 1  # no point asking for later windows
    assert batches[-1].state == {"next_date": "2024-01-04"}


def test_a_pipeline_loads_and_a_rerun_changes_nothing(
    archive: LocalHTTPServer, etl_pipeline: Any, etl_sqlite_sink: Any
) -> None:
    etl_pipeline.add_plugin(WeatherSource)
    pipeline = {
        "name": "weather",
        "sources": [
            {
                "plugin": "example.weather",
                **BERLIN,
                "start_date": "2024-03-01",
                "api_url": archive.url,
            }
        ],
        "sinks": [etl_sqlite_sink.step],
    }
    first = etl_pipeline.run(pipeline, until=dt.date(2024, 3, 2))
    assert first.succeeded, first.run.error
    rows = etl_sqlite_sink.rows("weather_observation", order_by="observed_at")
    assert len(rows) == 48
    noon = dt.datetime(2024, 3, 2, 12, tzinfo=dt.UTC)
    assert [r["temperature_c"] for r in rows if r["observed_at"].startswith("2024-03-02T12")] == [
        temperature_at(noon)
    ]
    again = etl_pipeline.run(pipeline, until=dt.date(2024, 3, 2), full_refresh=True)
    assert again.run.counts[OBSERVATION.name].unchanged == 48
