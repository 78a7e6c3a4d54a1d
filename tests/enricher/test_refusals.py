"""Hostile or broken upstreams: each refused with its code, within the deadline, body unread."""

from __future__ import annotations

import warnings

import pytest
from image_enricher.errors import AnalysisError, ErrorCode
from image_enricher.fetch import ImageAnalyzer
from PIL import Image

from tests.enricher.conftest import local_analyzer
from tests.imageserver import UPSTREAM_SECRET_BODY, ImageServer


def refused(analyzer: ImageAnalyzer, url: str) -> AnalysisError:
    with pytest.raises(AnalysisError) as caught:
        analyzer.analyze(url)
    return caught.value


def test_decompression_bomb(image_server: ImageServer, analyzer: ImageAnalyzer) -> None:
    error = refused(analyzer, image_server.url("/bomb.png", w=50000, h=50000))
    assert error.code == ErrorCode.TOO_MANY_PIXELS


def test_pillows_bomb_warning_is_an_error(image_server: ImageServer) -> None:
    # 10000 x 9000 = 90 MP: Pillow only warns (limit 89.5 MP, error at twice that). Our cap is
    # raised above it here, so only the warning-as-error (what create_app sets) refuses it.
    analyzer = local_analyzer(image_server, max_pixels=100_000_000)
    url = image_server.url("/bomb.png", w=10000, h=9000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        assert refused(analyzer, url).code == ErrorCode.TOO_MANY_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        assert analyzer.analyze(url).width == 10000  # the configured cap decides


def test_our_pixel_cap_is_below_pillows(image_server: ImageServer) -> None:
    analyzer = local_analyzer(image_server, max_pixels=1_000_000)
    error = refused(analyzer, image_server.url("/bomb.png", w=1001, h=1000))
    assert error.code == ErrorCode.TOO_MANY_PIXELS


def test_html_page(image_server: ImageServer, analyzer: ImageAnalyzer) -> None:
    assert refused(analyzer, image_server.url("/page.html")).code == ErrorCode.NOT_AN_IMAGE


def test_html_page_that_claims_to_be_a_jpeg(
    image_server: ImageServer, analyzer: ImageAnalyzer
) -> None:
    error = refused(analyzer, image_server.url("/page.html", ctype="image/jpeg"))
    assert error.code == ErrorCode.NOT_AN_IMAGE


@pytest.mark.parametrize("ctype", ["text/plain", "application/octet-stream", "image/svg+xml"])
def test_image_with_a_non_image_content_type(
    image_server: ImageServer, analyzer: ImageAnalyzer, ctype: str
) -> None:
    error = refused(analyzer, image_server.url("/x.jpg", w=20, h=20, ctype=ctype))
    assert error.code == ErrorCode.NOT_AN_IMAGE


def test_60_mb_stream_with_its_length_declared(
    image_server: ImageServer, analyzer: ImageAnalyzer
) -> None:
    error = refused(analyzer, image_server.url("/endless.jpg", mb=60))
    assert error.code == ErrorCode.TOO_LARGE


def test_60_mb_stream_without_a_length_stops_at_the_header_cap(
    image_server: ImageServer,
) -> None:
    analyzer = local_analyzer(image_server, max_header_bytes=256 * 1024)
    error = refused(analyzer, image_server.url("/endless.jpg", mb=60, no_length=1))
    assert error.code == ErrorCode.TOO_LARGE
    assert "262144" in error.message


def test_stalled_stream_times_out(image_server: ImageServer) -> None:
    analyzer = local_analyzer(image_server, read_timeout=0.3, deadline=1.0)
    error = refused(analyzer, image_server.url("/stalled.jpg", w=40, h=40, stall=30))
    assert error.code == ErrorCode.TIMEOUT


def test_trickling_stream_hits_the_total_deadline(image_server: ImageServer) -> None:
    # A byte every 50 ms: no single read times out, only the total deadline can stop it.
    analyzer = local_analyzer(image_server, read_timeout=5.0, deadline=0.5)
    error = refused(analyzer, image_server.url("/trickle.jpg", w=40, h=40, trickle_ms=50))
    assert error.code == ErrorCode.TIMEOUT


def test_slow_first_byte_hits_the_total_deadline(image_server: ImageServer) -> None:
    analyzer = local_analyzer(image_server, read_timeout=5.0, deadline=0.3)
    error = refused(analyzer, image_server.url("/late.jpg", w=40, h=40, latency_ms=3000))
    assert error.code == ErrorCode.TIMEOUT


@pytest.mark.parametrize("status", [403, 404, 500, 503])
def test_upstream_error_status_is_reported_without_its_body(
    image_server: ImageServer, analyzer: ImageAnalyzer, status: int
) -> None:
    error = refused(analyzer, image_server.url(f"/status/{status}"))
    assert error.code == ErrorCode.UPSTREAM_STATUS
    assert str(status) in error.message
    assert UPSTREAM_SECRET_BODY not in str(error)


def test_three_redirects_are_followed(image_server: ImageServer, analyzer: ImageAnalyzer) -> None:
    info = analyzer.analyze(image_server.url("/chain/3/moved.jpg", w=30, h=20))
    assert (info.width, info.height) == (30, 20)


def test_a_fourth_redirect_is_refused(image_server: ImageServer, analyzer: ImageAnalyzer) -> None:
    error = refused(analyzer, image_server.url("/chain/4/moved.jpg", w=30, h=20))
    assert error.code == ErrorCode.TOO_MANY_REDIRECTS


def test_relative_redirect_is_resolved_and_checked(
    image_server: ImageServer, analyzer: ImageAnalyzer
) -> None:
    info = analyzer.analyze(image_server.url("/redirect", to="/rel.gif%3Fw%3D7%26h%3D5"))
    assert (info.width, info.height, info.format) == (7, 5, "GIF")


def test_truncated_image(image_server: ImageServer, analyzer: ImageAnalyzer) -> None:
    error = refused(analyzer, image_server.url("/endless.jpg", mb=0.1))
    assert error.code == ErrorCode.NOT_AN_IMAGE


def test_connection_refused(image_server: ImageServer) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from image_enricher.policy import UrlPolicy

    analyzer = ImageAnalyzer(UrlPolicy.build([f"localhost:{port}"], ["127.0.0.0/8"]))
    assert refused(analyzer, f"http://localhost:{port}/a.jpg").code == ErrorCode.CONNECT_ERROR
