"""The aws-secrets-manager provider against moto's in-process Secrets Manager."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from etlcore.aws_secrets import (
    AwsSecretsManagerProvider,
    SecretMappingError,
    SecretTarget,
    parse_mapping,
)
from etlcore.config import load_pipeline
from etlcore.config.references import ReferenceError_, Resolver
from etlcore.contract import SecretAccessDenied, SecretNotFound
from etlcore.plugins import PluginRegistry
from etlcore.secrets import reveal

REGION = "us-east-1"
NASA_KEY = "nasa-key-4f0c1e9b7d2a"
DB_DOC = {"username": "etl_app", "password": "pw-9a8b7c6d5e4f", "port": 5432}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[None]:
    """Fake credentials and no shared config, so nothing can reach a real account."""
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL", "ETL_AWS_SECRETS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    with mock_aws():
        yield


@pytest.fixture
def sm(aws_env: None):
    return boto3.client("secretsmanager", region_name=REGION)


def _arns(sm) -> dict[str, str]:
    nasa = sm.create_secret(Name="nasa-etl/nasa-api-key", SecretString=NASA_KEY)["ARN"]
    db = sm.create_secret(Name="nasa-etl/app-db", SecretString=json.dumps(DB_DOC))["ARN"]
    return {"nasa": nasa, "db": db}


def test_reads_mapped_arns_and_json_keys(sm, monkeypatch: pytest.MonkeyPatch) -> None:
    arns = _arns(sm)
    monkeypatch.setenv(
        "ETL_AWS_SECRETS",
        f"NASA_API_KEY={arns['nasa']}, DB_USER={arns['db']}#username,DB_PASS={arns['db']}#password",
    )
    provider = AwsSecretsManagerProvider()
    assert provider.get("NASA_API_KEY") == NASA_KEY
    assert provider.get("DB_USER") == DB_DOC["username"]
    assert provider.get("DB_PASS") == DB_DOC["password"]


def test_unmapped_name_is_the_secret_id(sm) -> None:
    sm.create_secret(Name="PLAIN_NAME", SecretString="plain-value-123")
    assert AwsSecretsManagerProvider().get("PLAIN_NAME") == "plain-value-123"


def test_without_a_key_the_whole_secret_string_is_returned_for_the_engine(sm) -> None:
    """The engine's own ${secret:NAME#key} needs the whole JSON document from get()."""
    arns = _arns(sm)
    provider = AwsSecretsManagerProvider({"ETL_AWS_SECRETS": json.dumps({"DB": arns["db"]})})
    assert json.loads(provider.get("DB")) == DB_DOC
    resolver = Resolver({}, provider.get)
    resolved = resolver.resolve("postgresql://${secret:DB#username}:${secret:DB#password}@h/db")
    assert resolved.reveal() == "postgresql://etl_app:pw-9a8b7c6d5e4f@h/db"
    assert "pw-9a8b7c6d5e4f" not in repr(resolved) + str(resolved)
    assert resolver.resolve("${secret:DB#port}").reveal() == "5432"


def test_each_secret_is_fetched_once_per_provider_and_again_by_the_next_run(sm) -> None:
    arns = _arns(sm)
    env = {"ETL_AWS_SECRETS": f"U={arns['db']}#username,P={arns['db']}#password"}
    provider = AwsSecretsManagerProvider(env)
    assert provider.get("U") == "etl_app"
    sm.put_secret_value(SecretId=arns["db"], SecretString=json.dumps({**DB_DOC, "password": "new"}))
    # Same run: the value read first stays (a rotation mid-run cannot split credentials).
    assert provider.get("P") == DB_DOC["password"]
    # Next run (a new provider): the rotated value.
    assert AwsSecretsManagerProvider(env).get("P") == "new"


def test_region_comes_from_the_arn(aws_env: None) -> None:
    eu = boto3.client("secretsmanager", region_name="eu-west-1")
    arn = eu.create_secret(Name="in-europe", SecretString="eu-value-77")["ARN"]
    provider = AwsSecretsManagerProvider({"ETL_AWS_SECRETS": f"K={arn}", "AWS_REGION": REGION})
    assert provider.get("K") == "eu-value-77"
    with pytest.raises(SecretNotFound):  # the same name looked up in the default region
        provider.get("in-europe")


def test_missing_secret_is_not_found_and_names_the_reference(sm) -> None:
    provider = AwsSecretsManagerProvider({"ETL_AWS_SECRETS": "NASA_API_KEY=nasa-etl/absent"})
    with pytest.raises(SecretNotFound, match=r"NASA_API_KEY \(nasa-etl/absent\)"):
        provider.get("NASA_API_KEY")


