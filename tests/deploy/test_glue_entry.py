"""glue/glue_entry.py: invoked as Glue invokes it, with moto's S3 and Secrets Manager."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import secrets
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import boto3
import psycopg
import pytest
from image_enricher.app import create_app
from image_enricher.settings import Settings
from moto import mock_aws
from psycopg import sql
from werkzeug.serving import make_server

from tests.imageserver import ImageServer
from tests.simulator import NasaSimulator

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
BUCKET = "nasa-etl-artifacts-test"
PIPELINE_KEY = "glue/pipelines/nasa.yaml"
PG_URL = os.environ.get("ETL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")

# What Glue itself puts on the command line, before and after the job's own arguments.
GLUE_ARGV_HEAD = [
    "--JOB_ID",
    "j_0123456789abcdef",
    "--JOB_RUN_ID",
    "jr_0123456789abcdef0123456789abcdef",
    "--job-bookmark-option",
    "job-bookmark-disable",
    "--TempDir",
    f"s3://{BUCKET}/tmp/",
    "--custom-logGroup-prefix",
    "/aws-glue/nasa-etl",
    "--additional-python-modules",
    f"s3://{BUCKET}/glue/wheels/etlcore-0.1.0-py3-none-any.whl",
    "--job-language",
    "python",
]
GLUE_ARGV_TAIL = ["--JOB_NAME", "nasa-etl", "--enable-glue-datacatalog", "true"]


def _load_entry() -> ModuleType:
    spec = importlib.util.spec_from_file_location("glue_entry", REPO / "glue" / "glue_entry.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


entry = _load_entry()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """What the job sets lands in os.environ (the engine reads it): restore it afterwards."""
    saved = dict(os.environ)
    for name in (
        "ETL_AWS_SECRETS",
        "ETL_SECRET_PROVIDERS",
        "NASA_API_URL",
        "MARS_PHOTOS_API_URL",
        "DATABASE_URL",
        "DB_HOST",
        "DB_PORT",
        "DB_NAME",
        "DB_SCHEMA",
        "DB_USER",
        "DB_PASS",
        "NASA_API_KEY",
        "LIGHTSAIL_API",
        "ENRICHER_API_KEY",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
    ):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        }
    )
    monkeypatch.chdir(tmp_path)  # no .env of the checkout, and nothing written into it
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def aws(clean_env: None) -> Iterator[None]:
    with mock_aws():
        yield


# --- arguments ---------------------------------------------------------------------------


def test_glue_arguments_are_tolerated_and_ours_are_read() -> None:
    args = entry.parse_arguments(
        [
            *GLUE_ARGV_HEAD,
            "--pipeline",
            "s3://b/glue/pipelines/nasa.yaml",
            "--secrets",
            "NASA_API_KEY=arn:aws:secretsmanager:us-east-1:123456789012:secret:k-AbCdEf",
            "--db-host=db.internal",
            *GLUE_ARGV_TAIL,
        ]
    )
    assert args.pipeline == "s3://b/glue/pipelines/nasa.yaml"
    assert args.db_host == "db.internal"
    assert args.secrets.startswith("NASA_API_KEY=arn:")
    assert args.secret_providers == "aws-secrets-manager"


def test_abbreviations_never_match_our_options() -> None:
    """--pipe must not be read as --pipeline: Glue's own options could collide with a prefix."""
    with pytest.raises(entry.EntryError, match="the following arguments are required: --pipeline"):
        entry.parse_arguments(["--pipe", "s3://b/k.yaml", *GLUE_ARGV_TAIL])


