"""The one HTTP helper for source plugins (interface; implementation in progress).

Source plugins get a client from ``ctx.http_client(base_url, headers=..., ...)`` so that the
engine counts requests for the run summary. Tests and tools may build one directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import requests

from etlcore.secrets import Secret


class HttpError(Exception):
    """A request that failed for good (after retries where retrying made sense).

    ``status`` is the HTTP status (``None`` for connection errors, timeouts, bad JSON);
    ``url`` has every secret query parameter redacted; ``body`` is at most 500 characters
    of the response body with secrets masked; ``retryable`` tells whether it was transient.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        body: str = "",
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.body = body
        self.retryable = retryable


class HttpClient:
    """A requests session with timeouts, a total deadline, retries and a rate budget.

    - connect/read timeouts, and ``deadline`` seconds for one call including its retries
      and the reading of a body that trickles in;
    - retries with exponential backoff and jitter on connection errors, 429 and 5xx, and on
      truncated or undecodable JSON bodies; ``Retry-After`` honoured, capped at
      ``retry_after_max``; no retry on other 4xx;
    - a request budget shared by the threads using this client: once
      ``X-RateLimit-Remaining`` falls below ``slow_down_below``, calls are spaced out, more
      the lower it gets;
    - query parameters and headers named in ``secret_names`` (and every ``Secret`` value)
      are redacted from every URL it logs or puts into an error.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str | Secret] | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        deadline: float = 120.0,
        max_retries: int = 5,
        backoff_factor: float = 0.5,
        backoff_max: float = 30.0,
        retry_after_max: float = 60.0,
        slow_down_below: int = 10,
        pool_size: int = 8,
        secret_names: tuple[str, ...] = ("api_key", "apikey", "key", "token", "password"),
        on_request: Callable[[], None] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        raise NotImplementedError

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> requests.Response:
        """GET ``base_url + path``; returns a 2xx response or raises :class:`HttpError`."""
        raise NotImplementedError

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET and decode JSON; a truncated or invalid body is retried, then raises."""
        raise NotImplementedError

    @property
    def requests_made(self) -> int:
        """Requests sent on the wire, retries included."""
        raise NotImplementedError

    @property
    def rate_limit_remaining(self) -> int | None:
        """The last ``X-RateLimit-Remaining`` seen, if any."""
        raise NotImplementedError

    def redact(self, url: str) -> str:
        """``url`` with secret query parameters replaced by ``REDACTED``."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
