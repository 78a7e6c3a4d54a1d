"""The service's settings, read from ``ENRICHER_*`` environment variables."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from image_enricher.fetch import FetchLimits
from image_enricher.policy import (
    DEFAULT_ALLOWED_HOSTS,
    UrlPolicy,
    parse_allowed_hosts,
    parse_networks,
)


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable and what to do."""


@dataclass(frozen=True)
class Settings:
    """Everything the service needs; :meth:`from_env` is how production builds it."""

    api_key: str | None
    allow_no_auth: bool = False
    policy: UrlPolicy = field(default_factory=UrlPolicy)
    limits: FetchLimits = field(default_factory=FetchLimits)
    max_batch: int = 50
    """Most URLs in one ``POST /analyze-images``."""
    max_request_bytes: int = 256 * 1024
    batch_workers: int = 8
    """Images of one batch request analysed at the same time."""

    def __repr__(self) -> str:  # the key must never reach a log or a traceback
        key = "set" if self.api_key else "unset"
        return f"Settings(api_key=<{key}>, allow_no_auth={self.allow_no_auth}, ...)"

    def check(self) -> None:
        """Refuse to serve without authentication unless that was asked for explicitly."""
        if not self.api_key and not self.allow_no_auth:
            raise SettingsError(
                "ENRICHER_API_KEY is not set: the service would be an open fetch proxy. "
                "Set it (clients send 'Authorization: Bearer <key>'), or set "
                "ENRICHER_ALLOW_NO_AUTH=1 for local development only."
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build from ``environ``; raises :class:`SettingsError` naming a bad variable."""
        defaults = FetchLimits()
        try:
            allowed_hosts = parse_allowed_hosts(
                _list(environ, "ENRICHER_ALLOWED_HOSTS", DEFAULT_ALLOWED_HOSTS)
            )
        except ValueError as exc:
            raise SettingsError(f"ENRICHER_ALLOWED_HOSTS: {exc}") from None
        try:
            networks = parse_networks(_list(environ, "ENRICHER_ALLOW_PRIVATE_NETWORKS", ()))
        except ValueError as exc:
            raise SettingsError(f"ENRICHER_ALLOW_PRIVATE_NETWORKS: {exc}") from None
        policy = UrlPolicy(allowed_hosts=allowed_hosts, allow_networks=networks)
        limits = FetchLimits(
            max_header_bytes=_int(environ, "ENRICHER_MAX_HEADER_BYTES", defaults.max_header_bytes),
            max_file_bytes=_int(environ, "ENRICHER_MAX_FILE_BYTES", defaults.max_file_bytes),
            max_pixels=_int(environ, "ENRICHER_MAX_PIXELS", defaults.max_pixels),
            connect_timeout=_seconds(environ, "ENRICHER_CONNECT_TIMEOUT", defaults.connect_timeout),
            read_timeout=_seconds(environ, "ENRICHER_READ_TIMEOUT", defaults.read_timeout),
            deadline=_seconds(environ, "ENRICHER_DEADLINE", defaults.deadline),
            max_redirects=_int(environ, "ENRICHER_MAX_REDIRECTS", defaults.max_redirects, low=0),
        )
        return cls(
            api_key=environ.get("ENRICHER_API_KEY") or None,
            allow_no_auth=_flag(environ, "ENRICHER_ALLOW_NO_AUTH"),
            policy=policy,
            limits=limits,
            max_batch=_int(environ, "ENRICHER_MAX_BATCH", 50),
            max_request_bytes=_int(environ, "ENRICHER_MAX_REQUEST_BYTES", 256 * 1024),
            batch_workers=_int(environ, "ENRICHER_BATCH_WORKERS", 8),
        )


def _list(environ: Mapping[str, str], name: str, default: tuple[str, ...]) -> list[str]:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def _int(environ: Mapping[str, str], name: str, default: int, low: int = 1) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a whole number") from None
    if value < low:
        raise SettingsError(f"{name}={raw!r}: must be at least {low}")
    return value


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected seconds, e.g. 5 or 2.5") from None
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name}={raw!r}: must be a positive number of seconds")
    return value


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name}={raw!r}: expected 1/0, true/false, yes/no or on/off")
