"""Fixtures: the local image server, and analyzers allowed to reach it (and only it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from image_enricher.fetch import FetchLimits, ImageAnalyzer
from image_enricher.policy import UrlPolicy

from tests.imageserver import ImageServer

LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")


@pytest.fixture(scope="module")
def image_server() -> Iterator[ImageServer]:
    with ImageServer() as server:
        yield server


def local_analyzer(server: ImageServer, **limits: float) -> ImageAnalyzer:
    """An analyzer whose allowlist is the image server, with loopback exempted (tests only)."""
    policy = UrlPolicy.build([server.authority], LOOPBACK_NETWORKS)
    return ImageAnalyzer(policy, FetchLimits(**limits))  # type: ignore[arg-type]


@pytest.fixture
def analyzer(image_server: ImageServer) -> ImageAnalyzer:
    return local_analyzer(image_server)
