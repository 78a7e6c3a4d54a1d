"""The ``aws-secrets-manager`` secret provider: ``${secret:NAME}`` read from AWS Secrets Manager.

A pipeline names secrets by short reference names (``NASA_API_KEY``, ``DB_PASS``); where they live
in AWS is deployment configuration, not pipeline text. ``$ETL_AWS_SECRETS`` maps reference names
to secret ids (name or ARN), optionally picking one key of a JSON secret::

    ETL_AWS_SECRETS='NASA_API_KEY=arn:aws:secretsmanager:…:secret:nasa-api-key-AbCdEf,
                     DB_USER=arn:aws:secretsmanager:…:secret:app-db-XyZ123#username,
                     DB_PASS=arn:aws:secretsmanager:…:secret:app-db-XyZ123#password'

or the same as a JSON object (``{"DB_USER": "arn:…#username"}``). A reference name that is not
mapped is used as the secret id itself. The region comes from the ARN, else ``$AWS_REGION`` /
``$AWS_DEFAULT_REGION``; ``$AWS_ENDPOINT_URL_SECRETS_MANAGER`` points boto3 elsewhere (tests).

Each secret id is fetched at most once per provider instance (one per run): a run sees one
consistent value even if the secret rotates meanwhile, and the next run reads the new one.
boto3 is imported only when a secret is first read, so installing etlcore without the ``aws``
extra costs nothing until this provider is used.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from etlcore.contract import SecretAccessDenied, SecretNotFound, SecretProvider

log = logging.getLogger("etlcore.aws_secrets")

MAPPING_ENV = "ETL_AWS_SECRETS"
REGION_ENVS = ("AWS_REGION", "AWS_DEFAULT_REGION")

# arn:aws:secretsmanager:<region>:<account>:secret:<name>; partitions aws, aws-cn, aws-us-gov…
_ARN = re.compile(r"^arn:[a-z0-9-]+:secretsmanager:(?P<region>[a-z0-9-]+):\d{12}:secret:.+$")
_REFERENCE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")

# Error codes of GetSecretValue that mean "this secret is not there (for us)".
_NOT_FOUND_CODES = frozenset({"ResourceNotFoundException"})
# Codes that mean "it may be there but we may not read it": IAM, KMS or our credentials.
_DENIED_CODES = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "DecryptionFailure",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
    }
)


class SecretMappingError(ValueError):
    """``$ETL_AWS_SECRETS`` cannot be parsed; the message says which entry and why."""


@dataclass(frozen=True)
class SecretTarget:
    """Where one reference name is read from: a secret id and, optionally, one JSON key of it."""

    secret_id: str
    json_key: str | None = None

    @property
    def region(self) -> str | None:
        """The region named in the secret's ARN, or ``None`` for a plain secret name."""
        match = _ARN.match(self.secret_id)
        return match.group("region") if match else None


def parse_mapping(text: str) -> dict[str, SecretTarget]:
    """Parse ``$ETL_AWS_SECRETS``: a JSON object, or a comma list of ``NAME=ID[#json_key]``.

    Secret names and ARNs cannot contain ``,`` or ``#``, so neither form needs quoting.
    """
    text = text.strip()
    if not text:
        return {}
    pairs: list[tuple[str, Any]]
    if text.startswith(("{", "[")):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SecretMappingError(f"{MAPPING_ENV} is not valid JSON: {exc.msg}") from None
        if not isinstance(document, dict):
            raise SecretMappingError(f"{MAPPING_ENV} must be a JSON object of NAME: secret id")
        pairs = list(document.items())
    else:
        pairs = []
        for position, entry in enumerate(text.split(","), start=1):
            entry = entry.strip()
            if not entry:
                continue
            name, sep, target = entry.partition("=")
            if not sep:
                raise SecretMappingError(
                    f"{MAPPING_ENV} entry {position} ({name!r}) has no '=': "
                    "write NAME=secret-id-or-arn[#json_key]"
                )
            pairs.append((name.strip(), target.strip()))
    mapping: dict[str, SecretTarget] = {}
    for name, target in pairs:
        if not isinstance(name, str) or not _REFERENCE_NAME.match(name):
            raise SecretMappingError(f"{MAPPING_ENV}: {name!r} is not a valid reference name")
        if not isinstance(target, str):
            raise SecretMappingError(f"{MAPPING_ENV}: {name} must map to a string (secret id)")
        secret_id, _, json_key = target.partition("#")
        if not secret_id:
            raise SecretMappingError(f"{MAPPING_ENV}: {name} has an empty secret id")
        if name in mapping:
            raise SecretMappingError(f"{MAPPING_ENV}: {name} is mapped twice")
        mapping[name] = SecretTarget(secret_id.strip(), json_key.strip() or None)
    return mapping


