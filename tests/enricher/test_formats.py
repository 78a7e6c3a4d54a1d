"""Right size and format from the first bytes only, for every format NASA serves."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from image_enricher.errors import AnalysisError, ErrorCode
from image_enricher.fetch import ImageAnalyzer
from image_enricher.headers import HeaderParser, webp_size

from tests.enricher.conftest import local_analyzer
from tests.imageserver import ImageServer
from tests.imageserver.header_bytes import header_bytes
from tests.imageserver.images import make_image

SLACK = 64 * 1024  # the bound: header bytes + 64 KiB


CASES = [
    ("/apod/image/2401/baseline.jpg", "JPEG", "baseline", 1920, 1080),
    ("/apod/image/2401/progressive.jpg", "JPEG", "progressive", 2048, 1536),
    ("/apod/image/2401/exif.jpg", "JPEG", "exif", 1600, 1067),
    ("/apod/image/2401/exif_icc.jpg", "JPEG", "exif_icc", 1344, 1200),
    ("/apod/image/2401/chart.png", "PNG", "rgb", 1280, 960),
    ("/apod/image/2401/chart-interlaced.png", "PNG", "interlaced", 1024, 768),
    ("/apod/image/2401/anim.gif", "GIF", "static", 500, 400),
    ("/apod/image/2401/lossy.webp", "WEBP", "lossy", 1920, 1080),
    ("/apod/image/2401/lossless.webp", "WEBP", "lossless", 1024, 1024),
    ("/apod/image/2401/alpha.webp", "WEBP", "alpha", 1200, 1200),
]


@pytest.mark.parametrize(("path", "fmt", "variant", "width", "height"), CASES)
@pytest.mark.parametrize("ignore_range", [False, True], ids=["range", "range-ignored"])
def test_size_and_format_from_the_header_only(
    image_server: ImageServer,
    analyzer: ImageAnalyzer,
    path: str,
    fmt: str,
    variant: str,
    width: int,
    height: int,
    ignore_range: bool,
) -> None:
    params: dict[str, object] = {"w": width, "h": height, "variant": variant, "noise": 60}
    if ignore_range:
        params["ignore_range"] = 1
    data = make_image(fmt, width, height, variant, 60, 0)
    info = analyzer.analyze(image_server.url(path, **params, seed=0))

    assert (info.width, info.height, info.format) == (width, height, fmt)
    assert 0 < info.bytes_read <= header_bytes(data) + SLACK
    assert info.bytes_read < len(data)  # never the whole file


def test_a_60_kb_exif_block_is_read_past(
    image_server: ImageServer, analyzer: ImageAnalyzer
) -> None:
    info = analyzer.analyze(image_server.url("/exif.jpg", w=800, h=600, variant="exif"))
    assert (info.width, info.height) == (800, 600)
    assert info.bytes_read > 60_000  # the size segment comes after the EXIF block


def test_a_server_that_ignores_range_on_a_big_file_is_not_read_whole(
    image_server: ImageServer,
) -> None:
    analyzer = local_analyzer(image_server)
    url = image_server.url("/big.png", w=2400, h=1800, noise=100, ignore_range=1)
    info = analyzer.analyze(url)
    assert (info.width, info.height, info.format) == (2400, 1800, "PNG")
    assert info.bytes_read <= 41 + SLACK
    request = [r for r in image_server.requests if r.path.startswith("/big.png")][-1]
    assert request.status == 200  # the server did send the whole file's headers


def test_a_png_labelled_as_jpeg_reports_what_it_is(
    image_server: ImageServer, analyzer: ImageAnalyzer
) -> None:
    info = analyzer.analyze(image_server.url("/real.png", w=30, h=20, ctype="image/jpeg"))
    assert info.format == "PNG"


FORMATS = st.sampled_from(
    [
        ("JPEG", "baseline"),
        ("JPEG", "progressive"),
        ("PNG", "rgb"),
        ("GIF", "static"),
        ("WEBP", "lossy"),
        ("WEBP", "lossless"),
        ("WEBP", "alpha"),
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=FORMATS,
    width=st.integers(1, 1200),
    height=st.integers(1, 1200),
    chunk=st.integers(1, 4096),
)
@example(kind=("JPEG", "progressive"), width=1, height=338, chunk=4)  # found by hypothesis
def test_parser_finds_the_size_whatever_the_chunking(
    kind: tuple[str, str], width: int, height: int, chunk: int
) -> None:
    fmt, variant = kind
    data = make_image(fmt, width, height, variant, 0, 0)
    parser = HeaderParser(max_pixels=10**9)
    size = None
    fed = 0
    while size is None and fed < len(data):
        size = parser.feed(data[fed : fed + chunk])
        fed += min(chunk, len(data) - fed)
    if size is None:
        size = parser.finish()
    assert (size.width, size.height, size.format) == (width, height, fmt)
    assert fed <= header_bytes(data) + chunk


@settings(max_examples=25, deadline=None)
@given(kind=FORMATS, width=st.integers(1, 300), height=st.integers(1, 300))
def test_every_prefix_past_the_reference_header_length_opens(
    kind: tuple[str, str], width: int, height: int
) -> None:
    # The test helper's own check: header_bytes is where every longer prefix gives the size.
    fmt, variant = kind
    data = make_image(fmt, width, height, variant, 0, 0)
    needed = header_bytes(data)
    for end in range(needed, min(len(data), needed + 64) + 1):
        parser = HeaderParser(max_pixels=10**9)
        size = parser.feed(data[:end]) or parser.finish()
        assert (size.width, size.height) == (width, height)


@given(width=st.integers(1, 16383), height=st.integers(1, 16383))
def test_webp_lossless_header(width: int, height: int) -> None:
    bits = (width - 1) | ((height - 1) << 14)
    header = b"RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2f" + bits.to_bytes(4, "little")
    assert webp_size(header) == (width, height)


@given(width=st.integers(1, 2**24), height=st.integers(1, 2**24))
def test_webp_extended_header(width: int, height: int) -> None:
    header = (
        b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x10\x00\x00\x00"
        + (width - 1).to_bytes(3, "little")
        + (height - 1).to_bytes(3, "little")
    )
    assert webp_size(header) == (width, height)


def test_truncated_header_is_not_an_image() -> None:
    data = make_image("JPEG", 40, 30, "baseline", 0, 0)
    parser = HeaderParser(max_pixels=10**9)
    assert parser.feed(data[:100]) is None
    with pytest.raises(AnalysisError) as refused:
        parser.finish()
    assert refused.value.code == ErrorCode.NOT_AN_IMAGE


def test_pixel_cap_applies_to_webp_too() -> None:
    data = make_image("WEBP", 300, 200, "lossy", 0, 0)
    with pytest.raises(AnalysisError) as refused:
        HeaderParser(max_pixels=300 * 200 - 1).feed(data[:64])
    assert refused.value.code == ErrorCode.TOO_MANY_PIXELS
