"""The simulator keeps NASA's rules, so that the source tests against it mean something."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from tests.simulator import Faults, NasaSimulator

KEY = {"X-Api-Key": "sim-key"}


def get(sim: NasaSimulator, path: str, headers=KEY, **params):
    return requests.get(f"{sim.base_url}{path}", params=params, headers=headers, timeout=10)


def test_apod_rules(sim):
    today = sim.dataset.today
    future = get(sim, "/planetary/apod", date=(today + dt.timedelta(days=1)).isoformat())
    assert future.status_code == 400
    assert future.json()["msg"] == f"Date must be between Jun 16, 1995 and {today:%b %d, %Y}."
    backwards = get(sim, "/planetary/apod", start_date="2024-01-05", end_date="2024-01-01")
    assert backwards.json() == {
        "code": 400,
        "msg": "start_date cannot be after end_date",
        "service_version": "v1",
    }
    gap = get(sim, "/planetary/apod", date="1995-06-17")
    assert gap.status_code == 404 and gap.json()["msg"] == "No data available for date: 1995-06-17"
    assert len(get(sim, "/planetary/apod", count="3").json()) == 3
    assert get(sim, "/planetary/apod", count="101").status_code == 400
    assert get(sim, "/planetary/apod", count="2", date="2024-01-01").status_code == 400
    assert get(sim, "/planetary/apod", end_date="2024-01-01").status_code == 400


def test_same_request_same_answer_until_revised(sim):
    params = {"start_date": "2024-02-01", "end_date": "2024-02-07"}
    first = get(sim, "/neo/rest/v1/feed", **params).json()
    assert get(sim, "/neo/rest/v1/feed", **params).json() == first
    sim.dataset.revise_neows_day(dt.date(2024, 2, 3))
    revised = get(sim, "/neo/rest/v1/feed", **params).json()
    assert revised["near_earth_objects"]["2024-02-03"] != first["near_earth_objects"]["2024-02-03"]
    assert revised["near_earth_objects"]["2024-02-04"] == first["near_earth_objects"]["2024-02-04"]


def test_neo_lookup_and_unknown_id(sim):
    feed = get(sim, "/neo/rest/v1/feed", start_date="2024-02-01", end_date="2024-02-01").json()
    neo = feed["near_earth_objects"]["2024-02-01"][0]
    assert get(sim, f"/neo/rest/v1/neo/{neo['id']}").json() == neo
    missing = get(sim, "/neo/rest/v1/neo/12")
    assert missing.status_code == 404 and missing.json()["http_error"] == "NOT_FOUND"


def test_key_checks_and_rate_limit_headers():
    with NasaSimulator(fixtures=None, faults=Faults(rate_limit=2), valid_keys={"good"}) as sim:
        assert get(sim, "/planetary/apod", headers={}).json()["error"]["code"] == "API_KEY_MISSING"
        bad = get(sim, "/planetary/apod", headers={"X-Api-Key": "bad"})
        assert bad.status_code == 403 and bad.json()["error"]["code"] == "API_KEY_INVALID"
        ok = get(sim, "/planetary/apod", headers={}, api_key="good", date="2024-01-01")
        assert ok.status_code == 200
        assert ok.headers["X-RateLimit-Limit"] == "2" and ok.headers["X-RateLimit-Remaining"] == "1"
        get(sim, "/planetary/apod", headers={"X-Api-Key": "good"}, date="2024-01-01")
        over = get(sim, "/planetary/apod", headers={"X-Api-Key": "good"}, date="2024-01-01")
        assert over.status_code == 429 and over.json()["error"]["code"] == "OVER_RATE_LIMIT"
        assert [r.key_in for r in sim.requests] == [None, "header", "query", "header", "header"]
        assert all("api_key" not in r.params for r in sim.requests)


def test_injected_faults():
    faults = Faults(fail_next=[503], storm=1, truncate_rate=1.0)
    with NasaSimulator(fixtures=None, faults=faults) as sim:
        assert get(sim, "/planetary/apod", date="2024-01-01").status_code == 503
        assert get(sim, "/planetary/apod", date="2024-01-01").status_code == 429
        truncated = get(sim, "/planetary/apod", date="2024-01-01")
        assert truncated.status_code == 200
        with pytest.raises(ValueError):
            truncated.json()


def test_mars_manifest_matches_photo_lists(sim):
    manifest = requests.get(f"{sim.mars_url}/manifests/perseverance", timeout=10).json()
    rows = manifest["photo_manifest"]["photos"]
    assert manifest["photo_manifest"]["total_photos"] == sum(r["total_photos"] for r in rows)
    last = rows[-1]
    photos = requests.get(
        f"{sim.mars_url}/rovers/perseverance/photos", params={"sol": last["sol"]}, timeout=10
    ).json()["photos"]
    assert len(photos) == last["total_photos"]
    assert {p["earth_date"] for p in photos} == {last["earth_date"]}
    latest = requests.get(f"{sim.mars_url}/rovers/perseverance/latest_photos", timeout=10).json()
    assert latest["latest_photos"] == photos
    bad = requests.get(f"{sim.mars_url}/manifests/zhurong", timeout=10)
    assert bad.status_code == 400 and bad.json() == {"errors": "Invalid Rover Name"}


def test_image_base_url_points_images_at_a_local_server():
    with NasaSimulator(fixtures=None, image_base_url="http://localhost:8900") as sim:
        entries = get(sim, "/planetary/apod", start_date="2024-01-01", end_date="2024-01-20").json()
        images = [e for e in entries if e["media_type"] == "image"]
        assert images and all(e["url"].startswith("http://localhost:8900/") for e in images)
        rows = sim.dataset.manifest_rows("curiosity")
        photo = sim.dataset.photos("curiosity", rows[-1]["sol"])[0]
        assert photo["img_src"].startswith("http://localhost:8900/mars/curiosity/")
