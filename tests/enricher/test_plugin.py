"""The ``image_enricher.analyze`` enricher, in-process and remote, and inside pipeline runs."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from image_enricher.app import create_app
from image_enricher.enricher import RESULT_COLUMNS, AnalyzeImages
from image_enricher.settings import Settings
from werkzeug.serving import make_server

from etlcore.contract import Batch, Record
from etlcore.secrets import Secret
from etlcore.testing.context import make_step_context
from etlcore.testing.pipeline import PipelineHarness
from etlcore.testing.sqlite_sink import TemporarySqliteSink
from tests.enricher.conftest import LOOPBACK_NETWORKS
from tests.imageserver import ImageServer

KEY = "plugin-test-key-7"


def local_config(server: ImageServer, **extra: Any) -> dict[str, Any]:
    return {
        "allowed_hosts": [server.authority],
        "allow_private_networks": list(LOOPBACK_NETWORKS),
        **extra,
    }


def event(source_id: str, media_type: str, url: str | None, source: str = "apod") -> Record:
    return {"source": source, "source_id": source_id, "media_type": media_type, "media_url": url}


def fetches(server: ImageServer, marker: str) -> int:
    return sum(marker in request.path for request in server.requests)


def test_in_process_fills_every_row(image_server: ImageServer) -> None:
    rows = [
        event("1", "image", image_server.url("/p1/a.jpg", w=1920, h=1080, variant="progressive")),
        event("2", "video", "https://www.youtube.com/embed/abc"),
        event("3", "other", None),
        event("4", "image", image_server.url("/p1/page.html")),
        event("5", "image", image_server.url("/p1/b.png", w=1024, h=1024), source="mars_photo"),
        event("6", "image", "http://169.254.169.254/latest/meta-data/"),
    ]
    enricher = AnalyzeImages(local_config(image_server))
    before = dt.datetime.now(dt.UTC)
    try:
        out = enricher.enrich(Batch({"nasa_event": rows, "apod": [{"x": 1}]}), make_step_context())
    finally:
        enricher.close()

    by_id = {row["source_id"]: row for row in out.records["nasa_event"]}
    assert len(by_id) == 6 and out.records["apod"] == [{"x": 1}]  # other streams untouched
    ok = by_id["1"]
    assert (ok["image_width"], ok["image_height"], ok["image_format"]) == (1920, 1080, "JPEG")
    assert (ok["enrich_status"], ok["enrich_error"]) == ("ok", None)
    assert 0 < ok["image_bytes_read"] <= 64 * 1024 + 1024
    assert ok["enriched_at"].tzinfo is not None and ok["enriched_at"] >= before
    assert (by_id["5"]["image_width"], by_id["5"]["image_format"]) == (1024, "PNG")
    for skipped in ("2", "3"):
        assert by_id[skipped]["enrich_status"] == "skipped"
        assert all(by_id[skipped][c] is None for c in RESULT_COLUMNS if c != "enrich_status")
    assert (by_id["4"]["enrich_status"], by_id["4"]["enrich_error"]) == ("failed", "not_an_image")
    assert by_id["4"]["image_width"] is None and by_id["4"]["enriched_at"] is not None
    assert by_id["6"]["enrich_error"] == "host_not_allowed"


def test_the_same_url_in_one_batch_is_fetched_once(image_server: ImageServer) -> None:
    url = image_server.url("/once/a.gif", w=8, h=6)
    enricher = AnalyzeImages(local_config(image_server))
    rows = [event(str(i), "image", url) for i in range(4)]
    enricher.enrich(Batch({"nasa_event": rows}), make_step_context())
    enricher.close()
    assert fetches(image_server, "/once/") == 1
    assert {row["image_width"] for row in rows} == {8}


def stored_lookup(stored: dict[tuple[Any, ...], Record], calls: list[Any]):  # type: ignore[no-untyped-def]
    def lookup(
        stream: str, keys: Sequence[tuple[Any, ...]], columns: Sequence[str]
    ) -> dict[tuple[Any, ...], Record]:
        calls.append((stream, list(keys), list(columns)))
        return {key: stored[key] for key in keys if key in stored}

    return lookup


def test_rows_already_enriched_with_the_same_url_are_not_fetched(
    image_server: ImageServer,
) -> None:
    same = image_server.url("/reuse/same.jpg", w=100, h=50)
    moved = image_server.url("/reuse/moved.jpg", w=300, h=200)
    retried = image_server.url("/reuse/retried.jpg", w=30, h=20)
    earlier = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    done = {
        "image_width": 100,
        "image_height": 50,
        "image_format": "JPEG",
        "image_bytes_read": 900,
        "enrich_status": "ok",
        "enrich_error": None,
        "enriched_at": earlier,
    }
    stored = {
        ("apod", "same"): {**done, "media_url": same},
        ("apod", "moved"): {**done, "media_url": image_server.url("/reuse/old.jpg")},
        ("apod", "retried"): {
            **done,
            "media_url": retried,
            "enrich_status": "failed",
            "enrich_error": "timeout",
        },
    }
    calls: list[Any] = []
    rows = [
        event("same", "image", same),
        event("moved", "image", moved),
        event("retried", "image", retried),
    ]
    enricher = AnalyzeImages(local_config(image_server))
    enricher.enrich(
        Batch({"nasa_event": rows}), make_step_context(lookup=stored_lookup(stored, calls))
    )
    enricher.close()

    ((stream, keys, columns),) = calls
    assert stream == "nasa_event" and set(keys) == set(stored)
    assert "media_url" in columns and set(RESULT_COLUMNS) <= set(columns)
    assert fetches(image_server, "/reuse/same.jpg") == 0
    assert rows[0]["enriched_at"] == earlier and rows[0]["image_bytes_read"] == 900
    assert fetches(image_server, "/reuse/moved.jpg") == 1
    assert (rows[1]["image_width"], rows[1]["enrich_status"]) == (300, "ok")
    assert fetches(image_server, "/reuse/retried.jpg") == 1
    assert (rows[2]["enrich_status"], rows[2]["enrich_error"]) == ("ok", None)


def test_a_failing_lookup_means_fetching_again(image_server: ImageServer) -> None:
    def broken(*args: Any) -> dict[tuple[Any, ...], Record]:
        raise RuntimeError("sink went away")

    rows = [event("1", "image", image_server.url("/lookup-broken.jpg", w=5, h=5))]
    enricher = AnalyzeImages(local_config(image_server))
    enricher.enrich(Batch({"nasa_event": rows}), make_step_context(lookup=broken))
    enricher.close()
    assert rows[0]["enrich_status"] == "ok"


def test_bad_in_process_config_is_refused() -> None:
    with pytest.raises(ValueError, match="IP addresses"):
        AnalyzeImages({"allowed_hosts": "127.0.0.1"})
    with pytest.raises(ValueError, match="CIDR"):
        AnalyzeImages({"allow_private_networks": ["localhost"]})


# -- remote mode -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service(image_server: ImageServer) -> Iterator[str]:
    settings = Settings.from_env(
        {
            "ENRICHER_API_KEY": KEY,
            "ENRICHER_ALLOWED_HOSTS": image_server.authority,
            "ENRICHER_ALLOW_PRIVATE_NETWORKS": ",".join(LOOPBACK_NETWORKS),
            "ENRICHER_MAX_BATCH": "10",
        }
    )
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_remote_mode_uses_the_batch_endpoint(image_server: ImageServer, service: str) -> None:
    rows = [
        event(str(i), "image", image_server.url(f"/remote/{i}.webp", w=100 + i, h=50))
        for i in range(12)
    ]
    rows.append(event("bad", "image", image_server.url("/remote/page.html")))
    rows.append(event("vid", "video", "https://youtube.com/x"))
    enricher = AnalyzeImages(
        {"service_url": service, "api_key": Secret(KEY, "ENRICHER_API_KEY"), "batch_size": 5}
    )
    enricher.enrich(Batch({"nasa_event": rows}), make_step_context())
    assert enricher.client is not None and enricher.client.calls == 3  # 13 URLs, 5 per call
    enricher.close()
    assert [row["image_width"] for row in rows[:12]] == [100 + i for i in range(12)]
    assert {row["image_format"] for row in rows[:12]} == {"WEBP"}
    assert (rows[12]["enrich_status"], rows[12]["enrich_error"]) == ("failed", "not_an_image")
    assert rows[13]["enrich_status"] == "skipped"


def test_remote_mode_with_a_wrong_key_marks_rows_unauthorized(
    image_server: ImageServer, service: str
) -> None:
    rows = [event("1", "image", image_server.url("/remote/k.jpg"))]
    enricher = AnalyzeImages({"service_url": service + "/analyze-image", "api_key": "nope"})
    enricher.enrich(Batch({"nasa_event": rows}), make_step_context())
    enricher.close()
    assert (rows[0]["enrich_status"], rows[0]["enrich_error"]) == ("failed", "unauthorized")


class _Down(BaseHTTPRequestHandler):
    hits = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        with self.lock:
            type(self).hits += 1
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_circuit_breaker_stops_calling_a_failing_service(image_server: ImageServer) -> None:
    handler = type("Down", (_Down,), {"hits": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        rows = [event(str(i), "image", image_server.url(f"/down/{i}.jpg")) for i in range(10)]
        enricher = AnalyzeImages(
            {
                "service_url": f"http://127.0.0.1:{server.server_port}",
                "batch_size": 1,
                "workers": 1,
                "circuit_breaker_failures": 3,
            }
        )
        enricher.enrich(Batch({"nasa_event": rows}), make_step_context())
        more = [event("later", "image", image_server.url("/down/later.jpg"))]
        enricher.enrich(Batch({"nasa_event": more}), make_step_context())  # same run
        enricher.close()
    finally:
        server.shutdown()
        server.server_close()
    assert handler.hits == 3
    assert {(r["enrich_status"], r["enrich_error"]) for r in rows + more} == {
        ("failed", "service_unavailable")
    }
    assert fetches(image_server, "/down/") == 0


def test_circuit_breaker_when_nothing_listens(image_server: ImageServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rows = [event(str(i), "image", image_server.url(f"/gone/{i}.jpg")) for i in range(6)]
    enricher = AnalyzeImages(
        {"service_url": f"http://127.0.0.1:{port}", "batch_size": 1, "workers": 1}
    )
    enricher.enrich(Batch({"nasa_event": rows}), make_step_context())
    assert enricher.client is not None and enricher.client.calls == 3
    enricher.close()
    assert {r["enrich_error"] for r in rows} == {"service_unavailable"}


# -- inside a pipeline run ---------------------------------------------------------------------

NASA_EVENT_COLUMNS = {
    "source": "string!",
    "source_id": "string!",
    "media_type": "string",
    "media_url": "string",
    "image_width": "integer",
    "image_height": "integer",
    "image_format": "string",
    "image_bytes_read": "integer",
    "enrich_status": "string",
    "enrich_error": "string",
    "enriched_at": "timestamp",
}


def pipeline(
    server: ImageServer, sink_step: dict[str, Any], enrich: dict[str, Any]
) -> dict[str, Any]:
    """nasa_event rows (an image with EXIF, a video, an HTML page, a PNG) → enricher → sink."""
    records = [
        event("2024-01-01", "image", server.url("/run/a.jpg", w=1200, h=800, variant="exif")),
        event("2024-01-02", "video", "https://www.youtube.com/embed/x"),
        event("2024-01-03", "image", server.url("/run/page.html")),
        event("1001", "image", server.url("/run/m.png", w=1024, h=1024), source="mars_photo"),
    ]
    return {
        "name": "enrich_test",
        "sources": [
            {
                "plugin": "testing.records",
                "stream": "nasa_event",
                "primary_key": ["source", "source_id"],
                "columns": NASA_EVENT_COLUMNS,
                "records": records,
            }
        ],
        "enrich": [{"plugin": "image_enricher.analyze", **enrich}],
        "sinks": [sink_step],
    }


@pytest.mark.parametrize("mode", ["in-process", "remote"])
def test_pipeline_runs_enrich_once_and_retry_failures(
    mode: str,
    image_server: ImageServer,
    service: str,
    etl_pipeline: PipelineHarness,
    etl_sqlite_sink: TemporarySqliteSink,
) -> None:
    enrich = (
        local_config(image_server)
        if mode == "in-process"
        else {"service_url": service, "api_key": KEY}
    )
    spec = pipeline(image_server, etl_sqlite_sink.step, enrich)

    first = etl_pipeline.run(spec)
    assert first.succeeded, first.run.error
    assert first.run.counts["nasa_event"].loaded == 4  # every row loads, failures included
    rows = {r["source_id"]: r for r in etl_sqlite_sink.rows("nasa_event")}
    assert (rows["2024-01-01"]["image_width"], rows["2024-01-01"]["image_height"]) == (1200, 800)
    assert rows["2024-01-01"]["enrich_status"] == "ok"
    assert rows["1001"]["image_format"] == "PNG"
    assert rows["2024-01-02"]["enrich_status"] == "skipped"
    assert (rows["2024-01-03"]["enrich_status"], rows["2024-01-03"]["enrich_error"]) == (
        "failed",
        "not_an_image",
    )

    fetched_ok = fetches(image_server, "/run/a.jpg"), fetches(image_server, "/run/m.png")
    fetched_failed = fetches(image_server, "/run/page.html")
    second = etl_pipeline.run(spec)
    assert second.succeeded, second.run.error
    assert (fetches(image_server, "/run/a.jpg"), fetches(image_server, "/run/m.png")) == fetched_ok
    assert fetches(image_server, "/run/page.html") == fetched_failed + 1  # retried
    counts = second.run.counts["nasa_event"]
    # Only the retried failure is rewritten (new enriched_at); ok and skipped rows are unchanged.
    assert (counts.unchanged, counts.updated, counts.inserted) == (3, 1, 0)
    again = {r["source_id"]: r for r in etl_sqlite_sink.rows("nasa_event")}
    assert again["2024-01-01"] == rows["2024-01-01"]  # unchanged, enriched_at included


def test_hosts_and_networks_can_come_as_one_comma_separated_string() -> None:
    # What `${env:ENRICHER_ALLOWED_HOSTS:-…}` gives in pipelines/nasa.yaml.
    enricher = AnalyzeImages(
        {"allowed_hosts": "images.example.org, localhost:8900", "allow_private_networks": ""}
    )
    assert enricher.analyzer is not None
    policy = enricher.analyzer.policy
    assert policy.allowed_hosts == {("images.example.org", None), ("localhost", 8900)}
    assert policy.allow_networks == ()
    defaults = AnalyzeImages({"allowed_hosts": ""}).analyzer
    assert defaults is not None and ("apod.nasa.gov", None) in defaults.policy.allowed_hosts


def test_the_config_schema_is_closed(etl_pipeline: PipelineHarness) -> None:
    from etlcore.config import ConfigError

    assert AnalyzeImages.config_schema["additionalProperties"] is False
    spec = {
        "name": "x",
        "sources": [],
        "enrich": [{"plugin": "image_enricher.analyze", "alowed_hosts": ["typo.example"]}],
        "sinks": [],
    }
    with pytest.raises(ConfigError, match="alowed_hosts"):
        etl_pipeline.validate(spec)


def test_remote_service_url_must_be_http_without_credentials() -> None:
    with pytest.raises(ValueError, match="http"):
        AnalyzeImages({"service_url": "ftp://service.example"})
    with pytest.raises(ValueError, match="api_key"):
        AnalyzeImages({"service_url": "https://user:pw@service.example"})
