"""The HTTP helper against a scripted server on 127.0.0.1: retries, deadline, budget, redaction."""

from __future__ import annotations

import itertools
import logging
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from etlcore.http import REDACTED, HttpClient, HttpError
from etlcore.secrets import Secret
from tests.engine.http_server import Reply, ScriptedServer


class VirtualTime:
    """An injected sleep that returns at once and moves an injected clock forward instead.

    The clock is real time plus everything "slept", so deadlines still see real I/O time.
    """

    def __init__(self) -> None:
        self.slept: list[float] = []
        self._offset = 0.0
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self._offset += seconds

    def clock(self) -> float:
        with self._lock:
            return time.monotonic() + self._offset


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running


@pytest.fixture
def vtime() -> VirtualTime:
    return VirtualTime()


def make_client(server: ScriptedServer, vtime: VirtualTime, **kwargs: Any) -> HttpClient:
    options: dict[str, Any] = {
        "sleep": vtime.sleep,
        "clock": vtime.clock,
        "backoff_jitter": 0.0,
        "backoff_factor": 0.1,
        "max_retries": 4,
        "deadline": 30.0,
    }
    options.update(kwargs)
    return HttpClient(server.base_url, **options)


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- 429 and Retry-After ------------------------------------------------------------------------


def test_429_retry_after_is_honoured(server: ScriptedServer, vtime: VirtualTime) -> None:
    server.respond("/apod", Reply(429, headers={"Retry-After": "7"}), Reply(json={"ok": 1}))
    with make_client(server, vtime) as client:
        assert client.get_json("/apod") == {"ok": 1}
        assert vtime.slept == [7.0]
        assert client.requests_made == 2 == server.count("/apod")


def test_huge_retry_after_is_capped(server: ScriptedServer, vtime: VirtualTime) -> None:
    server.respond("/apod", Reply(429, headers={"Retry-After": "86400"}), Reply(json=[]))
    with make_client(server, vtime, retry_after_max=2.5) as client:
        assert client.get_json("/apod") == []
    assert vtime.slept == [2.5]


def test_retry_after_on_503_beats_the_backoff(server: ScriptedServer, vtime: VirtualTime) -> None:
    server.respond("/feed", Reply(503, headers={"Retry-After": "3"}), Reply(json={}))
    with make_client(server, vtime, backoff_factor=10.0) as client:
        client.get_json("/feed")
    assert vtime.slept == [3.0]


def test_real_retry_after_is_waited_for(server: ScriptedServer) -> None:
    server.respond("/apod", Reply(429, headers={"Retry-After": "1"}), Reply(json={"ok": 1}))
    with HttpClient(server.base_url, backoff_jitter=0.0) as client:  # real time.sleep
        assert client.get_json("/apod") == {"ok": 1}
    first, second = server.seen
    assert second.at - first.at >= 1.0  # a lower bound only: sleep never returns early


def test_retry_after_beyond_the_deadline_fails_at_once(
    server: ScriptedServer, vtime: VirtualTime
) -> None:
    server.respond("/apod", Reply(429, headers={"Retry-After": "50"}), Reply(json={}))
    client = make_client(server, vtime, deadline=5.0, retry_after_max=60.0)
    with client, pytest.raises(HttpError, match="deadline exceeded") as caught:
        client.get_json("/apod")
    assert vtime.slept == []  # no point waiting 50 s for a call that must end in 5
    assert caught.value.retryable
    assert server.count("/apod") == 1


def test_malformed_retry_after_falls_back_to_backoff(
    server: ScriptedServer, vtime: VirtualTime
) -> None:
    server.respond(
        "/apod",
        Reply(429, headers={"Retry-After": "soon"}),
        Reply(429, headers={"Retry-After": "soon"}),
        Reply(json={}),
    )
    with make_client(server, vtime, backoff_factor=0.25) as client:
        client.get_json("/apod")
    assert vtime.slept == [0.5]  # urllib3: the first retry is immediate, then factor * 2**n


def test_429_without_retry_after_backs_off_exponentially(
    server: ScriptedServer, vtime: VirtualTime
) -> None:
    server.respond("/apod", *[Reply(429)] * 4, Reply(json={"ok": 1}))
    factor = 0.1
    with make_client(server, vtime, backoff_factor=factor, max_retries=5) as client:
        assert client.get_json("/apod") == {"ok": 1}
        assert client.requests_made == 5
    # urllib3 retries the first time at once, then waits factor * 2**n
    assert vtime.slept == pytest.approx([factor * 2**n for n in (1, 2, 3)])


