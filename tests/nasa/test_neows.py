"""nasa.neows against the simulator and the recorded feeds."""

from __future__ import annotations

import datetime as dt
import json

from etl_nasa_sources.neows import (
    NeowsSource,
    parse_close_approaches,
    parse_epoch_ms,
    parse_feed,
    parse_neo,
    parse_neows_number,
)
from hypothesis import HealthCheck, given, settings

from tests.nasa.conftest import KEY, fixtures_dir, last_state, records, run_source
from tests.simulator.dataset import load_fixture
from tests.simulator.strategies import neo_feeds, neo_objects


def neows(sim, **config):
    return NeowsSource({"api_url": sim.base_url, "api_key": KEY, **config})


def feed(name: str):
    return load_fixture(fixtures_dir() / "neows" / name)


def test_feed_windows_of_at_most_seven_days(sim):
    run_source(neows(sim), since=dt.date(2024, 1, 1), until=dt.date(2024, 1, 31))
    spans = [
        (
            dt.date.fromisoformat(r.params["end_date"])
            - dt.date.fromisoformat(r.params["start_date"])
        )
        for r in sim.requests
    ]
    assert len(spans) == 5 and max(spans).days == 6
    assert all(r.status == 200 for r in sim.requests)


def test_simulator_refuses_feeds_longer_than_seven_days(sim):
    # The rule our windows respect: a longer window is a 400 with NeoWs's own message.
    import requests

    answer = requests.get(
        f"{sim.base_url}/neo/rest/v1/feed",
        params={"start_date": "2024-01-01", "end_date": "2024-01-12"},
        headers={"X-Api-Key": KEY},
        timeout=5,
    )
    assert answer.status_code == 400 and "only 7 Days" in answer.json()["error_message"]


def test_every_number_parsed_from_its_string():
    neo_obj = next(
        iter(feed("feed_2025-09-27_to_2025-10-03_fetchA.json")["near_earth_objects"].values())
    )[0]
    (approach,) = parse_close_approaches(neo_obj["id"], neo_obj)
    sent = neo_obj["close_approach_data"][0]
    assert approach["miss_distance_km"] == float(sent["miss_distance"]["kilometers"])
    assert approach["relative_velocity_km_s"] == float(
        sent["relative_velocity"]["kilometers_per_second"]
    )
    assert isinstance(approach["miss_distance_lunar"], float)


def test_leading_dot_decimals():
    lookup = feed("lookup/lookup_2000433.json")
    assert lookup["orbital_data"]["eccentricity"].startswith(".")
    assert parse_neows_number(".2229") == 0.2229
    neo = parse_neo(lookup)
    assert neo["orbital_data"]["eccentricity"] == lookup["orbital_data"]["eccentricity"]


def test_miss_distances_without_decimals_2016():
    assert parse_neows_number("24080622") == 24080622.0


def test_negative_epoch_before_1970():
    lookup = feed("lookup/lookup_2000433.json")
    negative = [a for a in lookup["close_approach_data"] if a["epoch_date_close_approach"] < 0]
    assert negative
    rows = parse_close_approaches("2000433", lookup)
    row = next(r for r in rows if r["close_approach_date"].year < 1970)
    assert row["close_approach_at"].year == row["close_approach_date"].year
    assert parse_epoch_ms(-86_400_000) == dt.datetime(1969, 12, 31, tzinfo=dt.UTC)


def test_missing_absolute_magnitude_and_diameter_are_null():
    neo = parse_neo(feed("lookup/lookup_3508166.json"))
    assert neo["absolute_magnitude_h"] is None
    assert neo["estimated_diameter_min_m"] is None and neo["estimated_diameter_max_m"] is None


def test_2016_shape_without_id_sentry_flag_or_full_date_accepted():
    data = feed("legacy_2016/feed_2016-11-19_to_2016-11-20.json")
    assert "prev" in data["links"]
    pairs = parse_feed(data)
    assert len(pairs) == data["element_count"]
    neo, approaches = pairs[0]
    assert neo["neo_id"] == neo["neo_reference_id"]
    assert neo["is_sentry_object"] is None  # omitted, not False
    assert approaches[0]["close_approach_date_full"] is None
    assert approaches[0]["close_approach_at"] is not None