def test_job_arguments_become_the_pipelines_environment() -> None:
    args = entry.parse_arguments(
        [
            "--pipeline",
            "p.yaml",
            "--secrets",
            "DB_USER=arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf#username",
            "--db-host",
            "db.internal",
            "--db-port",
            "5432",
            "--db-name",
            "nasa",
            "--lightsail-api",
            "https://enricher.example",
            "--env",
            "MARS_PHOTOS_API_URL=https://mars.example/api/v1, DB_SCHEMA=nasa",
        ]
    )
    assert entry.job_environment(args) == {
        "MARS_PHOTOS_API_URL": "https://mars.example/api/v1",
        "DB_SCHEMA": "nasa",
        "DB_HOST": "db.internal",
        "DB_PORT": "5432",
        "DB_NAME": "nasa",
        "LIGHTSAIL_API": "https://enricher.example",
        "ETL_SECRET_PROVIDERS": "aws-secrets-manager",
        "ETL_AWS_SECRETS": (
            "DB_USER=arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf#username"
        ),
    }


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--secrets", "NASA_API_KEY"], "--secrets: ETL_AWS_SECRETS entry 1"),
        (["--env", "JUSTANAME"], "--env: 'JUSTANAME' is not NAME=VALUE"),
        (["--full-refresh", "maybe"], "--full-refresh must be true or false"),
    ],
)
def test_bad_job_arguments_are_named(argv: list[str], fragment: str) -> None:
    args = entry.parse_arguments(["--pipeline", "p.yaml", *argv])
    with pytest.raises(entry.EntryError) as err:
        entry.job_environment(args)
        entry.cli_arguments(args, Path("p.yaml"))
    assert fragment in str(err.value)


def test_cli_always_logs_json_lines_without_progress_bars() -> None:
    args = entry.parse_arguments(
        ["--pipeline", "p.yaml", "--full-refresh", "true", "--since", "2026-01-01"]
    )
    assert entry.cli_arguments(args, Path("/tmp/p.yaml")) == [
        "run",
        "/tmp/p.yaml",
        "--log-format",
        "json",
        "--no-progress",
        "--full-refresh",
        "--since",
        "2026-01-01",
    ]
    plain = entry.parse_arguments(["--pipeline", "p.yaml"])
    assert "--full-refresh" not in entry.cli_arguments(plain, Path("p.yaml"))


# --- the pipeline file from S3 ------------------------------------------------------------


def test_pipeline_is_downloaded_from_s3(aws: None, tmp_path: Path) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=PIPELINE_KEY, Body=b"name: x\n")
    path = entry.fetch_pipeline(f"s3://{BUCKET}/{PIPELINE_KEY}", tmp_path)
    assert path == tmp_path / "nasa.yaml" and path.read_bytes() == b"name: x\n"


@pytest.mark.parametrize(
    ("location", "fragment"),
    [
        (f"s3://{BUCKET}/glue/pipelines/absent.yaml", "cannot download it (404)"),
        (f"s3://{BUCKET}/", "expected s3://bucket/path/pipeline.yaml"),
        ("no/such/local.yaml", "no such file"),
    ],
)
def test_unreachable_pipeline_is_a_clear_error(
    aws: None, tmp_path: Path, location: str, fragment: str
) -> None:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    with pytest.raises(entry.EntryError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        entry.fetch_pipeline(location, tmp_path)


def test_no_pipeline_argument_exits_2_with_json_lines_only(
    clean_env: None, capfd: pytest.CaptureFixture[str]
) -> None:
    assert entry.main([*GLUE_ARGV_HEAD, *GLUE_ARGV_TAIL]) == 2
    captured = capfd.readouterr()
    lines = [json.loads(line) for line in (captured.out + captured.err).splitlines() if line]
    assert "--pipeline" in lines[-1]["message"]


def test_missing_pipeline_exits_2_with_json_lines(
    aws: None, capfd: pytest.CaptureFixture[str]
) -> None:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    code = entry.main([*GLUE_ARGV_HEAD, "--pipeline", f"s3://{BUCKET}/absent.yaml"])
    assert code == 2
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert lines[-1]["level"] == "error" and "absent.yaml" in lines[-1]["message"]


# --- as Glue runs it: moto secrets, the simulator, the local PostgreSQL -------------------


@pytest.fixture
def pg_app_user() -> Iterator[tuple[str, str, str]]:
    """A least-privilege role and its own schema, made with the SQL of docs/deploy-aws.md."""
    try:
        admin = psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)
    except psycopg.Error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    suffix = uuid.uuid4().hex[:10]
    role, schema, password = f"etl_app_{suffix}", f"test_deploy_{suffix}", secrets.token_hex(16)
    dbname = admin.info.dbname
    with admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
        admin.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(dbname), sql.Identifier(role)
            )
        )
        admin.execute(
            sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(
                sql.Identifier(schema), sql.Identifier(role)
            )
        )
        try:
            yield role, password, schema
        finally:
            admin.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@dataclass
class LocalServices:
    """Local stand-ins for what the job reaches through NAT: api.nasa.gov and Lightsail."""

    nasa: NasaSimulator
    images: ImageServer
    enricher_url: str


