"""AWS Glue entry script: ``etl run <pipeline>`` with the job's arguments as its environment.

Glue runs ``python glue_entry.py --JOB_ID … --JOB_RUN_ID … --JOB_NAME … --job-bookmark-option …
--pipeline s3://… --secrets NAME=arn,…``: every default argument of the job plus its own. This
script reads only the arguments below and ignores the rest, turns them into the environment
variables that ``pipelines/nasa.yaml`` reads, fetches the pipeline file from S3, and calls the
``etl`` CLI in-process with JSON-lines logs. Its exit code is the CLI's: non-zero marks the job
run failed (and, through EventBridge, raises the alert).

Job arguments may be logged by Glue, so none of them carries a secret value: ``--secrets`` maps
reference names to Secrets Manager ARNs, read at run time by the ``aws-secrets-manager`` provider.

    --pipeline          s3://bucket/glue/pipelines/nasa.yaml, or a local path (tests)
    --secrets           NAME=arn[#json_key],… → $ETL_AWS_SECRETS
    --secret-providers  → $ETL_SECRET_PROVIDERS (default: aws-secrets-manager)
    --db-host / --db-port / --db-name   → $DB_HOST / $DB_PORT / $DB_NAME
    --lightsail-api     → $LIGHTSAIL_API (the image enricher's URL)
    --env               any other non-secret variables: a JSON object, or NAME=VALUE,…
    --full-refresh true, --since YYYY-MM-DD, --until YYYY-MM-DD   (e.g. a one-off backfill run)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

log = logging.getLogger("glue_entry")

EXIT_CONFIG = 2  # the CLI's exit code for configuration errors
DEFAULT_SECRET_PROVIDERS = "aws-secrets-manager"

# Job argument -> environment variable the pipeline reads.
ENV_ARGUMENTS = {
    "db_host": "DB_HOST",
    "db_port": "DB_PORT",
    "db_name": "DB_NAME",
    "lightsail_api": "LIGHTSAIL_API",
}


class EntryError(Exception):
    """A job argument this script cannot use; the message says which and why."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting: every line stays JSON."""

    def error(self, message: str) -> NoReturn:
        raise EntryError(message)


def argument_parser() -> argparse.ArgumentParser:
    # allow_abbrev=False: Glue adds its own options, and a prefix of ours must never swallow one.
    parser = _Parser(prog="glue_entry", allow_abbrev=False, add_help=False, exit_on_error=False)
    parser.add_argument("--pipeline", required=True)
    parser.add_argument("--secrets", default="")
    parser.add_argument("--secret-providers", default=DEFAULT_SECRET_PROVIDERS)
    parser.add_argument("--db-host")
    parser.add_argument("--db-port")
    parser.add_argument("--db-name")
    parser.add_argument("--lightsail-api")
    parser.add_argument("--env", default="")
    parser.add_argument("--full-refresh", default="false")
    parser.add_argument("--since")
    parser.add_argument("--until")
    return parser


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """Our arguments out of Glue's argv; anything else (``--JOB_ID`` …) is ignored."""
    try:
        args, _ignored = argument_parser().parse_known_args(list(argv))
    except argparse.ArgumentError as exc:
        raise EntryError(str(exc)) from None
    return args


def parse_pairs(text: str, argument: str) -> dict[str, str]:
    """A JSON object of strings, or ``NAME=VALUE,NAME=VALUE`` (empty entries are ignored)."""
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise EntryError(f"{argument} is not a valid JSON object: {exc}") from None
        if not all(isinstance(v, str) for v in document.values()):
            raise EntryError(f"{argument}: every value of the JSON object must be a string")
        return dict(document)
    pairs: dict[str, str] = {}
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            continue
        name, sep, value = entry.partition("=")
        if not sep or not name.strip():
            raise EntryError(f"{argument}: {entry!r} is not NAME=VALUE")
        pairs[name.strip()] = value.strip()
    return pairs