def test_sentry_data_only_on_sentry_objects_and_without_the_key():
    data = feed("feed_2025-09-27_to_2025-10-03_fetchA.json")
    neos = [neo for neo, _ in parse_feed(data)]
    sentry = [n for n in neos if n["sentry_data_url"]]
    assert len(sentry) == 11
    assert all(n["is_sentry_object"] for n in sentry)
    assert all("api_key" not in n["sentry_data_url"] for n in sentry)


def test_the_api_key_neows_echoes_in_links_is_never_stored(sim):
    batches = run_source(neows(sim), since=dt.date(2024, 3, 1), until=dt.date(2024, 3, 14))
    dumped = json.dumps([b.records for b in batches], default=str)
    assert KEY not in dumped
    assert any(r["sentry_data_url"] for r in records(batches, "neo"))


def test_body_codes_kept_as_sent():
    obj = feed("lookup/lookup_2000433.json")
    bodies = {r["orbiting_body"] for r in parse_close_approaches("2000433", obj)}
    assert bodies <= {a["orbiting_body"] for a in obj["close_approach_data"]}
    assert "Earth" in bodies


def test_non_zero_padded_dates_in_links_are_ignored():
    # links are navigation we never follow (we compute windows): their format cannot hurt.
    data = feed("feed_2025-09-27_to_2025-10-03_fetchA.json")
    assert "2025-9-27" in data["links"]["self"]
    assert len(parse_feed(data)) == data["element_count"]


def test_other_diameter_units_kept_in_raw():
    neo = parse_neo(feed("lookup/lookup_2000433.json"))
    assert set(neo["raw"]["estimated_diameter"]) == {"kilometers", "miles", "feet"}


def test_a_neo_and_its_approaches_share_a_batch(recorded_sim):
    batches = run_source(
        neows(recorded_sim), since=dt.date(2025, 9, 27), until=dt.date(2025, 10, 3), batch_size=25
    )
    assert all(len(b) <= 25 for b in batches)
    for batch in batches:
        ids = {n["neo_id"] for n in batch.records["neo"]}
        assert {a["neo_id"] for a in batch.records["neo_close_approach"]} <= ids
    assert len(records(batches, "neo")) == 140
    assert last_state(batches) == {"last_end": "2025-10-03"}


def test_recent_windows_repulled_with_lookback(sim):
    state = {"last_end": "2024-06-30"}
    run_source(neows(sim), state=state, until=dt.date(2024, 6, 30))
    starts = sorted(r.params["start_date"] for r in sim.requests)
    assert starts[0] == "2024-06-17"  # 14 days back, the watermark day included


def test_watermark_ahead_of_today_still_repulls_the_recent_days(sim):
    today = dt.datetime.now(dt.UTC).date()
    ahead = {"last_end": (today + dt.timedelta(days=60)).isoformat()}
    run_source(neows(sim), state=ahead)
    assert (
        min(r.params["start_date"] for r in sim.requests)
        == (today - dt.timedelta(days=13)).isoformat()
    )


@given(neo_feeds())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_generated_feed_parses_with_every_field_mapped(data):
    pairs = parse_feed(data)
    listed = {
        o.get("id") or o["neo_reference_id"] for v in data["near_earth_objects"].values() for o in v
    }
    assert {neo["neo_id"] for neo, _ in pairs} == listed
    for neo, approaches in pairs:
        assert set(neo["raw"] or {}) <= {"estimated_diameter"}
        assert all(a["raw"] is None for a in approaches)
        assert "SECRETKEY123" not in json.dumps([neo, approaches], default=str)


@given(neo_objects())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_objects_numbers_are_floats(obj):
    for row in parse_close_approaches("1", obj):
        for name in ("miss_distance_km", "miss_distance_au", "relative_velocity_km_s"):
            assert isinstance(row[name], float)