@contextmanager
def local_services(nasa_key: str, enricher_key: str) -> Iterator[LocalServices]:
    """The NASA API accepts only ``nasa_key``; the enricher service only ``enricher_key``."""
    with (
        ImageServer() as images,
        NasaSimulator(fixtures=None, valid_keys={nasa_key}, image_base_url=images.base_url) as nasa,
    ):
        settings = Settings.from_env(
            {
                "ENRICHER_API_KEY": enricher_key,
                "ENRICHER_ALLOWED_HOSTS": images.authority,
                "ENRICHER_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8,::1/128",
            }
        )
        server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LocalServices(nasa, images, f"http://127.0.0.1:{server.server_port}")
        finally:
            server.shutdown()
            thread.join(timeout=5)


def _glue_job(
    services: LocalServices, schema: str, secret_arguments: str, since: dt.date
) -> list[str]:
    """argv as the Glue job of terraform/glue.tf passes it, pointed at local services."""
    # No MARS_PHOTOS_API_URL: the Mars step (enabled by it) only adds run time here.
    env = {"NASA_API_URL": services.nasa.base_url, "DB_SCHEMA": schema}
    return [
        *GLUE_ARGV_HEAD,
        "--pipeline",
        f"s3://{BUCKET}/{PIPELINE_KEY}",
        "--secrets",
        secret_arguments,
        "--secret-providers",
        "aws-secrets-manager",
        "--db-host",
        "127.0.0.1",
        "--db-port",
        "5432",
        "--db-name",
        psycopg.conninfo.conninfo_to_dict(PG_URL).get("dbname", "test"),
        "--lightsail-api",
        services.enricher_url,
        "--env",
        json.dumps(env),
        "--since",
        since.isoformat(),
        *GLUE_ARGV_TAIL,
    ]


