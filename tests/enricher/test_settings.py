"""ENRICHER_* settings: defaults, parsing, and errors that name the variable."""

from __future__ import annotations

import pytest
from image_enricher.settings import Settings, SettingsError


def test_defaults_are_the_nasa_hosts_and_no_exemption() -> None:
    settings = Settings.from_env({"ENRICHER_API_KEY": "k" * 20})
    assert settings.policy.allowed_hosts == {
        ("apod.nasa.gov", None),
        ("mars.nasa.gov", None),
        ("mars.jpl.nasa.gov", None),
    }
    assert settings.policy.allow_networks == ()
    assert settings.limits.max_redirects == 3


def test_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "ENRICHER_API_KEY": "secret-value-123",
            "ENRICHER_ALLOWED_HOSTS": "images.example.org, localhost:8900",
            "ENRICHER_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8,::1/128",
            "ENRICHER_MAX_HEADER_BYTES": "65536",
            "ENRICHER_DEADLINE": "2.5",
            "ENRICHER_MAX_BATCH": "10",
        }
    )
    assert ("localhost", 8900) in settings.policy.allowed_hosts
    assert len(settings.policy.allow_networks) == 2
    assert settings.limits.max_header_bytes == 65536
    assert settings.limits.deadline == 2.5
    assert settings.max_batch == 10
    assert "secret-value-123" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ENRICHER_MAX_HEADER_BYTES", "lots"),
        ("ENRICHER_MAX_PIXELS", "0"),
        ("ENRICHER_DEADLINE", "-1"),
        ("ENRICHER_DEADLINE", "nan"),
        ("ENRICHER_ALLOW_NO_AUTH", "maybe"),
        ("ENRICHER_ALLOWED_HOSTS", "127.0.0.1"),
        ("ENRICHER_ALLOW_PRIVATE_NETWORKS", "10.0.0.1/8"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