def test_backoff_has_jitter_within_bounds(server: ScriptedServer, vtime: VirtualTime) -> None:
    server.respond("/apod", *[Reply(500)] * 5, Reply(json={}))
    factor, jitter = 0.1, 0.05
    with make_client(
        server, vtime, backoff_factor=factor, backoff_jitter=jitter, max_retries=5
    ) as client:
        client.get_json("/apod")
    bases = [factor * 2**n for n in (1, 2, 3, 4)]
    assert len(vtime.slept) == len(bases)
    for waited, base in zip(vtime.slept, bases, strict=True):
        assert base <= waited <= base + jitter
    assert vtime.slept != pytest.approx(bases, abs=1e-9)


def test_backoff_is_capped_by_backoff_max(server: ScriptedServer, vtime: VirtualTime) -> None:
    server.respond("/apod", *[Reply(502)] * 4, Reply(json={}))
    with make_client(server, vtime, backoff_factor=1.0, backoff_max=3.0) as client:
        client.get_json("/apod")
    assert vtime.slept == [2.0, 3.0, 3.0]


# -- 5xx and 4xx --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_then_succeed(
    server: ScriptedServer, vtime: VirtualTime, status: int
) -> None:
    server.respond("/neo", Reply(status), Reply(status), Reply(json={"n": 3}))
    with make_client(server, vtime) as client:
        assert client.get_json("/neo") == {"n": 3}
        assert client.requests_made == 3 == server.count("/neo")


def test_permanent_503_gives_up_after_max_retries(
    server: ScriptedServer, vtime: VirtualTime
) -> None:
    server.always("/apod", Reply(503, body="APOD is down for maintenance"))
    max_retries = 3
    with make_client(server, vtime, max_retries=max_retries) as client:
        with pytest.raises(HttpError) as caught:
            client.get_json("/apod")
        assert client.requests_made == max_retries + 1 == server.count("/apod")
    error = caught.value
    assert error.status == 503
    assert error.retryable
    assert error.body == "APOD is down for maintenance"
    assert "HTTP 503" in str(error) and "APOD is down" in str(error)
    assert f"after {max_retries + 1} attempts" in str(error)


@pytest.mark.parametrize("status", [400, 403, 404])
def test_client_errors_are_not_retried(
    server: ScriptedServer, vtime: VirtualTime, status: int
) -> None:
    server.always("/apod", Reply(status, json={"msg": "No data available for date: 2024-13-01"}))
    with make_client(server, vtime) as client:
        with pytest.raises(HttpError) as caught:
            client.get("/apod", {"date": "2024-13-01"})
        assert client.requests_made == 1 == server.count("/apod")
    error = caught.value
    assert error.status == status
    assert not error.retryable
    assert "No data available" in error.body
    assert f"HTTP {status}" in str(error) and "/apod?date=2024-13-01" in str(error)
    assert vtime.slept == []


def test_long_error_body_is_cut_to_500_characters(
    server: ScriptedServer, vtime: VirtualTime
) -> None:
    server.always("/apod", Reply(400, body="x" * 10_000))
    with make_client(server, vtime) as client, pytest.raises(HttpError) as caught:
        client.get("/apod")
    assert caught.value.body == "x" * 500
    assert len(str(caught.value)) < 400


def test_connection_refused_is_retried_then_fails(vtime: VirtualTime) -> None:
    max_retries = 2
    with HttpClient(
        f"http://127.0.0.1:{free_port()}",
        sleep=vtime.sleep,
        clock=vtime.clock,
        max_retries=max_retries,
        backoff_factor=0.1,
    ) as client:
        with pytest.raises(HttpError) as caught:
            client.get("/apod")
        assert client.requests_made == max_retries + 1
    assert caught.value.status is None
    assert caught.value.retryable
    # said once, as its cause, without urllib3's wrapping
    message = str(caught.value)
    assert "no connection after 3 attempts:" in message, message
    assert "Connection refused" in message, message
    assert "Max retries exceeded" not in message and "host=" not in message, message
    assert message.count("/apod") == 1, message
    assert len(vtime.slept) == 1  # the first retry is immediate, the second waits


# -- deadline and broken bodies -------------------------------------------------------------------


