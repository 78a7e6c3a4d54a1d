"""The Flask service through its test client: contract, auth, errors, limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from image_enricher.app import create_app
from image_enricher.settings import Settings, SettingsError

from tests.imageserver import UPSTREAM_SECRET_BODY, ImageServer

KEY = "test-key-0123456789"


def service_env(server: ImageServer, **extra: str) -> dict[str, str]:
    return {
        "ENRICHER_API_KEY": KEY,
        "ENRICHER_ALLOWED_HOSTS": server.authority,
        "ENRICHER_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8,::1/128",
        **extra,
    }


@pytest.fixture
def client(image_server: ImageServer) -> Iterator[FlaskClient]:
    app = create_app(Settings.from_env(service_env(image_server, ENRICHER_MAX_BATCH="5")))
    yield app.test_client()


AUTH = {"Authorization": f"Bearer {KEY}"}


def test_analyze_image_contract(client: FlaskClient, image_server: ImageServer) -> None:
    url = image_server.url("/apod/image/2401/x.jpg", w=1920, h=1080)
    response = client.post("/analyze-image", json={"image_url": url}, headers=AUTH)
    assert response.status_code == 200
    body = response.get_json()
    assert body["width"] == 1920 and body["height"] == 1080 and body["format"] == "JPEG"
    assert 0 < body["bytes_read"] <= 64 * 1024 + 1024


def test_healthz_needs_no_key_and_fetches_nothing(
    client: FlaskClient, image_server: ImageServer
) -> None:
    before = len(image_server.requests)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    assert len(image_server.requests) == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": KEY},
        {"Authorization": f"Basic {KEY}"},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": f"Bearer {KEY}x"},
        {"Authorization": f"Bearer {KEY[:-1]}"},
        {"Authorization": "Bearer "},
    ],
)
@pytest.mark.parametrize("path", ["/analyze-image", "/analyze-images"])
def test_requests_without_the_right_key_are_refused(
    client: FlaskClient, image_server: ImageServer, headers: dict[str, str], path: str
) -> None:
    before = len(image_server.requests)
    body = {"image_url": image_server.url("/a.jpg"), "image_urls": [image_server.url("/a.jpg")]}
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert KEY not in response.get_data(as_text=True)
    assert len(image_server.requests) == before  # nothing fetched for an unauthenticated call


def test_the_service_refuses_to_start_without_a_key() -> None:
    with pytest.raises(SettingsError, match="ENRICHER_API_KEY"):
        create_app(Settings.from_env({}))


def test_allow_no_auth_is_explicit(image_server: ImageServer) -> None:
    env = service_env(image_server, ENRICHER_ALLOW_NO_AUTH="1")
    del env["ENRICHER_API_KEY"]
    client = create_app(Settings.from_env(env)).test_client()
    url = image_server.url("/open.png", w=3, h=2)
    assert client.post("/analyze-image", json={"image_url": url}).get_json()["width"] == 3


@pytest.mark.parametrize(
    ("path", "code", "status"),
    [
        ("/page.html", "not_an_image", 422),
        ("/bomb.png", "too_many_pixels", 422),
        ("/endless.jpg?mb=60", "too_large", 422),
        ("/status/500", "upstream_status", 502),
        ("/chain/4/x.jpg", "too_many_redirects", 502),
    ],
)
def test_analysis_errors_have_stable_codes_and_statuses(
    client: FlaskClient, image_server: ImageServer, path: str, code: str, status: int
) -> None:
    response = client.post(
        "/analyze-image", json={"image_url": image_server.base_url + path}, headers=AUTH
    )
    assert (response.status_code, response.get_json()["error"]) == (status, code)
    assert UPSTREAM_SECRET_BODY not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("url", "code", "status"),
    [
        ("http://169.254.169.254/latest/meta-data/", "host_not_allowed", 403),
        ("https://apod.nasa.gov/a.jpg", "host_not_allowed", 403),
        ("file:///etc/passwd", "invalid_url", 400),
    ],
)
def test_unsafe_urls_are_refused(client: FlaskClient, url: str, code: str, status: int) -> None:
    response = client.post("/analyze-image", json={"image_url": url}, headers=AUTH)
    assert (response.status_code, response.get_json()["error"]) == (status, code)


@pytest.mark.parametrize(
    "body",
    [None, "not json", [], {"image_url": 5}, {"image_url": None}, {"url": "x"}],
)
def test_bad_bodies(client: FlaskClient, body: object) -> None:
    if isinstance(body, str):
        response = client.post(
            "/analyze-image", data=body, content_type="application/json", headers=AUTH
        )
    else:
        response = client.post("/analyze-image", json=body, headers=AUTH)
    assert (response.status_code, response.get_json()["error"]) == (400, "bad_request")


def test_request_body_size_is_limited(client: FlaskClient) -> None:
    big = '{"image_url": "' + "a" * 300_000 + '"}'
    response = client.post(
        "/analyze-image", data=big, content_type="application/json", headers=AUTH
    )
    assert (response.status_code, response.get_json()["error"]) == (413, "payload_too_large")


def test_batch_results_in_order_with_an_error_per_failed_url(
    client: FlaskClient, image_server: ImageServer
) -> None:
    urls = [
        image_server.url("/1.jpg", w=11, h=10),
        image_server.url("/page.html"),
        image_server.url("/3.webp", w=33, h=30),
        "http://10.0.0.1/x.jpg",
        image_server.url("/5.gif", w=55, h=50),
    ]
    response = client.post("/analyze-images", json={"image_urls": urls}, headers=AUTH)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["image_url"] for r in results] == urls
    assert [r.get("width") for r in results] == [11, None, 33, None, 55]
    assert [r.get("error") for r in results] == [
        None,
        "not_an_image",
        None,
        "host_not_allowed",
        None,
    ]


def test_batch_size_is_bounded(client: FlaskClient, image_server: ImageServer) -> None:
    urls = [image_server.url(f"/{i}.jpg") for i in range(6)]
    response = client.post("/analyze-images", json={"image_urls": urls}, headers=AUTH)
    assert (response.status_code, response.get_json()["error"]) == (400, "bad_request")


@pytest.mark.parametrize("body", [{}, {"image_urls": "x"}, {"image_urls": [1]}])
def test_bad_batch_bodies(client: FlaskClient, body: object) -> None:
    response = client.post("/analyze-images", json=body, headers=AUTH)
    assert (response.status_code, response.get_json()["error"]) == (400, "bad_request")


def test_unknown_routes_and_methods_answer_json(client: FlaskClient) -> None:
    assert client.get("/nope", headers=AUTH).get_json()["error"] == "not_found"
    response = client.get("/analyze-image", headers=AUTH)
    assert (response.status_code, response.get_json()["error"]) == (405, "method_not_allowed")
