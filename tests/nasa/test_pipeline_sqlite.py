"""End to end: engine runner + sqlite sink + the NASA plugins against the simulator."""

from __future__ import annotations

import datetime as dt

import pytest
from etl_nasa_sources.date_windows import today_us_eastern

from tests.nasa.conftest import fixtures_dir
from tests.nasa.pipeline_helpers import harness, nasa_pipeline, query, run
from tests.simulator import NasaSimulator
from tests.simulator.dataset import load_fixture


def test_offline_run_fills_every_table_and_the_view_and_a_rerun_changes_nothing(sim, tmp_path):
    h = harness(tmp_path)
    db = tmp_path / "nasa.db"
    pipeline = nasa_pipeline(sim, db)
    today = today_us_eastern()
    since = today - dt.timedelta(days=20)
    first = run(h, pipeline, since=since)
    assert first.succeeded, first.run.error
    for table in ("apod", "neo", "neo_close_approach", "mars_photo", "nasa_event"):
        assert query(db, f"SELECT COUNT(*) FROM {table}")[0][0] > 0, table
    events = query(db, "SELECT source, COUNT(*) FROM nasa_event GROUP BY source")
    counts = dict(events)
    assert counts["apod"] == query(db, "SELECT COUNT(*) FROM apod")[0][0]
    assert counts["neo"] == query(db, "SELECT COUNT(*) FROM neo_close_approach")[0][0]
    assert counts["mars"] == query(db, "SELECT COUNT(*) FROM mars_photo")[0][0]
    summary = query(
        db,
        'SELECT "date", apod_title, neo_approaches, hazardous_approaches, closest_miss_km, '
        'mars_photos FROM daily_summary ORDER BY "date"',
    )
    assert summary
    by_day = {row[0]: row for row in summary}
    day, approaches = query(
        db,
        "SELECT close_approach_date, COUNT(*) FROM neo_close_approach "
        "GROUP BY close_approach_date ORDER BY 1 LIMIT 1",
    )[0]
    assert by_day[day][2] == approaches
    closest = query(
        db,
        "SELECT MIN(miss_distance_km) FROM neo_close_approach WHERE close_approach_date = ?",
        day,
    )[0][0]
    assert by_day[day][4] == pytest.approx(closest)
    before = query(db, "SELECT * FROM nasa_event ORDER BY source, source_id")

    second = run(h, pipeline, since=since)
    assert second.succeeded, second.run.error
    assert all(c.inserted == 0 and c.updated == 0 for c in second.run.counts.values())
    assert query(db, "SELECT * FROM nasa_event ORDER BY source, source_id") == before


def test_revised_neows_window_ends_with_fetch_b_and_keeps_the_vanished_neo(tmp_path):
    fetch_a = load_fixture(fixtures_dir() / "neows/feed_2025-09-27_to_2025-10-03_fetchA.json")
    fetch_b = load_fixture(fixtures_dir() / "neows/feed_2025-09-27_to_2025-10-03_fetchB.json")
    with NasaSimulator(fixtures=fixtures_dir()) as sim:
        h = harness(tmp_path)
        db = tmp_path / "nasa.db"
        pipeline = nasa_pipeline(sim, db, sources=("neows",))
        window = {"since": dt.date(2025, 9, 27), "until": dt.date(2025, 10, 3)}
        assert run(h, pipeline, **window).succeeded
        sim.dataset.neows_fixture_revision = "B"
        result = run(h, pipeline, **window)
        assert result.succeeded, result.run.error

    def objects(data):
        return {o["id"]: o for objs in data["near_earth_objects"].values() for o in objs}

    a, b = objects(fetch_a), objects(fetch_b)
    stored = dict(query(db, "SELECT neo_id, absolute_magnitude_h FROM neo"))
    for neo_id, obj in b.items():  # every NEO of fetchB holds fetchB's values
        assert stored[neo_id] == obj.get("absolute_magnitude_h")
    changed = [
        i
        for i in a.keys() & b.keys()
        if a[i].get("absolute_magnitude_h") != b[i].get("absolute_magnitude_h")
    ]
    assert changed  # the fixture really revises values
    miss = dict(query(db, "SELECT neo_id, miss_distance_km FROM neo_close_approach"))
    for neo_id, obj in b.items():
        assert miss[neo_id] == float(obj["close_approach_data"][0]["miss_distance"]["kilometers"])
    # Decision (docs/nasa-sources.md): a NEO missing from a re-pulled window is kept, with
    # the values last seen. NeoWs says nothing about why it vanished; deleting on absence
    # would also delete on any truncated answer.
    vanished = set(a) - set(b)
    assert vanished == {"3002856"}
    assert stored["3002856"] == a["3002856"]["absolute_magnitude_h"]
    assert query(db, "SELECT COUNT(*) FROM neo_close_approach WHERE neo_id = '3002856'") == [(1,)]
    assert query(db, "SELECT COUNT(*) FROM neo")[0][0] == len(set(a) | set(b))
    hazardous = query(db, "SELECT SUM(hazardous_approaches) FROM daily_summary")[0][0]
    b_hazardous = sum(o["is_potentially_hazardous_asteroid"] for o in b.values())
    a_only_hazardous = sum(a[i]["is_potentially_hazardous_asteroid"] for i in vanished)
    assert hazardous == b_hazardous + a_only_hazardous