def test_body_that_trickles_in_hits_the_deadline(server: ScriptedServer) -> None:
    # every byte arrives well within the read timeout; only the total deadline can stop it
    server.always("/images", Reply(json={"data": "x" * 5000}, trickle=0.02))
    client = HttpClient(server.base_url, deadline=0.4, read_timeout=5.0)
    with client, pytest.raises(HttpError, match="deadline exceeded") as caught:
        client.get_json("/images")
    assert caught.value.status is None
    assert "body still arriving" in str(caught.value)


def test_headers_that_never_come_are_retried_then_hit_the_deadline(
    server: ScriptedServer,
) -> None:
    server.always("/images", Reply(json={}, delay=10.0))
    with HttpClient(server.base_url, deadline=1.0, read_timeout=0.2, backoff_factor=0.01) as client:
        with pytest.raises(HttpError) as caught:
            client.get_json("/images")
        assert client.requests_made >= 2  # read timeouts were retried until time ran out
    assert caught.value.retryable
    assert caught.value.status is None


def test_no_new_attempt_once_the_deadline_has_passed(server: ScriptedServer) -> None:
    server.always("/apod", Reply(503))
    # the first retry is immediate (no wait to check), yet time is already up: 100 s "pass"
    # as soon as the server has seen one request
    client = HttpClient(
        server.base_url,
        deadline=30.0,
        clock=lambda: time.monotonic() + (100.0 if server.count() else 0.0),
    )
    with client, pytest.raises(HttpError, match="deadline exceeded"):
        client.get("/apod")
    assert server.count("/apod") == 1


def test_truncated_json_is_retried(server: ScriptedServer, vtime: VirtualTime) -> None:
    payload = {"near_earth_objects": {"2024-01-01": [{"id": str(i)} for i in range(50)]}}
    server.respond("/feed", Reply(json=payload, truncate_at=40), Reply(json=payload))
    with make_client(server, vtime) as client:
        assert client.get_json("/feed") == payload
        assert client.requests_made == 2 == server.count("/feed")


def test_always_truncated_json_fails_cleanly(server: ScriptedServer, vtime: VirtualTime) -> None:
    server.always("/feed", Reply(json={"items": list(range(100))}, truncate_at=10))
    max_retries = 2
    with make_client(server, vtime, max_retries=max_retries) as client:
        with pytest.raises(HttpError, match="body broken off") as caught:
            client.get_json("/feed")
        assert client.requests_made == max_retries + 1 == server.count("/feed")
    assert "IncompleteRead" in str(caught.value)
    assert caught.value.retryable


def test_invalid_json_is_retried_then_fails(server: ScriptedServer, vtime: VirtualTime) -> None:
    server.always("/feed", Reply(body='{"items": [1, 2'))  # complete per Content-Length
    with make_client(server, vtime, max_retries=2) as client:
        with pytest.raises(HttpError, match="invalid JSON") as caught:
            client.get_json("/feed")
        assert client.requests_made == 3
    assert caught.value.status is None


def test_invalid_json_then_valid_json(server: ScriptedServer, vtime: VirtualTime) -> None:
    server.respond("/feed", Reply(body="<html>gateway hiccup</html>"), Reply(json={"a": 1}))
    with make_client(server, vtime) as client:
        assert client.get_json("/feed") == {"a": 1}


def test_get_returns_the_body_without_judging_it(
    server: ScriptedServer, vtime: VirtualTime
) -> None:
    server.always("/image.jpg", Reply(body=b"\xff\xd8\xff\xe0 not json"))
    with make_client(server, vtime) as client:
        response = client.get("/image.jpg")
        assert response.content == b"\xff\xd8\xff\xe0 not json"
        assert client.requests_made == 1


# -- the rate budget ------------------------------------------------------------------------------


def test_falling_rate_limit_remaining_slows_down(
    server: ScriptedServer, vtime: VirtualTime, caplog: pytest.LogCaptureFixture
) -> None:
    remaining = [40, 20, 9, 6, 3, 0]
    server.respond(
        "/apod", *[Reply(json={}, headers={"X-RateLimit-Remaining": str(n)}) for n in remaining]
    )
    caplog.set_level(logging.INFO, logger="etlcore.http")
    with make_client(server, vtime, slow_down_below=10, slow_down_max=2.0) as client:
        for _ in remaining:
            client.get_json("/apod")
        assert client.rate_limit_remaining == 0
    # calls 1-3 saw no header or a remaining >= 10; calls 4-6 saw 9, 6, 3: each wait longer
    assert len(vtime.slept) == 3
    assert vtime.slept[0] < vtime.slept[1] < vtime.slept[2] <= 2.0
    assert "X-RateLimit-Remaining is 3" in caplog.text


