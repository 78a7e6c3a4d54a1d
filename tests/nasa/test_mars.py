"""nasa.mars_photos: manifest-driven fetches, both rover shapes, paging, the key policy."""

from __future__ import annotations

import datetime as dt

import pytest
from etl_nasa_sources import MarsPhotosSource
from etl_nasa_sources.mars_photos import parse_photo
from etl_nasa_sources.nasa_api import NasaDataError
from hypothesis import HealthCheck, given, settings

from tests.nasa.conftest import KEY, fixtures_dir, last_state, records, run_source
from tests.simulator import NasaSimulator
from tests.simulator.dataset import load_fixture
from tests.simulator.strategies import mars_photos


def mars(sim, **config):
    return MarsPhotosSource({"api_url": sim.mars_url, "api_key": KEY, **config})


def test_only_sols_whose_count_changed_are_fetched(sim):
    source = mars(sim, rovers=["perseverance"])
    first = run_source(source)
    rows = sim.dataset.manifest_rows("perseverance")
    fetched = sim.count("/mars-photos/api/v1/rovers/perseverance/photos")
    assert fetched == len(last_state(first)["rovers"]["perseverance"]["sols"]) > 0
    assert len(records(first, "mars_photo")) == sum(
        r["total_photos"]
        for r in rows
        if str(r["sol"]) in last_state(first)["rovers"]["perseverance"]["sols"]
    )
    changed = rows[-3]
    sim.dataset.set_sol_count("perseverance", changed["sol"], changed["total_photos"] + 2)
    sim.clear_log()
    second = run_source(source, state=last_state(first))
    photo_calls = [r.params for r in sim.requests if r.path.endswith("/photos")]
    assert photo_calls == [{"sol": str(changed["sol"])}]
    assert len(records(second, "mars_photo")) == changed["total_photos"] + 2


def test_sols_absent_from_the_manifest_are_not_requested():
    manifest = load_fixture(fixtures_dir() / "mars/curiosity_manifest_2019-09-28.json")
    sols = {r["sol"] for r in manifest["photo_manifest"]["photos"]}
    missing = sorted(set(range(manifest["photo_manifest"]["max_sol"] + 1)) - sols)
    assert len(missing) == 260
    with NasaSimulator(fixtures=fixtures_dir()) as sim:
        run_source(mars(sim, rovers=["curiosity"]), since=dt.date(2019, 6, 1))
        asked = {int(r.params["sol"]) for r in sim.requests if r.path.endswith("/photos")}
    assert asked and not asked & set(missing)


def test_since_until_select_sols_by_earth_date(sim):
    since, until = dt.date(2024, 3, 1), dt.date(2024, 3, 10)
    batches = run_source(mars(sim, rovers=["curiosity"]), since=since, until=until)
    dates = {r["earth_date"] for r in records(batches, "mars_photo")}
    assert dates and all(since <= d <= until for d in dates)


def test_both_shapes_of_the_nested_rover_object():
    recorded = load_fixture(fixtures_dir() / "mars/curiosity_sol1000.json")["photos"][0]
    assert "max_sol" in recorded["rover"]  # the 2023 shape
    old = {
        **recorded,
        "rover": {
            k: recorded["rover"][k] for k in ("id", "name", "landing_date", "launch_date", "status")
        },
    }
    new_record, old_record = parse_photo(recorded, "curiosity"), parse_photo(old, "curiosity")
    assert new_record == old_record  # rover aggregates are the manifest's, not the photo's
    assert new_record["rover"] == "Curiosity" and new_record["rover_id"] == 5
    assert new_record["raw"]["rover"]["landing_date"] == "2012-08-06"