def _truthy(value: str, argument: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no", ""):
        return False
    raise EntryError(f"{argument} must be true or false, not {value!r}")


def job_environment(args: argparse.Namespace) -> dict[str, str]:
    """The environment variables this job run sets for the pipeline."""
    env = parse_pairs(args.env, "--env")
    for attribute, variable in ENV_ARGUMENTS.items():
        value = getattr(args, attribute)
        if value:
            env[variable] = value
    env["ETL_SECRET_PROVIDERS"] = args.secret_providers
    if args.secrets:
        from etlcore.aws_secrets import SecretMappingError, parse_mapping

        try:
            parse_mapping(args.secrets)  # fail here, naming --secrets, rather than mid-run
        except SecretMappingError as exc:
            raise EntryError(f"--secrets: {exc}") from None
        env["ETL_AWS_SECRETS"] = args.secrets
    return env


def cli_arguments(args: argparse.Namespace, pipeline: Path) -> list[str]:
    """``etl run`` arguments: JSON-lines logs and no progress bars, as CloudWatch wants."""
    cli = ["run", str(pipeline), "--log-format", "json", "--no-progress"]
    if _truthy(args.full_refresh, "--full-refresh"):
        cli.append("--full-refresh")
    if args.since:
        cli += ["--since", args.since]
    if args.until:
        cli += ["--until", args.until]
    return cli


def fetch_pipeline(location: str, workdir: Path) -> Path:
    """The pipeline as a local file: downloaded when ``location`` is an ``s3://`` URI."""
    if not location.startswith("s3://"):
        path = Path(location)
        if not path.is_file():
            raise EntryError(f"--pipeline {location}: no such file")
        return path
    bucket, _, key = location.removeprefix("s3://").partition("/")
    if not bucket or not key or key.endswith("/"):
        raise EntryError(f"--pipeline {location}: expected s3://bucket/path/pipeline.yaml")
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    target = workdir / Path(key).name
    try:
        boto3.client("s3").download_file(bucket, key, str(target))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        raise EntryError(f"--pipeline {location}: cannot download it ({code})") from None
    except BotoCoreError as exc:
        raise EntryError(f"--pipeline {location}: cannot download it ({exc})") from None
    return target


def run_cli(arguments: list[str]) -> int:
    """Call the ``etl`` CLI in-process and return its exit code instead of exiting."""
    from etlcore.cli import app

    try:
        result: Any = app(args=arguments, prog_name="etl", standalone_mode=False)
    except Exception as exc:
        exit_code = getattr(exc, "exit_code", None)
        if isinstance(exit_code, int) and hasattr(exc, "format_message"):  # a usage error
            log.error("etl usage error: %s", exc.format_message())
            return exit_code
        raise
    return result if isinstance(result, int) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the pipeline as Glue asked; returns the process exit code.

    The job's variables go into ``os.environ``, where the engine reads them.
    """
    from etlcore.logs import configure_logging
    from etlcore.secrets import mask_known_secrets

    configure_logging("json")
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parse_arguments(argv)
        os.environ.update(job_environment(args))
        with tempfile.TemporaryDirectory(prefix="glue-pipeline-") as workdir:
            pipeline = fetch_pipeline(args.pipeline, Path(workdir))
            arguments = cli_arguments(args, pipeline)
            log.info(
                "starting etl run",
                extra={"pipeline": args.pipeline, "glue": _glue_ids(argv), "argv": arguments},
            )
            exit_code = run_cli(arguments)
    except EntryError as exc:
        log.error("glue job arguments: %s", exc)
        return EXIT_CONFIG
    except Exception as exc:  # never let a traceback carry a secret: mask and summarise
        log.error("etl run crashed: %s: %s", type(exc).__name__, mask_known_secrets(str(exc)))
        return 1
    log.info("etl run finished", extra={"exit_code": exit_code})
    return exit_code


def _glue_ids(argv: Sequence[str]) -> dict[str, str]:
    """Glue's own identifiers from argv, for correlating our log lines with the job run."""
    ids: dict[str, str] = {}
    for name in ("--JOB_NAME", "--JOB_RUN_ID"):
        if name in argv:
            index = list(argv).index(name)
            if index + 1 < len(argv):
                ids[name.lstrip("-").lower()] = argv[index + 1]
    return ids


if __name__ == "__main__":
    # Only a failure leaves through SystemExit: a Spark job whose driver script raises
    # SystemExit(0) can be reported as failed, so success simply returns.
    status = main()
    if status:
        sys.exit(status)
