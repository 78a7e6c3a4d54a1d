"""Every quirk again on generated data, so the suite stands without ../shared.

The recorded payloads pin the quirks where ``../shared`` exists (test_apod, test_neows,
test_mars); these property tests force each quirk through the simulator's own builders.
"""

from __future__ import annotations

import datetime as dt
import json

from etl_nasa_sources.apod import parse_apod_entry
from etl_nasa_sources.mars_photos import parse_photo
from etl_nasa_sources.neows import parse_close_approaches, parse_feed, parse_neo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.simulator.strategies import apod_entries, mars_photos, neo_feeds, neo_objects

# Generation is slow on a shared machine; that is not what these tests are about.
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(apod_entries(media_type="other"))
@SETTINGS
def test_media_type_other_without_url(entry):
    assert "url" not in entry
    record = parse_apod_entry(entry)
    assert record["media_type"] == "other" and record["url"] is None and record["hdurl"] is None


@given(apod_entries(media_type="video", thumbs=True))
@SETTINGS
def test_video_without_hdurl_with_thumbnail(entry):
    record = parse_apod_entry(entry)
    assert record["hdurl"] is None and record["thumbnail_url"]
    assert ";" in record["url"]


@given(apod_entries(empty_explanation=True))
@SETTINGS
def test_empty_explanation_kept_as_empty(entry):
    assert parse_apod_entry(entry)["explanation"] == ""


@given(apod_entries(copyright_style="wrapped"))
@SETTINGS
def test_copyright_trimmed_of_newlines(entry):
    assert entry["copyright"].startswith("\n")
    assert parse_apod_entry(entry)["copyright"] == entry["copyright"].strip()


@given(apod_entries(copyright_style="absent"))
@SETTINGS
def test_copyright_null_when_absent(entry):
    assert parse_apod_entry(entry)["copyright"] is None


@given(neo_objects())
@SETTINGS
def test_every_number_parsed_from_its_string_leading_dots_included(obj):
    sent = obj["close_approach_data"][0]
    assert isinstance(sent["miss_distance"]["astronomical"], str)
    assert sent["miss_distance"]["astronomical"].startswith(".")  # < 1 AU: the leading dot
    (row,) = parse_close_approaches("1", obj)
    assert row["miss_distance_au"] == float("0" + sent["miss_distance"]["astronomical"])


@given(neo_objects(legacy=True))
@SETTINGS
def test_2016_shape_accepted(obj):
    assert "id" not in obj and "is_sentry_object" not in obj
    neo = parse_neo(obj)
    assert neo["neo_id"] == obj["neo_reference_id"] and neo["is_sentry_object"] is None
    (row,) = parse_close_approaches(neo["neo_id"], obj)
    assert row["close_approach_date_full"] is None
    km = obj["close_approach_data"][0]["miss_distance"]["kilometers"]
    assert "." not in km and row["miss_distance_km"] == float(km)  # no decimals in 2016


@given(neo_objects(day=dt.date(1962, 3, 4)))
@SETTINGS
def test_negative_epoch_before_1970(obj):
    assert obj["close_approach_data"][0]["epoch_date_close_approach"] < 0
    (row,) = parse_close_approaches("1", obj)
    assert row["close_approach_at"].date() == dt.date(1962, 3, 4)


@given(neo_objects(with_size=False))
@SETTINGS
def test_missing_absolute_magnitude_and_diameter_are_null(obj):
    neo = parse_neo(obj)
    assert neo["absolute_magnitude_h"] is None and neo["estimated_diameter_max_m"] is None


@given(neo_objects(legacy=False, sentry=True))
@SETTINGS
def test_sentry_data_without_the_echoed_key(obj):
    assert "api_key=SECRETKEY123" in obj["sentry_data"]
    neo = parse_neo(obj)
    assert neo["is_sentry_object"] is True
    assert neo["sentry_data_url"] and "SECRETKEY123" not in json.dumps(neo, default=str)


@given(neo_feeds())
@SETTINGS
def test_feed_days_in_any_order_and_unpadded_links(data):
    first_day = min(data["near_earth_objects"])
    year, month, day = (int(part) for part in first_day.split("-"))
    assert f"start_date={year}-{month}-{day}&" in data["links"]["self"]  # no zero padding
    pairs = parse_feed(data)
    sent = {
        (o.get("id") or o["neo_reference_id"], a["close_approach_date"], a["orbiting_body"])
        for objs in data["near_earth_objects"].values()
        for o in objs
        for a in o["close_approach_data"]
    }
    loaded = {
        (a["neo_id"], a["close_approach_date"].isoformat(), a["orbiting_body"])
        for _, approaches in pairs
        for a in approaches
    }
    assert loaded == sent


@given(mars_photos(), st.booleans())
@SETTINGS
def test_both_shapes_of_the_nested_rover_object(photo, strip):
    rover = photo["rover"]
    old = {
        **photo,
        "rover": {k: rover[k] for k in ("id", "name", "landing_date", "launch_date", "status")},
    }
    assert parse_photo(photo, "x") == parse_photo(old if strip else photo, "x")
