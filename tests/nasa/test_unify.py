"""nasa.unify: an event per APOD entry, approach and photo; the columns the enricher fills."""

from __future__ import annotations

import datetime as dt

from etl_nasa_sources import ApodSource, MarsPhotosSource, NeowsSource, UnifyTransform
from etl_nasa_sources.streams import NASA_EVENT

from etlcore.contract import Batch
from etlcore.records import RecordValidator
from etlcore.testing.context import make_step_context
from tests.nasa.conftest import KEY, fixtures_dir, records, run_source
from tests.simulator import NasaSimulator

ENRICHER_COLUMNS = {
    "image_width": "integer",
    "image_height": "integer",
    "image_format": "string",
    "image_bytes_read": "integer",
    "enrich_status": "string",
    "enrich_error": "string",
    "enriched_at": "timestamp",
}


def test_nasa_event_has_the_columns_the_image_enricher_fills():
    columns = {c.name: c for c in NASA_EVENT.columns}
    for name, kind in ENRICHER_COLUMNS.items():
        assert columns[name].type == kind and columns[name].nullable
    assert NASA_EVENT.primary_key == ("source", "source_id")
    assert {
        "source",
        "source_id",
        "event_date",
        "title",
        "media_type",
        "media_url",
        "thumbnail_url",
    } <= set(columns)


def test_events_are_added_and_source_streams_kept():
    with NasaSimulator(fixtures=fixtures_dir()) as sim:
        apod = run_source(
            ApodSource({"api_url": sim.base_url, "api_key": KEY}),
            since=dt.date(2021, 11, 7),
            until=dt.date(2021, 11, 8),
        )
        neo = run_source(
            NeowsSource({"api_url": sim.base_url, "api_key": KEY}),
            since=dt.date(2025, 9, 27),
            until=dt.date(2025, 10, 3),
        )
        mars = run_source(
            MarsPhotosSource({"api_url": sim.mars_url, "rovers": ["perseverance"]}),
            since=dt.date(2021, 2, 18),
            until=dt.date(2021, 2, 18),
        )
    unify = UnifyTransform({})
    ctx = make_step_context()
    validator = RecordValidator(NASA_EVENT)
    for batches, source in ((apod, "apod"), (neo, "neo"), (mars, "mars")):
        out = [unify.transform(b, ctx) for b in batches]
        for before, after in zip(batches, out, strict=True):
            assert {k: v for k, v in after.records.items() if k != "nasa_event"} == before.records
            assert after.state == before.state
        events = records(out, "nasa_event")
        assert events and {e["source"] for e in events} == {source}
        for event in events:
            assert validator.problems(event) == []
            assert all(event[c] is None for c in ENRICHER_COLUMNS)
    apod_events = {
        e["source_id"]: e for e in records([unify.transform(b, ctx) for b in apod], "nasa_event")
    }
    video = apod_events["2021-11-08"]
    assert video["media_type"] == "video" and video["thumbnail_url"]
    neo_events = records([unify.transform(b, ctx) for b in neo], "nasa_event")
    assert len(neo_events) == len(records(neo, "neo_close_approach"))
    assert all(e["title"] and e["media_type"] is None for e in neo_events)
    mars_events = records([unify.transform(b, ctx) for b in mars], "nasa_event")
    assert len(mars_events) == 54 and {e["media_type"] for e in mars_events} == {"image"}


def test_approach_without_its_neo_in_the_batch_takes_the_name_from_the_sink():
    approach = {
        "neo_id": "42",
        "close_approach_date": dt.date(2024, 1, 1),
        "orbiting_body": "Earth",
        "miss_distance_km": 1.0,
    }
    asked = []

    def lookup(stream, keys, columns):
        asked.append((stream, list(keys)))
        return {("42",): {"neo_id": "42", "name": "(2024 AA)", "is_potentially_hazardous": True}}

    ctx = make_step_context(lookup=lookup)
    out = UnifyTransform({}).transform(Batch({"neo_close_approach": [approach]}), ctx)
    (event,) = out.records["nasa_event"]
    assert asked == [("neo", [("42",)])]
    assert event["title"] == "(2024 AA)" and event["details"]["is_potentially_hazardous"] is True


def test_unknown_apod_media_type_becomes_other():
    row = {"date": dt.date(2024, 1, 1), "title": "t", "media_type": "interactive", "url": "u"}
    out = UnifyTransform({}).transform(Batch({"apod": [row]}), make_step_context())
    assert out.records["nasa_event"][0]["media_type"] == "other"