def _deploy_artifacts_and_secrets(
    nasa_key: str, role: str, password: str, enricher_key: str
) -> str:
    """The bucket and secrets terraform creates, filled as docs/deploy-aws.md says."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.upload_file(str(REPO / "pipelines" / "nasa.yaml"), BUCKET, PIPELINE_KEY)
    sm = boto3.client("secretsmanager", region_name=REGION)
    nasa = sm.create_secret(Name="nasa-etl/nasa-api-key", SecretString=nasa_key)["ARN"]
    db = sm.create_secret(
        Name="nasa-etl/db-app-user",
        SecretString=json.dumps({"username": role, "password": password}),
    )["ARN"]
    enricher = sm.create_secret(Name="nasa-etl/enricher-api-key", SecretString=enricher_key)
    return (
        f"NASA_API_KEY={nasa},DB_USER={db}#username,DB_PASS={db}#password,"
        f"ENRICHER_API_KEY={enricher['ARN']}"
    )


def _table_counts(schema: str, role: str, password: str) -> dict[str, int]:
    with psycopg.connect(PG_URL, user=role, password=password) as conn:
        return {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            ).fetchone()[0]
            for table in ("apod", "neo", "neo_close_approach", "nasa_event")
        }


@pytest.mark.slow
@pytest.mark.postgres
def test_glue_run_loads_postgres_with_secrets_from_secrets_manager_and_prints_none(
    aws: None, pg_app_user: tuple[str, str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    role, password, schema = pg_app_user
    nasa_key, enricher_key = f"nasa-{secrets.token_hex(12)}", f"enr-{secrets.token_hex(20)}"
    secret_arguments = _deploy_artifacts_and_secrets(nasa_key, role, password, enricher_key)
    since = dt.date.today() - dt.timedelta(days=2)
    # The simulator accepts only the NASA key in Secrets Manager (the pipeline's DEMO_KEY
    # default would get 403 and fail the run); the enricher only the enricher key.
    with local_services(nasa_key, enricher_key) as services:
        capfd.readouterr()  # the stand-ins' own start-up lines are not the job's output
        first = entry.main(_glue_job(services, schema, secret_arguments, since))
        first_out = capfd.readouterr()
        # A Glue retry (max_retries) re-runs the whole job: it must change nothing.
        second = entry.main(_glue_job(services, schema, secret_arguments, since))
        second_out = capfd.readouterr()
        requests = list(services.nasa.requests)
        images_fetched = len(services.images.requests)
    printed = first_out.out + first_out.err + second_out.out + second_out.err
    assert first == 0, first_out.err[-3000:]
    assert second == 0, second_out.err[-3000:]

    counts = _table_counts(schema, role, password)
    assert counts["apod"] > 0 and counts["neo_close_approach"] > 0
    assert counts["nasa_event"] >= counts["apod"] + counts["neo_close_approach"]
    assert requests and all(r.status == 200 for r in requests), {r.status for r in requests}
    assert {r.key_in for r in requests} == {"header"}
    assert _enriched_images(schema, role, password) > 0 and images_fetched > 0

    # Logs are JSON lines; the summary line says what the run did.
    not_json = []
    for line in printed.splitlines():
        try:
            json.loads(line)
        except ValueError:
            not_json.append(line)
    assert not not_json, not_json[:5]
    first_summary = _summary(first_out.out)
    second_summary = _summary(second_out.out)
    assert first_summary["status"] == "succeeded"
    assert sum(s["inserted"] for s in first_summary["streams"].values()) > 0
    assert sum(s["inserted"] + s["updated"] for s in second_summary["streams"].values()) == 0

    for value in (nasa_key, password, enricher_key):
        assert value not in printed


def _enriched_images(schema: str, role: str, password: str) -> int:
    with psycopg.connect(PG_URL, user=role, password=password) as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.nasa_event WHERE image_width > 0").format(
                sql.Identifier(schema)
            )
        ).fetchone()
    return int(row[0])


def _summary(stdout: str) -> dict:
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    return next(line for line in lines if line.get("event") == "run_summary")


@pytest.mark.slow
@pytest.mark.postgres
def test_failed_run_exits_non_zero_and_still_prints_no_secret(
    aws: None, pg_app_user: tuple[str, str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    role, password, schema = pg_app_user
    stale_key, enricher_key = f"stale-{secrets.token_hex(12)}", f"enr-{secrets.token_hex(20)}"
    secret_arguments = _deploy_artifacts_and_secrets(stale_key, role, password, enricher_key)
    since = dt.date.today() - dt.timedelta(days=1)
    with local_services("the-current-key-0123", enricher_key) as services:
        capfd.readouterr()
        code = entry.main(_glue_job(services, schema, secret_arguments, since))
    out = capfd.readouterr()
    assert code not in (0, None)
    assert _summary(out.out)["status"] == "failed"
    for value in (stale_key, password, enricher_key):
        assert value not in out.out + out.err


# --- the real process: python glue_entry.py, as Glue starts it ------------------------------

SMALL_PIPELINE = """\
name: glue_smoke
secret_providers: [env]
sources:
  - plugin: nasa.apod
    api_url: ${env:NASA_API_URL}
    api_key: ${secret:NASA_API_KEY}
sinks:
  - plugin: sqlite
    path: ${env:SQLITE_PATH}
"""


def _run_script(argv: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ETL_", "NASA_", "DB_"))}
    return subprocess.run(
        [sys.executable, str(REPO / "glue" / "glue_entry.py"), *GLUE_ARGV_HEAD, *argv],
        cwd=tmp_path,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_script_process_exit_codes_are_the_runs(tmp_path: Path) -> None:
    pipeline = tmp_path / "smoke.yaml"
    pipeline.write_text(SMALL_PIPELINE)
    key = f"key-{secrets.token_hex(12)}"
    since = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    with NasaSimulator(fixtures=None, valid_keys={key}) as sim:
        args = [
            "--pipeline",
            str(pipeline),
            "--secret-providers",
            "env",
            "--env",
            json.dumps({"NASA_API_URL": sim.base_url, "SQLITE_PATH": str(tmp_path / "s.db")}),
            "--since",
            since,
            *GLUE_ARGV_TAIL,
        ]
        ok = _run_script(args, tmp_path, NASA_API_KEY=key)
        refused = _run_script(args, tmp_path, NASA_API_KEY=f"wrong-{key}")
        unset = _run_script(args, tmp_path)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert _summary(ok.stdout)["status"] == "succeeded"
    assert refused.returncode == 1, refused.stderr[-2000:]
    assert unset.returncode == 2, unset.stderr[-2000:]
    assert "NASA_API_KEY" in unset.stderr
    for result in (ok, refused, unset):
        assert key not in result.stdout + result.stderr
