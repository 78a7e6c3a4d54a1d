"""nasa.apod against the simulator: each quirk of SOURCES.md has a test named after it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from etl_nasa_sources.apod import ApodSource, clean_copyright, parse_apod_entry
from etl_nasa_sources.date_windows import DateWindow, today_us_eastern
from etl_nasa_sources.nasa_api import NasaDataError
from hypothesis import HealthCheck, given, settings

from tests.nasa.conftest import KEY, fixtures_dir, last_state, records, run_source
from tests.simulator.dataset import load_fixture
from tests.simulator.strategies import apod_entries


def apod(sim, **config):
    return ApodSource({"api_url": sim.base_url, "api_key": KEY, **config})


def test_range_calls_in_windows_never_one_request_per_day(sim):
    batches = run_source(apod(sim), since=dt.date(2023, 1, 1), until=dt.date(2023, 12, 31))
    assert len(records(batches, "apod")) > 300
    calls = [r for r in sim.requests if r.path == "/planetary/apod"]
    assert len(calls) == 4  # 365 days in windows of 92
    assert all("start_date" in r.params and "date" not in r.params for r in calls)


def test_thumbs_requested_so_videos_have_a_thumbnail(recorded_sim):
    batches = run_source(apod(recorded_sim), since=dt.date(2021, 11, 7), until=dt.date(2021, 11, 8))
    assert {r.params.get("thumbs") for r in recorded_sim.requests} == {"true"}
    video = next(r for r in records(batches, "apod") if r["media_type"] == "video")
    # The simulator, like APOD, only sends thumbnail_url when thumbs=true was asked for.
    assert video["thumbnail_url"].startswith("https://img.youtube.com/vi/")


def test_skipped_dates_in_a_range_are_simply_absent(sim):
    # 1995-06-17..19 have no APOD: the range skips them; nothing is invented for them.
    batches = run_source(apod(sim), since=dt.date(1995, 6, 16), until=dt.date(1995, 6, 25))
    days = {r["date"] for r in records(batches, "apod")}
    assert dt.date(1995, 6, 16) in days
    assert not days & {dt.date(1995, 6, 17), dt.date(1995, 6, 18), dt.date(1995, 6, 19)}
    assert last_state(batches) == {"last_date": "1995-06-25"}


def test_never_asks_for_a_date_after_today_in_us_eastern(sim):
    today = today_us_eastern()
    run_source(apod(sim), since=today - dt.timedelta(days=3), until=today + dt.timedelta(days=30))
    ends = [dt.date.fromisoformat(r.params["end_date"]) for r in sim.requests]
    assert ends and max(ends) == today
    assert all(r.status == 200 for r in sim.requests)


def test_us_eastern_today_differs_from_utc_late_in_the_utc_day():
    # 02:30 UTC on 2 March is still 1 March in New York, where APOD publishes.
    assert today_us_eastern(dt.datetime(2024, 3, 2, 2, 30, tzinfo=dt.UTC)) == dt.date(2024, 3, 1)


def test_lookback_window_repulled_each_run(sim):
    today = today_us_eastern()
    state = {"last_date": (today - dt.timedelta(days=1)).isoformat()}
    run_source(apod(sim), state=state)
    (call,) = sim.requests
    assert call.params["start_date"] == (today - dt.timedelta(days=2)).isoformat()
    assert call.params["end_date"] == today.isoformat()


def test_returned_date_not_asked_for_is_refused():
    entry = {"date": "2023-07-01", "title": "t", "media_type": "image", "url": "u"}
    with pytest.raises(NasaDataError, match=r"2023-07-01.*2023-06-01\.\.2023-06-30"):
        parse_apod_entry(entry, DateWindow(dt.date(2023, 6, 1), dt.date(2023, 6, 30)))


def test_media_type_other_without_url():
    entry = load_fixture(fixtures_dir() / "apod/spacepod/200-no-urls.json")
    record = parse_apod_entry(entry)
    assert record["media_type"] == "other"
    assert record["url"] is None and record["hdurl"] is None


def test_video_without_hdurl():
    entry = load_fixture(fixtures_dir() / "apod/spacepod/get-video.json")
    record = parse_apod_entry(entry)
    assert record["media_type"] == "video" and record["hdurl"] is None
    assert ";rel=0" in record["url"]  # the semicolon in the query survives untouched


def test_empty_explanation_kept_as_empty():
    entry = load_fixture(fixtures_dir() / "apod/spacepod/200-empty-explanation.json")
    assert parse_apod_entry(entry)["explanation"] == ""


def test_copyright_trimmed_of_newlines_and_null_when_absent():
    entries = load_fixture(fixtures_dir() / "apod/range_2023-06-01_to_2023-06-30.json")
    parsed = [parse_apod_entry(e) for e in entries]
    wrapped = [e for e in entries if "\n" in e.get("copyright", "")]
    assert wrapped  # the fixture has them (9 of 30)
    assert all(r["copyright"] is None or "\n" not in r["copyright"] for r in parsed)
    assert sum(r["copyright"] is None for r in parsed) == sum("copyright" not in e for e in entries)
    assert clean_copyright("\nMartin Pugh\n") == "Martin Pugh"
    assert clean_copyright("\n") is None


def test_copyright_incorrect_is_loaded_as_sent():
    # "Catching the Light" is scraped link text, not a person; we cannot know better.
    entry = load_fixture(fixtures_dir() / "apod/spacepod/200-copyright-incorrect.json")
    assert parse_apod_entry(entry)["copyright"] == "Catching the Light"


def test_unknown_fields_are_kept_in_raw():
    record = parse_apod_entry({"date": "2020-01-01", "concept_tags": ["x"], "resource": {"a": 1}})
    assert record["raw"] == {"concept_tags": ["x"], "resource": {"a": 1}}


@given(apod_entries())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_generated_entry_maps_every_field(entry):
    record = parse_apod_entry(entry)
    assert record["date"].isoformat() == entry["date"]
    assert record["raw"] is None  # every documented field has a column
    json.dumps(record, default=str)
    if entry["media_type"] == "other":
        assert record["url"] is None
    if entry["media_type"] != "image":
        assert record["hdurl"] is None


def test_recorded_month_loads_thirty_entries(recorded_sim):
    batches = run_source(apod(recorded_sim), since=dt.date(2023, 6, 1), until=dt.date(2023, 6, 30))
    rows = records(batches, "apod")
    assert len(rows) == 30
    assert sum(r["media_type"] == "video" for r in rows) == 3


def test_batches_respect_batch_size_and_carry_the_watermark_last(sim):
    batches = run_source(
        apod(sim, window_days=30),
        since=dt.date(2023, 1, 1),
        until=dt.date(2023, 1, 30),
        batch_size=7,
    )
    assert all(len(b) <= 7 for b in batches)
    assert [b.state for b in batches[:-1]] == [None] * (len(batches) - 1)
    assert batches[-1].state == {"last_date": "2023-01-30"}


def test_backfill_of_old_dates_keeps_a_later_watermark(sim):
    batches = run_source(
        apod(sim),
        since=dt.date(2020, 1, 1),
        until=dt.date(2020, 1, 10),
        state={"last_date": "2024-05-01"},
    )
    assert last_state(batches) == {"last_date": "2024-05-01"}