class AwsSecretsManagerProvider(SecretProvider):
    """Secrets from AWS Secrets Manager, mapped by ``$ETL_AWS_SECRETS`` (see module docstring)."""

    name = "aws-secrets-manager"
    description = (
        "AWS Secrets Manager: $ETL_AWS_SECRETS maps NAME=arn[#json_key]; "
        "unmapped names are used as secret ids"
    )

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._mapping = parse_mapping(env.get(MAPPING_ENV, ""))
        self._default_region = next((env[k] for k in REGION_ENVS if env.get(k)), None)
        self._clients: dict[str | None, Any] = {}
        self._documents: dict[str, str] = {}  # secret id -> SecretString, for this run only
        self._missing: dict[str, SecretNotFound] = {}  # secret id -> why it is not there
        self._lock = threading.Lock()  # enrichers may resolve from threads; fetch each id once

    def target(self, name: str) -> SecretTarget:
        """Where ``name`` is read from: its ``$ETL_AWS_SECRETS`` entry, else ``name`` itself."""
        return self._mapping.get(name) or SecretTarget(name)

    def get(self, name: str) -> str:
        """Reference ``name``'s value: the whole SecretString unless the mapping picks a key."""
        target = self.target(name)
        where = name if target.secret_id == name else f"{name} ({target.secret_id})"
        document = self._secret_string(target, where, mapped=name in self._mapping)
        if target.json_key is None:
            return document
        return _json_key(document, target.json_key, where)

    def _secret_string(self, target: SecretTarget, where: str, *, mapped: bool) -> str:
        with self._lock:
            cached = self._documents.get(target.secret_id)
            if cached is not None:
                return cached
            missing = self._missing.get(target.secret_id)
            if missing is not None:
                raise SecretNotFound(str(missing))
            try:
                document = self._fetch(target, where, mapped=mapped)
            except SecretNotFound as exc:
                self._missing[target.secret_id] = exc
                raise
            self._documents[target.secret_id] = document
            return document

    def _fetch(self, target: SecretTarget, where: str, *, mapped: bool) -> str:
        from botocore.exceptions import (  # imported here: boto3 is optional
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            NoRegionError,
        )

        try:
            response = self._client(target.region).get_secret_value(SecretId=target.secret_id)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            if code in _NOT_FOUND_CODES:
                raise SecretNotFound(f"Secrets Manager has no secret {where}") from None
            if code == "InvalidRequestException" and "delet" in str(error.get("Message", "")):
                raise SecretNotFound(
                    f"secret {where} is scheduled for deletion; restore it to use it"
                ) from None
            if code == "AccessDeniedException" and not mapped:
                # An unmapped name is a guess at a secret id. A least-privilege role is denied
                # every secret it was not granted, so to this role the guess does not exist:
                # `${secret:NAME:-default}` and the next provider in the chain then apply.
                raise SecretNotFound(
                    f"{where} is not mapped in {MAPPING_ENV} and no readable secret has that "
                    "name (AccessDeniedException)"
                ) from None
            if code in _DENIED_CODES:
                raise SecretAccessDenied(
                    f"not allowed to read secret {where} ({code}): grant "
                    "secretsmanager:GetSecretValue on its exact ARN (and kms:Decrypt on its key)"
                ) from None
            raise SecretAccessDenied(f"Secrets Manager refused secret {where} ({code})") from None
        except NoRegionError:
            raise SecretAccessDenied(
                f"cannot read secret {where}: no AWS region; set AWS_REGION or map the name "
                f"to a full ARN in {MAPPING_ENV}"
            ) from None
        except NoCredentialsError:
            raise SecretAccessDenied(
                f"cannot read secret {where}: no AWS credentials found"
            ) from None
        except BotoCoreError as exc:  # endpoint unreachable, bad parameter shape, …
            raise SecretAccessDenied(f"cannot read secret {where}: {type(exc).__name__}") from None
        log.debug("read secret %s from Secrets Manager", where)
        if "SecretString" in response:
            return str(response["SecretString"])
        try:
            return bytes(response["SecretBinary"]).decode("utf-8")
        except (KeyError, UnicodeDecodeError):
            raise SecretNotFound(f"secret {where} holds binary data, not text") from None

    def _client(self, region: str | None) -> Any:
        region = region or self._default_region
        client = self._clients.get(region)
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=5,
                read_timeout=10,
                retries={"max_attempts": 5, "mode": "standard"},
                user_agent_extra="etlcore",
            )
            client = boto3.session.Session().client(
                "secretsmanager", region_name=region, config=config
            )
            self._clients[region] = client
        return client


def _json_key(document: str, key: str, where: str) -> str:
    try:
        parsed = json.loads(document)
    except ValueError:
        raise SecretNotFound(
            f"secret {where} is not a JSON object, so its key {key!r} cannot be read"
        ) from None
    if not isinstance(parsed, dict):
        raise SecretNotFound(f"secret {where} is not a JSON object, so {key!r} cannot be read")
    if key not in parsed:
        keys = ", ".join(sorted(str(k) for k in parsed)) or "none"
        raise SecretNotFound(f"secret {where} has no key {key!r} (its keys: {keys})")
    value = parsed[key]
    return value if isinstance(value, str) else json.dumps(value)
