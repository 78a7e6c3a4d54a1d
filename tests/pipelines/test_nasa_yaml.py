"""pipelines/nasa.yaml validates in every deployment mode, chosen by configuration alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from etlcore.config import ConfigError, load_pipeline
from etlcore.contract import RunOptions
from etlcore.plugins import PluginRegistry
from etlcore.runner import Runner

NASA_YAML = Path(__file__).resolve().parents[2] / "pipelines" / "nasa.yaml"


@pytest.fixture(scope="module")
def registry() -> PluginRegistry:
    return PluginRegistry.load(strict=True)


def enabled(registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pipeline = load_pipeline(NASA_YAML, registry)
    Runner(pipeline, RunOptions(dry_run=True))  # every step instantiates from its config
    return [step.name for step in pipeline.steps if step.enabled]


def test_embedded_defaults_are_sqlite_and_in_process_images(
    registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MARS_PHOTOS_API_URL", "LIGHTSAIL_API", "NASA_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert enabled(registry, monkeypatch) == ["apod", "neows", "nasa_unify", "images", "sqlite"]


def test_database_url_switches_to_postgres(
    registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = enabled(registry, monkeypatch, DATABASE_URL="postgresql://u:p@db.example/nasa")
    assert steps[-1] == "postgres" and "sqlite" not in steps


def test_seed_db_variables_switch_to_postgres(
    registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = enabled(registry, monkeypatch, DB_HOST="db.example", DB_USER="app", DB_PASS="pw")
    assert steps[-1] == "postgres"


def test_mars_and_the_remote_enricher_by_configuration(
    registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = enabled(
        registry,
        monkeypatch,
        MARS_PHOTOS_API_URL="https://mirror.example/api/v1",
        LIGHTSAIL_API="https://enricher.example",
        ENRICHER_API_KEY="k" * 32,
    )
    assert "mars_photos" in steps and "images_remote" in steps and "images" not in steps


def test_remote_enricher_without_its_key_is_a_config_error(
    registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIGHTSAIL_API", "https://enricher.example")
    monkeypatch.delenv("ENRICHER_API_KEY", raising=False)
    with pytest.raises(ConfigError) as caught:
        load_pipeline(NASA_YAML, registry)
    assert "enrich[1].api_key: secret ENRICHER_API_KEY was not found" in str(caught.value)


def test_env_example_lists_exactly_the_variables_the_pipeline_reads() -> None:
    import re

    text = NASA_YAML.read_text()
    read = set(re.findall(r"\$\{(?:env|secret):([A-Z0-9_]+)", text))
    for names in re.findall(r"env_(?:un)?set: \[([^\]]*)\]", text):
        read |= {name.strip() for name in names.split(",")}
    example = (NASA_YAML.parents[1] / ".env.example").read_text()
    listed = set(re.findall(r"^# ([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    assert listed == read, f"only in .env.example: {listed - read}; missing: {read - listed}"
