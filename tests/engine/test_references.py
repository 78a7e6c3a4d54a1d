"""References: env, defaults, secrets, JSON keys, .env files, and the secret wrapper."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest

from etlcore.config import ConfigError, load_pipeline
from etlcore.config.references import ReferenceError_, Resolver
from etlcore.contract import SecretNotFound
from etlcore.logs import JsonFormatter, MaskingFormatter
from etlcore.plugins import PluginRegistry
from etlcore.secrets import Secret, mask_known_secrets, reveal

SECRETS = {"API": "k3y-value-123", "DB": '{"username": "app", "password": "pw-987654"}'}


def secret_lookup(name: str) -> str:
    if name not in SECRETS:
        raise SecretNotFound(f"no {name}")
    return SECRETS[name]


def resolve(text: str, env: dict[str, str] | None = None):
    return Resolver(env or {}, secret_lookup).resolve(text)


def test_env_reference_and_default() -> None:
    assert resolve("${env:A}", {"A": "x"}) == "x"
    assert resolve("${env:A:-fallback}") == "fallback"
    assert resolve("${env:A:-}") == ""
    assert resolve("http://${env:HOST:-localhost}:${env:PORT:-80}/x") == "http://localhost:80/x"


def test_empty_env_value_counts_as_unset() -> None:
    assert resolve("${env:A:-d}", {"A": ""}) == "d"
    with pytest.raises(ReferenceError_, match="environment variable A is not set"):
        resolve("${env:A}", {"A": ""})


def test_nested_default() -> None:
    assert resolve("${env:A:-${env:B:-z}}", {"B": "b"}) == "b"
    assert resolve("${env:A:-${env:B:-z}}") == "z"


def test_single_reference_is_retyped_like_yaml() -> None:
    assert resolve("${env:N}", {"N": "500"}) == 500
    assert resolve("${env:N}", {"N": "0.5"}) == 0.5
    assert resolve("${env:N}", {"N": "true"}) is True
    assert resolve("${env:N}", {"N": "2024-01-01"}) == "2024-01-01"
    assert resolve("n=${env:N}", {"N": "500"}) == "n=500"


def test_escaped_dollar_is_literal() -> None:
    assert resolve("cost: $${env:X}") == "cost: ${env:X}"


def test_secret_is_wrapped_and_masked() -> None:
    value = resolve("${secret:API}")
    assert isinstance(value, Secret)
    assert reveal(value) == "k3y-value-123"
    assert "k3y-value-123" not in repr(value) + str(value) + f"{value}" + f"{value!r}"


def test_secret_inside_a_longer_string_wraps_the_whole_string() -> None:
    value = resolve("Bearer ${secret:API}")
    assert isinstance(value, Secret) and reveal(value) == "Bearer k3y-value-123"


def test_secret_json_key() -> None:
    assert reveal(resolve("${secret:DB#password}")) == "pw-987654"
    with pytest.raises(ReferenceError_) as caught:
        resolve("${secret:DB#port}")
    assert "has no key 'port'" in str(caught.value)
    assert "password, username" in caught.value.hint
    assert "pw-987654" not in str(caught.value) + caught.value.hint


def test_secret_json_key_of_a_non_json_secret() -> None:
    with pytest.raises(ReferenceError_, match="not a JSON object") as caught:
        resolve("${secret:API#x}")
    assert "k3y" not in str(caught.value)


def test_unknown_secret_and_its_default() -> None:
    with pytest.raises(ReferenceError_, match="secret NOPE was not found"):
        resolve("${secret:NOPE}")
    assert resolve("${secret:NOPE:-DEMO_KEY}") == "DEMO_KEY"


@pytest.mark.parametrize("text", ["${vault:X}", "${env:}", "${env:A", "${secret:DB#}"])
def test_malformed_references(text: str) -> None:
    with pytest.raises(ReferenceError_):
        resolve(text)


def test_masking_in_logs_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("another-secret-42")
    record = logging.makeLogRecord(
        {
            "msg": "connecting with %s / %s",
            "args": (secret, secret.reveal()),
            "levelno": 20,
            "levelname": "INFO",
            "name": "t",
        }
    )
    assert "another-secret-42" not in JsonFormatter().format(record)
    assert "another-secret-42" not in MaskingFormatter("%(message)s").format(record)
    try:
        raise RuntimeError(f"failed for {secret!r} and {secret}")
    except RuntimeError:
        assert "another-secret-42" not in traceback.format_exc()
    assert mask_known_secrets("x another-secret-42 y") == "x *** y"


def test_dotenv_file_feeds_env_and_secret_references(
    registry: PluginRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("TOY_COUNT=12\nTOY_TOKEN=from-dotenv-555\n")
    monkeypatch.setenv("ETL_DOTENV", str(dotenv))
    text = (
        "name: toy\nsources:\n  - plugin: toy.count\n    count: ${env:TOY_COUNT}\n"
        "    token: ${secret:TOY_TOKEN}\nsinks:\n  - plugin: toy.null\n"
    )
    pipeline = load_pipeline("p.yaml", registry, text=text, environ={})
    config = pipeline.steps[0].config
    assert config["count"] == 12
    assert reveal(config["token"]) == "from-dotenv-555"


def test_secret_providers_are_chosen_by_environment(registry: PluginRegistry) -> None:
    text = (
        "name: toy\nsources:\n  - plugin: toy.count\n    count: 1\n"
        "    token: ${secret:TOY_TOKEN}\nsinks:\n  - plugin: toy.null\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_pipeline(
            "p.yaml",
            registry,
            text=text,
            environ={"ETL_SECRET_PROVIDERS": "dotenv", "TOY_TOKEN": "only-in-env"},
        )
    assert "secret TOY_TOKEN was not found (dotenv: not in" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_pipeline("p.yaml", registry, text=text, environ={"ETL_SECRET_PROVIDERS": "nope"})
    assert "unknown secret provider 'nope' in $ETL_SECRET_PROVIDERS" in str(caught.value)


def test_a_secret_failing_its_schema_rule_is_reported_without_its_value(
    registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOY_COUNT", "not-a-number-77")
    text = (
        "name: toy\nsources:\n  - plugin: toy.count\n    count: ${secret:TOY_COUNT}\n"
        "sinks:\n  - plugin: toy.null\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_pipeline("p.yaml", registry, text=text, environ={})
    message = str(caught.value)
    assert "p.yaml:4:12: sources[0].count: the secret's value fails the schema rule type" in message
    assert "not-a-number-77" not in message


def test_a_secret_provider_that_cannot_start_is_a_config_error(
    registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETL_AWS_SECRETS", "this is not a mapping")
    text = (
        "name: toy\nsources:\n  - plugin: toy.count\n    count: 1\nsinks:\n  - plugin: toy.null\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_pipeline(
            "p.yaml",
            registry,
            text=text,
            environ={"ETL_SECRET_PROVIDERS": "aws-secrets-manager,env"},
        )
    assert "secret provider 'aws-secrets-manager' cannot start" in str(caught.value)
