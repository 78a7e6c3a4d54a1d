"""``image-enricher analyze|serve`` and ``python -m image_enricher.healthcheck``."""

from __future__ import annotations

import json

import pytest

from image_enricher import cli, healthcheck
from tests.imageserver import ImageServer


@pytest.fixture
def local_env(monkeypatch: pytest.MonkeyPatch, image_server: ImageServer) -> None:
    monkeypatch.setenv("ENRICHER_ALLOWED_HOSTS", image_server.authority)
    monkeypatch.setenv("ENRICHER_ALLOW_PRIVATE_NETWORKS", "127.0.0.0/8")


@pytest.mark.usefixtures("local_env")
def test_analyze_prints_json(image_server: ImageServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["analyze", image_server.url("/cli.gif", w=21, h=12)]) == 0
    assert json.loads(capsys.readouterr().out)["width"] == 21


@pytest.mark.usefixtures("local_env")
def test_analyze_reports_the_error_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["analyze", "http://10.0.0.1/x.jpg"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "host_not_allowed"


def test_serve_without_a_key_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ENRICHER_API_KEY", raising=False)
    monkeypatch.delenv("ENRICHER_ALLOW_NO_AUTH", raising=False)
    assert cli.main(["serve", "--port", "1"]) == 2
    assert "ENRICHER_API_KEY" in capsys.readouterr().err


def test_bad_setting_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENRICHER_DEADLINE", "soon")
    assert cli.main(["analyze", "https://apod.nasa.gov/x.jpg"]) == 2
    assert "ENRICHER_DEADLINE" in capsys.readouterr().err


def test_healthcheck_fails_when_nothing_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PORT", str(port))
    assert healthcheck.main() == 1
