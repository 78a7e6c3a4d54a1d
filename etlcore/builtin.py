"""The engine's own plugins, registered like any other: the env and .env secret providers,
and AWS Secrets Manager (whose boto3 import waits until it is used)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path

from dotenv import dotenv_values

from etlcore import hookimpl
from etlcore.contract import SecretNotFound, SecretProvider

DOTENV_ENV = "ETL_DOTENV"


def dotenv_path() -> Path:
    """The ``.env`` file read for references: ``$ETL_DOTENV``, or ``./.env``."""
    return Path(os.environ.get(DOTENV_ENV, ".env"))


def read_dotenv() -> dict[str, str]:
    path = dotenv_path()
    if not path.is_file():
        return {}
    return {key: value for key, value in dotenv_values(path).items() if value is not None}


class EnvSecretProvider(SecretProvider):
    """Secrets from environment variables of the same name."""

    name = "env"
    description = "environment variables: ${secret:NASA_API_KEY} reads $NASA_API_KEY"

    def get(self, name: str) -> str:
        value = os.environ.get(name)
        if not value:
            raise SecretNotFound(f"no environment variable {name}")
        return value


class DotenvSecretProvider(SecretProvider):
    """Secrets from the ``.env`` file (see :func:`dotenv_path`)."""

    name = "dotenv"
    description = "the .env file in the working directory (or $ETL_DOTENV)"

    def __init__(self) -> None:
        self._values = read_dotenv()

    def get(self, name: str) -> str:
        value = self._values.get(name)
        if not value:
            raise SecretNotFound(f"not in {dotenv_path()}")
        return value


def _aws_provider() -> type[SecretProvider] | None:
    try:
        aws_secrets = importlib.import_module("etlcore.aws_secrets")
    except ImportError:  # the module lands with the AWS deployment
        return None
    provider: type[SecretProvider] = aws_secrets.AwsSecretsManagerProvider
    return provider


@hookimpl
def register_secret_providers(register: Callable[[type[SecretProvider]], None]) -> None:
    register(EnvSecretProvider)
    register(DotenvSecretProvider)
    aws = _aws_provider()
    if aws is not None:
        register(aws)