def test_missing_json_key_lists_keys_but_no_value(sm) -> None:
    arns = _arns(sm)
    provider = AwsSecretsManagerProvider({"ETL_AWS_SECRETS": f"DB_USER={arns['db']}#user"})
    with pytest.raises(SecretNotFound) as err:
        provider.get("DB_USER")
    message = str(err.value)
    assert "'user'" in message and "password, port, username" in message
    assert DB_DOC["password"] not in message and DB_DOC["username"] not in message


def test_key_of_a_non_json_secret_is_a_clear_error_without_the_value(sm) -> None:
    arns = _arns(sm)
    provider = AwsSecretsManagerProvider({"ETL_AWS_SECRETS": f"K={arns['nasa']}#key"})
    with pytest.raises(SecretNotFound, match="not a JSON object") as err:
        provider.get("K")
    assert NASA_KEY not in str(err.value)


def test_secret_scheduled_for_deletion_is_not_found(sm) -> None:
    arns = _arns(sm)
    sm.delete_secret(SecretId=arns["nasa"], RecoveryWindowInDays=7)
    with pytest.raises(SecretNotFound, match="deletion"):
        AwsSecretsManagerProvider({"ETL_AWS_SECRETS": f"K={arns['nasa']}"}).get("K")


def test_binary_secret_is_decoded_or_refused(sm) -> None:
    sm.create_secret(Name="bin-text", SecretBinary=b"text-in-binary")
    sm.create_secret(Name="bin-raw", SecretBinary=b"\xff\xfe\x00")
    provider = AwsSecretsManagerProvider()
    assert provider.get("bin-text") == "text-in-binary"
    with pytest.raises(SecretNotFound, match="binary"):
        provider.get("bin-raw")


@pytest.mark.parametrize(
    ("code", "error", "fragment"),
    [
        ("AccessDeniedException", SecretAccessDenied, "GetSecretValue on its exact ARN"),
        ("DecryptionFailure", SecretAccessDenied, "kms:Decrypt"),
        ("InternalServiceError", SecretAccessDenied, "refused"),
        ("ResourceNotFoundException", SecretNotFound, "no secret"),
    ],
)
def test_service_errors_map_to_the_contract(aws_env: None, code, error, fragment) -> None:
    provider = AwsSecretsManagerProvider({"ETL_AWS_SECRETS": "K=some/secret"})
    client = provider._client(None)
    with Stubber(client) as stub:
        stub.add_client_error("get_secret_value", service_error_code=code, service_message="x")
        with pytest.raises(error, match=fragment) as err:
            provider.get("K")
    assert "K (some/secret)" in str(err.value)


def test_denied_unmapped_name_counts_as_not_found_so_defaults_apply(aws_env: None) -> None:
    """Under a least-privilege role every secret it was not granted is denied, mapped or not."""
    provider = AwsSecretsManagerProvider({"ETL_AWS_SECRETS": "K=granted/secret"})
    client = provider._client(None)
    with Stubber(client) as stub:
        stub.add_client_error("get_secret_value", service_error_code="AccessDeniedException")
        with pytest.raises(SecretNotFound, match="DATABASE_URL is not mapped"):
            provider.get("DATABASE_URL")
        # Cached for the run: asking again makes no second call (the stub has no response left).
        with pytest.raises(SecretNotFound, match="DATABASE_URL is not mapped"):
            provider.get("DATABASE_URL")
        resolver = Resolver({}, provider.get)
        assert resolver.resolve("${secret:DATABASE_URL:-}") == ""
        stub.assert_no_pending_responses()


def test_no_region_says_what_to_set(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(SecretAccessDenied, match="AWS_REGION"):
        AwsSecretsManagerProvider().get("NASA_API_KEY")


def test_no_credentials_is_access_denied(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no IMDS probe from a test
    with pytest.raises(SecretAccessDenied, match="credentials"):
        AwsSecretsManagerProvider().get("NASA_API_KEY")


def test_resolver_turns_provider_errors_into_config_errors_without_values(sm) -> None:
    arns = _arns(sm)
    provider = AwsSecretsManagerProvider({"ETL_AWS_SECRETS": f"DB={arns['db']}#nokey"})
    resolver = Resolver({}, provider.get)
    with pytest.raises(ReferenceError_) as err:
        resolver.resolve("${secret:DB}")
    assert "nokey" in str(err.value)
    for value in (*map(str, DB_DOC.values()), NASA_KEY):
        assert value not in str(err.value)
    assert resolver.resolve("${secret:MISSING:-fallback}") == "fallback"


# --- $ETL_AWS_SECRETS parsing -------------------------------------------------------------

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1a2b-AbCdEf"


def test_comma_and_json_forms_agree() -> None:
    comma = parse_mapping(f"DB_USER={ARN}#username , DB_PASS={ARN}#password,NASA_API_KEY=nasa")
    as_json = parse_mapping(
        json.dumps(
            {"DB_USER": f"{ARN}#username", "DB_PASS": f"{ARN}#password", "NASA_API_KEY": "nasa"}
        )
    )
    assert (
        comma
        == as_json
        == {
            "DB_USER": SecretTarget(ARN, "username"),
            "DB_PASS": SecretTarget(ARN, "password"),
            "NASA_API_KEY": SecretTarget("nasa"),
        }
    )
    assert comma["DB_USER"].region == "us-east-1"
    assert comma["NASA_API_KEY"].region is None


def test_secret_names_may_contain_equals_signs() -> None:
    assert parse_mapping("K=a=b/c") == {"K": SecretTarget("a=b/c")}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("NASA_API_KEY", "entry 1 ('NASA_API_KEY') has no '='"),
        ("A=x,B", "entry 2"),
        ("A=", "A has an empty secret id"),
        ("A=#key", "A has an empty secret id"),
        ("1A=x", "not a valid reference name"),
        ("A=x,A=y", "A is mapped twice"),
        ("{not json", "not valid JSON"),
        ('["A=x"]', "must be a JSON object"),
        ('{"A": 3}', "A must map to a string"),
    ],
)
def test_bad_mappings_are_rejected_with_the_entry(text: str, fragment: str) -> None:
    with pytest.raises(SecretMappingError) as err:
        parse_mapping(text)
    assert fragment in str(err.value)