def test_plenty_of_budget_means_no_waiting(server: ScriptedServer, vtime: VirtualTime) -> None:
    server.always("/apod", Reply(json={}, headers={"X-RateLimit-Remaining": "500"}))
    with make_client(server, vtime, slow_down_below=10) as client:
        for _ in range(5):
            client.get_json("/apod")
        assert client.rate_limit_remaining == 500
    assert vtime.slept == []


def test_rate_budget_is_shared_by_threads(server: ScriptedServer, vtime: VirtualTime) -> None:
    server.always("/apod", Reply(json={}, headers={"X-RateLimit-Remaining": "0"}))
    interval, workers = 1.0, 4
    # real clock: the threads' (recorded, not slept) waits overlap as real sleeps would
    with make_client(
        server, vtime, clock=time.monotonic, slow_down_below=10, slow_down_max=interval
    ) as client:
        client.get_json("/apod")  # learn that the budget is gone
        threads = [
            threading.Thread(target=client.get_json, args=("/apod",)) for _ in range(workers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # the threads queued one interval behind each other instead of all leaving together
    waits = sorted(vtime.slept)
    assert len(waits) == workers
    for earlier, later in itertools.pairwise(waits):
        assert later - earlier > interval / 2
    assert server.count("/apod") == workers + 1


# -- secrets ----------------------------------------------------------------------------------


def test_api_key_in_query_never_logged_or_raised(
    server: ScriptedServer, vtime: VirtualTime, caplog: pytest.LogCaptureFixture
) -> None:
    key = "k" + secrets.token_hex(12)
    # the server echoes the key back in an error body, as some APIs do
    server.respond("/apod", Reply(503), Reply(429))
    server.always("/apod", Reply(403, body=f"bad api_key={key} for /apod?api_key={key}"))
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")  # the CLI quiets it process-wide
    with make_client(server, vtime) as client, pytest.raises(HttpError) as caught:
        client.get("/apod", {"api_key": key, "date": "2024-01-01"})
    assert server.seen[0].query["api_key"] == [key]  # it did travel, to the server only
    error = caught.value
    for text in (str(error), error.url, error.body, repr(error), caplog.text):
        assert key not in text
    assert f"api_key={REDACTED}" in error.url and "date=2024-01-01" in error.url
    assert "urllib3" in caplog.text  # urllib3's own request lines were captured, and redacted


def test_api_key_not_in_connection_error(
    vtime: VirtualTime, caplog: pytest.LogCaptureFixture
) -> None:
    key = "k" + secrets.token_hex(12)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")  # the CLI quiets it process-wide
    with (
        HttpClient(
            f"http://127.0.0.1:{free_port()}", sleep=vtime.sleep, clock=vtime.clock, max_retries=2
        ) as client,
        pytest.raises(HttpError) as caught,
    ):
        client.get("/apod", {"api_key": key})
    assert "no connection after 3 attempts" in str(caught.value)
    assert key not in str(caught.value)
    assert key not in caplog.text
    assert "Retrying" in caplog.text  # urllib3's WARNING with the URL went through the filter


def test_secret_header_revealed_to_server_only(
    server: ScriptedServer, vtime: VirtualTime, caplog: pytest.LogCaptureFixture
) -> None:
    value = "s" + secrets.token_hex(12)
    server.respond("/apod", Reply(500), Reply(json={"ok": 1}))
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")  # the CLI quiets it process-wide
    with make_client(server, vtime, headers={"X-Api-Key": Secret(value, "NASA_API_KEY")}) as client:
        client.get_json("/apod")
        assert value not in repr(vars(client))
    assert [s.headers["x-api-key"] for s in server.seen] == [value, value]
    assert value not in caplog.text


def test_secret_query_parameter_is_revealed_and_redacted(
    server: ScriptedServer, vtime: VirtualTime, caplog: pytest.LogCaptureFixture
) -> None:
    value = "s" + secrets.token_hex(12)
    server.always("/apod", Reply(404))
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")  # the CLI quiets it process-wide
    with make_client(server, vtime) as client, pytest.raises(HttpError) as caught:
        client.get("/apod", {"auth": Secret(value, "AUTH")})  # a name not in secret_names
    assert server.seen[0].query["auth"] == [value]
    assert value not in str(caught.value) and value not in caplog.text
    assert "auth=REDACTED" in caught.value.url


def test_secret_header_does_not_follow_a_redirect_to_another_host(
    server: ScriptedServer, vtime: VirtualTime
) -> None:
    value = "s" + secrets.token_hex(12)
    with ScriptedServer() as elsewhere:
        elsewhere.always("/apod", Reply(json={"there": 1}))
        server.always("/old", Reply(301, headers={"Location": server.url("/apod")}))
        server.always("/away", Reply(302, headers={"Location": elsewhere.url("/apod")}))
        server.always("/apod", Reply(json={"here": 1}))
        headers = {"X-Api-Key": Secret(value, "NASA_API_KEY"), "Accept": "application/json"}
        with make_client(server, vtime, headers=headers) as client:
            assert client.get_json("/old") == {"here": 1}
            assert client.get_json("/away") == {"there": 1}
            assert client.requests_made == 4
        (arrived,) = elsewhere.seen
    assert "x-api-key" not in arrived.headers and arrived.headers["accept"] == "application/json"
    assert [s.headers.get("x-api-key") for s in server.seen] == [value, value, value]


def test_redact() -> None:
    client = HttpClient("https://api.example.test", secret_names=("api_key", "sig"))
    try:
        redacted = client.redact(
            "https://user:hunter22@api.example.test/x?api_key=ABC123&date=2024-01-01&SIG=zz&q="
        )
    finally:
        client.close()
    assert redacted == (
        "https://user:REDACTED@api.example.test/x?api_key=REDACTED&date=2024-01-01&SIG=REDACTED&q="
    )


# -- counting and threads -----------------------------------------------------------------------


def test_on_request_is_called_for_every_wire_request(
    server: ScriptedServer, vtime: VirtualTime
) -> None:
    calls: list[int] = []
    server.respond("/a", Reply(503), Reply(json=1))
    server.respond("/b", Reply(json={"x": 1}, truncate_at=3), Reply(json=2))
    server.always("/c", Reply(404))
    with make_client(server, vtime, on_request=lambda: calls.append(1)) as client:
        client.get_json("/a")
        client.get_json("/b")
        with pytest.raises(HttpError):
            client.get("/c")
        assert len(calls) == client.requests_made == server.count() == 5


def test_paths_and_absolute_urls(server: ScriptedServer, vtime: VirtualTime) -> None:
    server.always("/planetary/apod", Reply(json="apod"))
    with HttpClient(server.base_url + "/planetary/", sleep=vtime.sleep) as client:
        assert client.get_json("apod") == "apod"
        assert client.get_json("/apod") == "apod"
        assert client.get_json(server.url("/planetary/apod")) == "apod"


def test_concurrent_threads_count_exactly(server: ScriptedServer, vtime: VirtualTime) -> None:
    lock = threading.Lock()
    served = [0]

    def every_third_fails(seen: Any) -> Reply:
        with lock:
            served[0] += 1
            n = served[0]
        if n % 3 == 0:
            return Reply(503)
        return Reply(json={"page": seen.query["page"][0]})

    server.handle("/photos", every_third_fails)
    calls: list[int] = []
    results: dict[str, Any] = {}
    errors: list[BaseException] = []

    def worker(thread: int) -> None:
        try:
            for i in range(10):
                page = f"{thread}-{i}"
                results[page] = client.get_json("/photos", {"page": page})["page"]
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    with make_client(
        server, vtime, on_request=lambda: calls.append(1), pool_size=4, max_retries=5
    ) as client:
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert results == {page: page for page in results} and len(results) == 80
        assert client.requests_made == len(calls) == server.count("/photos") == served[0]
        assert client.requests_made > 80  # some were retries


def test_a_public_value_in_a_secret_header_stays_readable(server: ScriptedServer) -> None:
    from etlcore.secrets import Public, mask_known_secrets

    public = "PUBLISHED_" + secrets.token_hex(4)
    private = "private_" + secrets.token_hex(8)
    server.always("/ok", Reply(json={}))
    with HttpClient(server.base_url, headers={"X-Api-Key": Public(public)}) as client:
        client.get_json("/ok")
    with HttpClient(server.base_url, headers={"X-Api-Key": private}) as client:
        client.get_json("/ok")
    assert [seen.headers["x-api-key"] for seen in server.seen] == [public, private]
    assert mask_known_secrets(f"{public} {private}") == f"{public} ***"