def test_recorded_sol_1000_loads_856_photos_with_mixed_extensions():
    with NasaSimulator(fixtures=fixtures_dir()) as sim:
        batches = run_source(
            mars(sim, rovers=["curiosity"]), since=dt.date(2015, 5, 30), until=dt.date(2015, 5, 30)
        )
    rows = records(batches, "mars_photo")
    assert len(rows) == 856
    assert {r["img_src"].rsplit(".", 1)[1] for r in rows} >= {"JPG", "jpg"}
    assert sum(r["camera"] == "MAST" for r in rows) == 838


def test_latest_photos_key_is_accepted():
    data = load_fixture(fixtures_dir() / "mars/curiosity_latest_photos_2020-05-09.json")
    photos = MarsPhotosSource._photos(data, "curiosity", 2758)
    assert len(photos) == len(data["latest_photos"])


def test_paging_when_a_mirror_needs_it():
    with NasaSimulator(fixtures=None, mars_page_size=25, mars_scale=3) as sim:
        source = mars(sim, rovers=["curiosity"], page_size=25)
        batches = run_source(source, since=dt.date(2024, 5, 1), until=dt.date(2024, 5, 20))
        rows = sim.dataset.manifest_rows("curiosity")
        expected = sum(
            r["total_photos"]
            for r in rows
            if dt.date(2024, 5, 1) <= dt.date.fromisoformat(r["earth_date"]) <= dt.date(2024, 5, 20)
        )
        assert len(records(batches, "mars_photo")) == expected
        assert any(r.params.get("page") == "2" for r in sim.requests)
        # Without paging, the same mirror would have cut every sol at 25 photos.
        unpaged = run_source(
            mars(sim, rovers=["curiosity"]), since=dt.date(2024, 5, 1), until=dt.date(2024, 5, 20)
        )
        assert len(records(unpaged, "mars_photo")) < expected


def test_nasa_key_is_not_sent_to_a_third_party_mirror(sim):
    run_source(mars(sim, rovers=["perseverance"]))
    assert {r.key_in for r in sim.requests} == {None}


def test_key_is_sent_to_a_mirror_when_asked(sim):
    run_source(mars(sim, rovers=["perseverance"], send_api_key=True))
    assert {r.key_in for r in sim.requests} == {"header"}


def test_unknown_rover_is_a_clear_error(sim):
    from etl_nasa_sources.nasa_api import NasaBadRequestError

    with pytest.raises(NasaBadRequestError, match="Invalid Rover Name"):
        run_source(mars(sim, rovers=["zhurong"]))


def test_state_keeps_only_the_lookback_sols(sim):
    batches = run_source(
        mars(sim, rovers=["curiosity"], lookback_days=10),
        since=dt.date(2024, 1, 1),
        until=dt.date(2024, 6, 30),
    )
    state = last_state(batches)["rovers"]["curiosity"]
    assert state["through"] == "2024-06-30"
    kept = {int(s) for s in state["sols"]}
    dates = {r["sol"]: r["earth_date"] for r in sim.dataset.manifest_rows("curiosity")}
    assert kept and all(dates[s] > "2024-06-20" for s in kept)


def test_photo_of_another_sol_is_refused():
    photo = load_fixture(fixtures_dir() / "mars/perseverance_sol0.json")["photos"][0]

    class OneSol(MarsPhotosSource):
        def _fetch_sol(self, api, rover, sol):
            return [photo]  # always sol 0, whatever was asked

    with NasaSimulator(fixtures=None) as sim:
        source = OneSol({"api_url": sim.mars_url, "rovers": ["perseverance"]})
        with pytest.raises(NasaDataError, match="another sol"):
            run_source(source, since=dt.date(2024, 1, 1), until=dt.date(2024, 1, 5))


@given(mars_photos())
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_photos_map_every_field(photo):
    record = parse_photo(photo, "curiosity")
    assert record["photo_id"] == photo["id"] and record["sol"] == photo["sol"]
    assert set(record["raw"]) <= {"camera", "rover"}
    assert set(record["raw"].get("rover", {})) == {"landing_date", "launch_date", "status"}