_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)
_ids = st.from_regex(r"[A-Za-z0-9/_+=.@!:-]{1,60}", fullmatch=True)
_keys = st.none() | st.from_regex(r"[A-Za-z0-9_]{1,12}", fullmatch=True)


@given(st.dictionaries(_names, st.tuples(_ids, _keys), max_size=6))
def test_any_mapping_round_trips_through_both_forms(entries) -> None:
    def spec(secret_id: str, key: str | None) -> str:
        return secret_id if key is None else f"{secret_id}#{key}"

    expected = {name: SecretTarget(i, k) for name, (i, k) in entries.items()}
    comma = ",".join(f"{name}={spec(*target)}" for name, target in entries.items())
    assert parse_mapping(comma) == expected
    assert parse_mapping(json.dumps({n: spec(*t) for n, t in entries.items()})) == expected


# --- packaging --------------------------------------------------------------------------


def test_registered_as_a_builtin_provider() -> None:
    registry = PluginRegistry.load(entry_points_=False)
    assert registry.classes["secret_provider"]["aws-secrets-manager"] is AwsSecretsManagerProvider


def test_importing_the_provider_does_not_import_boto3() -> None:
    code = (
        "import sys, etlcore.aws_secrets as m; m.AwsSecretsManagerProvider({}); "
        "sys.exit('boto3' in sys.modules or 'botocore' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- the same pipelines/nasa.yaml, secrets chosen by configuration ---------------------------

NASA_YAML = Path(__file__).resolve().parents[2] / "pipelines" / "nasa.yaml"


def _resolved(environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Step configs of pipelines/nasa.yaml as the engine resolves them under ``environ``."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)  # providers read the process environment
    pipeline = load_pipeline(NASA_YAML, PluginRegistry.load(), environ=dict(os.environ))
    return {step.name: step.config for step in pipeline.steps if step.enabled}


def test_nasa_pipeline_reads_env_locally_and_secrets_manager_on_glue(
    sm, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    arns = _arns(sm)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    for name in ("ETL_SECRET_PROVIDERS", "DATABASE_URL", "DB_USER", "DB_PASS", "LIGHTSAIL_API"):
        monkeypatch.delenv(name, raising=False)
    local = _resolved({"NASA_API_KEY": "key-from-the-environment", "DB_HOST": "db"}, monkeypatch)
    assert reveal(local["apod"]["api_key"]) == "key-from-the-environment"

    glue = _resolved(
        {
            "ETL_SECRET_PROVIDERS": "aws-secrets-manager,env",
            "ETL_AWS_SECRETS": (
                f"NASA_API_KEY={arns['nasa']},DB_USER={arns['db']}#username,"
                f"DB_PASS={arns['db']}#password"
            ),
        },
        monkeypatch,
    )
    assert reveal(glue["apod"]["api_key"]) == NASA_KEY  # Secrets Manager comes first
    assert reveal(glue["postgres"]["user"]) == DB_DOC["username"]
    assert reveal(glue["postgres"]["password"]) == DB_DOC["password"]
    assert NASA_KEY not in repr(glue["apod"]) and DB_DOC["password"] not in repr(glue)

    # A name Secrets Manager does not have falls through to the next provider (env).
    monkeypatch.setenv("ETL_AWS_SECRETS", f"DB_USER={arns['db']}#username")
    fallback = _resolved({}, monkeypatch)
    assert reveal(fallback["apod"]["api_key"]) == "key-from-the-environment"
