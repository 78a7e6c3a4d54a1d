"""How the ``postgres`` sink connects: settings from its config, TLS defaults, and messages
that never carry a credential.

libpq and psycopg put the connection string into some of their errors (a malformed URL is
echoed whole), so every message that leaves this package passes :meth:`PostgresSettings.redact`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from etl_sinks.errors import SinkError
from etlcore.secrets import MASK, Secret, mask_known_secrets, reveal

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", ""})
LOCK_MODES = ("wait", "fail")
DEFAULT_SCHEMA = "nasa"
DEFAULT_PORT = 5432
DEFAULT_RECONNECT_ATTEMPTS = 3
CONNECT_TIMEOUT_SECONDS = 10

_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<userinfo>[^@/\s]*)@", re.I)
_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)


def _is_local(host: str) -> bool:
    # A Unix-socket directory is local too; several comma-separated hosts are local if all are.
    hosts = [h.strip() for h in host.split(",")] or [""]
    return all(h in LOCAL_HOSTS or h.startswith("/") for h in hosts)


@dataclass(frozen=True)
class PostgresSettings:
    """The connection settings of one ``postgres`` sink step (credentials stay wrapped)."""

    url: str | Secret | None
    host: str | None
    port: int
    user: str | None
    password: str | Secret | None
    dbname: str | None
    sslmode: str | None
    schema: str
    lock: str
    lock_timeout_seconds: float | None
    reconnect_attempts: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PostgresSettings:
        url = config.get("url") or None
        if url is not None and not reveal(url).strip():
            url = None
        host = config.get("host") or None
        if url is None and host is None:
            raise SinkError(
                "the postgres sink needs `url` (a DATABASE_URL such as "
                "postgresql://user@host:5432/dbname) or `host` (with user, password, dbname)"
            )
        lock = config.get("lock", "wait")
        if lock not in LOCK_MODES:
            raise SinkError(f"postgres sink: lock must be one of {LOCK_MODES}, not {lock!r}")
        timeout = config.get("lock_timeout_seconds")
        attempts = config.get("reconnect_attempts", DEFAULT_RECONNECT_ATTEMPTS)
        return cls(
            url=url,
            host=host,
            port=int(config.get("port", DEFAULT_PORT)),
            user=config.get("user"),
            password=config.get("password"),
            dbname=config.get("dbname"),
            sslmode=config.get("sslmode"),
            schema=config.get("schema", DEFAULT_SCHEMA),
            lock=lock,
            lock_timeout_seconds=float(timeout) if timeout is not None else None,
            reconnect_attempts=int(attempts),
        )

    def _url_parts(self) -> dict[str, Any]:
        if self.url is None:
            return {}
        try:
            return conninfo_to_dict(reveal(self.url))
        except Exception:  # malformed: psycopg's own message would echo it, so none here
            raise SinkError(
                "the postgres sink's `url` is not a valid connection URL; expected "
                "postgresql://user:password@host:5432/dbname"
            ) from None

    @property
    def effective_host(self) -> str:
        if self.url is not None:
            return str(self._url_parts().get("host") or "")
        return self.host or ""

    def connect_kwargs(self, application_name: str) -> dict[str, Any]:
        """Arguments for :func:`psycopg.connect`, with the secrets revealed (use and drop)."""
        kwargs: dict[str, Any]
        if self.url is not None:
            parts = self._url_parts()
            kwargs = {"conninfo": reveal(self.url)}
            if "sslmode" not in parts:
                kwargs["sslmode"] = self.sslmode or self.default_sslmode()
        else:
            kwargs = {
                "conninfo": "",
                "host": self.host,
                "port": self.port,
                "sslmode": self.sslmode or self.default_sslmode(),
            }
            for key, value in (
                ("user", self.user),
                ("password", self.password),
                ("dbname", self.dbname),
            ):
                # "${secret:DB_USER:-}" resolves to an empty value: that is "not set"
                if value is not None and reveal(value) != "":
                    kwargs[key] = reveal(value)
        kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
        kwargs["application_name"] = application_name[:63]
        # A dead peer (RDS failover, NAT timeout) is noticed in about a minute, not hours.
        kwargs.update(keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3)
        return kwargs

    def default_sslmode(self) -> str:
        """``require`` for a remote server (RDS needs TLS), ``prefer`` on this machine."""
        return "prefer" if _is_local(self.effective_host) else "require"

    @property
    def where(self) -> str:
        """host:port/dbname for messages, without user or password."""
        if self.url is not None:
            parts = self._url_parts()
            host = parts.get("host") or "localhost"
            port = parts.get("port") or DEFAULT_PORT
            dbname = parts.get("dbname") or parts.get("user") or ""
        else:
            host, port, dbname = self.host or "localhost", self.port, reveal(self.dbname) or ""
        return f"{host}:{port}/{dbname}"

    def redact(self, text: str) -> str:
        """``text`` with every credential this sink knows masked, and any URL userinfo or
        ``password=`` keyword removed whatever it holds."""
        secrets: list[str] = []
        for value in (self.password, self.url):
            if value is not None:
                secrets.append(str(reveal(value)))
        if self.url is not None:
            try:
                parts = conninfo_to_dict(reveal(self.url))
            except Exception:
                parts = {}
            if parts.get("password"):
                secrets.append(str(parts["password"]))
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= 3:
                text = text.replace(secret, MASK)
        text = _URL_USERINFO.sub(
            lambda m: (
                f"{m['scheme']}{m['userinfo'].split(':', 1)[0]}:{MASK}@"
                if ":" in m["userinfo"]
                else m.group(0)
            ),
            text,
        )
        text = _KEYWORD_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}", text)
        return mask_known_secrets(text)
