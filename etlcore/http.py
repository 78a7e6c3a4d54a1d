"""The one HTTP helper for source plugins.

Source plugins get a client from ``ctx.http_client(base_url, headers=..., ...)`` so that the
engine counts requests for the run summary. Tests and tools may build one directly.

Retries on the wire (connection errors, 429, 5xx) are urllib3's :class:`~urllib3.util.Retry`
mounted on the session; this module only adds what urllib3 cannot know: the per-call deadline,
an injectable sleep, the request count and a bounded retry of bodies that arrive broken.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Self
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import BaseHTTPResponse
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import InvalidHeader, MaxRetryError, ProtocolError
from urllib3.util.retry import Retry

from etlcore.secrets import Public, Secret, mask_known_secrets, reveal

log = logging.getLogger(__name__)

REDACTED = "REDACTED"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_BODY_IN_ERROR = 500  # characters of a response body kept in an HttpError
_ERROR_BODY_READ = 4096  # bytes read from an error response (the rest is not worth waiting for)
_READ_SIZE = 64 * 1024


class HttpError(Exception):
    """A request that failed for good (after retries where retrying made sense).

    ``status`` is the HTTP status (``None`` for connection errors, timeouts, bad JSON);
    ``url`` has every secret query parameter redacted; ``body`` is at most 500 characters
    of the response body with secrets masked; ``retryable`` tells whether it was transient;
    ``reason`` is what went wrong without the URL, for callers that name the request their way.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        body: str = "",
        retryable: bool = False,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.body = body
        self.retryable = retryable
        self.reason = reason if reason is not None else message


# urllib3 starts its messages with the connection's repr: "HTTPSConnection(host='x', port=443): "
_CONNECTION_REPR = re.compile(r"^\w+\(host=[^)]*\): ")


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def _without_connection_repr(error: BaseException) -> str:
    return _CONNECTION_REPR.sub("", str(error)) or type(error).__name__


def _transport_failure(exc: requests.RequestException, attempts: int) -> str:
    """What a request that got no HTTP answer ran into, said once and without urllib3's wrapping.

    requests wraps urllib3's ``MaxRetryError``, which wraps the cause (a failed name lookup, a
    refused connection, a timeout); the cause is what a person needs to read.
    """
    cause: BaseException = exc
    inner = exc.args[0] if exc.args else None
    if isinstance(inner, MaxRetryError) and inner.reason is not None:
        cause = inner.reason
    elif isinstance(inner, BaseException):
        cause = inner
    if isinstance(exc, requests.Timeout):
        kind = "timed out"
    elif isinstance(exc, requests.ConnectionError):
        kind = "no connection"
    else:
        kind = type(exc).__name__
    return f"{kind} after {_attempts(attempts)}: {_without_connection_repr(cause)}"


class _DeadlineExceeded(Exception):
    """Raised inside urllib3's retry loop or the body read; turned into an HttpError.

    Deliberately not an OSError/urllib3 error, so neither urllib3 nor requests catch it.
    """


class _BrokenBody(Exception):
    """A 2xx whose body arrived truncated, timed out or is not the JSON we were promised."""


# Parameter names redacted by every client alive, so the urllib3 log filter (one per process)
# also knows the names a plugin added.
_secret_names: set[str] = {"api_key", "apikey", "key", "token", "password"}
_names_lock = threading.Lock()


def _normalised(names: Iterable[str]) -> frozenset[str]:
    return frozenset(n.lower().replace("-", "_") for n in names)


def _is_secret_name(name: str, names: frozenset[str]) -> bool:
    lowered = name.lower().replace("-", "_")
    return lowered in names or lowered.removeprefix("x_") in names or lowered == "authorization"


def _redact_query(query: str, names: frozenset[str]) -> str:
    pairs = []
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        plain = unquote_plus(value)
        if sep and (
            _is_secret_name(unquote_plus(name), names) or mask_known_secrets(plain) != plain
        ):
            pair = f"{name}={REDACTED}"
        pairs.append(pair)
    return "&".join(pairs)


def redact_url(url: str, names: Iterable[str] | None = None) -> str:
    """``url`` with secret query parameters, passwords and known secret values redacted.

    ``names``: the secret parameter names; by default every name any client was given.
    """
    names = _all_secret_names() if names is None else _normalised(names)
    try:
        parts = urlsplit(url)
    except ValueError:
        return _redact_text(url, names)
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", f":{REDACTED}@")
    query = _redact_query(parts.query, names) if parts.query else parts.query
    return mask_known_secrets(urlunsplit(parts._replace(netloc=netloc, query=query)))


@functools.lru_cache(maxsize=16)
def _name_pattern(names: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(
        re.escape(n).replace("_", "[_-]") for n in sorted(names, key=len, reverse=True)
    )
    # a name=value pair anywhere in free text (log messages, exception text, error bodies)
    return re.compile(rf"(?i)(?<![A-Za-z0-9_.-])((?:x[_-])?(?:{alternatives}))=([^&\s#'\"]*)")


def _redact_text(text: str, names: frozenset[str] | None = None) -> str:
    names = _all_secret_names() if names is None else names
    text = _name_pattern(names).sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    return mask_known_secrets(text)


def _all_secret_names() -> frozenset[str]:
    with _names_lock:
        return frozenset(_secret_names)


def _remember_secret(value: str, name: str) -> None:
    """Make a plain-string secret (e.g. an api_key given as str) masked wherever it is logged.

    Wrapping it registers the value with the process-wide mask used by every log formatter.
    A :class:`Public` value (published on purpose, like NASA's ``DEMO_KEY``) is left readable.
    """
    if not isinstance(value, Public):
        Secret(value, name)


class _RedactUrllib3Logs(logging.Filter):
    """urllib3 logs request URLs (query string included) at DEBUG and on retry at WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_URLLIB3_FILTER = _RedactUrllib3Logs()
for _logger in ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.poolmanager"):
    logging.getLogger(_logger).addFilter(_URLLIB3_FILTER)


class _ClientRetry(Retry):
    """urllib3's Retry, sleeping through the client (injectable, deadline-aware, counted).

    ``Retry-After`` is capped here rather than with ``Retry(retry_after_max=...)``, which only
    exists in recent urllib3 releases; a malformed header falls back to the backoff.
    """

    # 413 with a Retry-After is not worth retrying for a GET: only 429 and 503 are
    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})

    def __init__(
        self,
        *args: Any,
        client: HttpClient | None = None,
        retry_after_cap: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.client = client
        self.retry_after_cap = retry_after_cap

    def new(self, **kw: Any) -> Self:
        kw.setdefault("client", self.client)
        kw.setdefault("retry_after_cap", self.retry_after_cap)
        return super().new(**kw)

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        try:
            seconds = super().get_retry_after(response)
        except InvalidHeader:
            return None
        if seconds is None or self.retry_after_cap is None:
            return seconds
        return min(seconds, self.retry_after_cap)

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        if self.client is None:
            super().sleep(response)
            return
        wait: float | None = None
        if self.respect_retry_after_header and response is not None:
            wait = self.get_retry_after(response)
        if not wait:
            wait = self.get_backoff_time()
        self.client._before_retry(self, response, wait)


class _CountingAdapter(HTTPAdapter):
    """Counts the first wire request of each send; urllib3's retries are counted in Retry.sleep."""

    def __init__(self, client: HttpClient, **kwargs: Any) -> None:
        self._client = client
        super().__init__(**kwargs)

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self._client._before_wire(request.url or "")
        response = super().send(request, *args, **kwargs)
        self._client._observe(response.headers)
        return response


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port


class _Session(requests.Session):
    """A session that drops secret headers when a redirect leaves the original host.

    requests itself only drops ``Authorization``; an ``X-Api-Key`` would follow the redirect.
    """

    def __init__(self, secret_headers: set[str]) -> None:
        super().__init__()
        self.secret_headers = secret_headers

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: Any) -> None:
        super().rebuild_auth(prepared_request, response)  # type: ignore[no-untyped-call]
        if _origin(response.request.url or "") != _origin(prepared_request.url or ""):
            for name in list(prepared_request.headers):
                if name.lower() in self.secret_headers:
                    del prepared_request.headers[name]


class _CallState(threading.local):
    deadline: float = 0.0
    url: str = ""
    attempts: int = 0


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

    The deadline is checked before every attempt, before every wait and between reads of
    the body; an attempt already under way can overrun it by at most its read timeout.
    Secret headers are not sent on a redirect to another host.

    Added to the interface: ``backoff_jitter`` (seconds of random extra backoff),
    ``slow_down_max`` (the spacing between calls when ``X-RateLimit-Remaining`` is 0; it
    shrinks linearly up to ``slow_down_below``) and ``clock`` (monotonic seconds, injectable
    together with ``sleep`` so tests run in virtual time).
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
        backoff_jitter: float = 1.0,
        slow_down_max: float = 5.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.base_url = base_url
        self._names = _normalised(secret_names)
        with _names_lock:
            _secret_names.update(self._names)
        self._headers: dict[str, str | Secret] = dict(headers or {})
        secret_headers = set()
        for name, value in self._headers.items():
            if isinstance(value, Secret) or _is_secret_name(name, self._names):
                secret_headers.add(name.lower())
                if isinstance(value, str):
                    _remember_secret(value, name)
        self._timeout = (connect_timeout, read_timeout)
        self._deadline = deadline
        self._max_retries = max_retries
        self._backoff = (backoff_factor, backoff_max, backoff_jitter)
        self._slow_down_below = slow_down_below
        self._slow_down_max = slow_down_max
        self._on_request = on_request
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic

        self._lock = threading.Lock()
        self._requests_made = 0
        self._rate_remaining: int | None = None
        self._last_start = float("-inf")
        self._call = _CallState()

        retry = _ClientRetry(
            total=max_retries,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            raise_on_status=False,  # the last 5xx/429 comes back: its status and body are reported
            respect_retry_after_header=True,
            client=self,
            retry_after_cap=retry_after_max,
            backoff_factor=backoff_factor,
            backoff_max=backoff_max,
            backoff_jitter=backoff_jitter,
        )
        adapter = _CountingAdapter(
            self, max_retries=retry, pool_connections=pool_size, pool_maxsize=pool_size
        )
        self._session = _Session(secret_headers)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    # -- public API -------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> requests.Response:
        """GET ``base_url + path``; returns a 2xx response or raises :class:`HttpError`."""
        response, _ = self._call_with_retries(path, params, decode_json=False)
        return response

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET and decode JSON; a truncated or invalid body is retried, then raises."""
        _, payload = self._call_with_retries(path, params, decode_json=True)
        return payload

    @property
    def requests_made(self) -> int:
        """Requests sent on the wire, retries included."""
        with self._lock:
            return self._requests_made

    @property
    def rate_limit_remaining(self) -> int | None:
        """The last ``X-RateLimit-Remaining`` seen, if any."""
        with self._lock:
            return self._rate_remaining

    def redact(self, url: str) -> str:
        """``url`` with secret query parameters replaced by ``REDACTED``."""
        return redact_url(url, self._names)

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one call ---------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        if not path:
            return self.base_url
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def _params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        plain: dict[str, Any] = {}
        for name, value in (params or {}).items():
            if isinstance(value, str) and _is_secret_name(name, self._names):
                _remember_secret(value, name)
            plain[name] = reveal(value)  # a Secret is revealed only here, into the request
        return plain

    def _call_with_retries(
        self, path: str, params: Mapping[str, Any] | None, *, decode_json: bool
    ) -> tuple[requests.Response, Any]:
        url = self._url(path)
        plain_params = self._params(params)
        call = self._call
        call.deadline = self._clock() + self._deadline
        call.url = self.redact(url)
        call.attempts = 0
        # Wire failures are retried inside urllib3; a broken 2xx body is only seen afterwards,
        # so it gets its own Retry (same limits and backoff) and the call is sent again.
        factor, most, jitter = self._backoff
        body_retry = Retry(
            total=self._max_retries, backoff_factor=factor, backoff_max=most, backoff_jitter=jitter
        )
        while True:
            try:
                return self._attempt(url, plain_params, decode_json)
            except _BrokenBody as broken:
                reason = str(broken)
                try:
                    body_retry = body_retry.increment("GET", call.url, error=ProtocolError(reason))
                except MaxRetryError:
                    raise HttpError(
                        f"GET {call.url}: {reason} (gave up after {_attempts(call.attempts)})",
                        url=call.url,
                        retryable=True,
                    ) from None
                wait = body_retry.get_backoff_time()
                log.info("GET %s: %s; retrying in %.2f s", call.url, reason, wait)
                try:
                    self._pause(wait)
                except _DeadlineExceeded as exc:
                    raise self._deadline_error(str(exc)) from None
            except _DeadlineExceeded as exc:
                raise self._deadline_error(str(exc)) from None

    def _deadline_error(self, detail: str) -> HttpError:
        call = self._call
        return HttpError(
            f"GET {call.url}: deadline exceeded ({self._deadline:g} s for the call and its "
            f"retries; {detail}; {_attempts(call.attempts)})",
            url=call.url,
            retryable=True,
        )

    def _attempt(
        self, url: str, params: dict[str, Any], decode_json: bool
    ) -> tuple[requests.Response, Any]:
        call = self._call
        self._pace()
        left = call.deadline - self._clock()
        if left <= 0:
            raise _DeadlineExceeded("no time left for another attempt")
        headers = {name: reveal(value) for name, value in self._headers.items()}
        started = self._clock()
        try:
            response = self._session.get(
                url,
                params=params,
                headers=headers,
                timeout=(min(self._timeout[0], left), min(self._timeout[1], left)),
                stream=True,
            )
        except requests.RequestException as exc:
            reason = self._mask(_transport_failure(exc, call.attempts))
            raise HttpError(
                f"GET {call.url}: {reason}",
                url=call.url,
                retryable=isinstance(exc, (requests.ConnectionError, requests.Timeout)),
                reason=reason,
            ) from None
        try:
            if not 200 <= response.status_code < 300:
                raise self._status_error(response)
            try:
                content = self._read_body(response)
            except (Urllib3Error, OSError, requests.RequestException) as exc:
                raise _BrokenBody(
                    f"body broken off ({type(exc).__name__}: {self._mask(str(exc))})"
                ) from None
            response._content = content
            response._content_consumed = True  # type: ignore[attr-defined]
            log.debug(
                "GET %s -> %d (%d bytes, %.2f s)",
                call.url,
                response.status_code,
                len(content),
                self._clock() - started,
            )
            if not decode_json:
                return response, None
            if response.status_code == 204:
                return response, None
            try:
                return response, json.loads(content)
            except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
                raise _BrokenBody(f"invalid JSON ({exc})") from None
        finally:
            response.close()

    def _status_error(self, response: requests.Response) -> HttpError:
        call = self._call
        status = response.status_code
        try:
            raw = self._read_body(response, limit=_ERROR_BODY_READ)
        except (Urllib3Error, OSError, requests.RequestException, _DeadlineExceeded):
            raw = b""
        body = self._mask(raw.decode(response.encoding or "utf-8", errors="replace"))
        body = body[:_BODY_IN_ERROR]
        snippet = " ".join(body.split())[:200]
        retryable = status in RETRY_STATUSES
        tries = f" after {_attempts(call.attempts)}" if retryable else ""
        return HttpError(
            f"GET {call.url}: HTTP {status} {response.reason or ''}".rstrip()
            + f"{tries}: {snippet or '(empty body)'}",
            url=call.url,
            status=status,
            body=body,
            retryable=retryable,
        )

    def _read_body(self, response: requests.Response, limit: int | None = None) -> bytes:
        """Read the body, checking the deadline between reads.

        ``read1`` returns whatever has arrived (one socket read), so a body that trickles in
        byte by byte still comes back to the deadline check; ``iter_content`` would block until
        a whole chunk had arrived.
        """
        raw = response.raw
        chunks: list[bytes] = []
        size = 0
        while limit is None or size < limit:
            if self._clock() > self._call.deadline:
                raise _DeadlineExceeded(f"body still arriving after {size} bytes")
            chunk = raw.read1(_READ_SIZE, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    def _mask(self, text: str) -> str:
        return _redact_text(text, self._names)

    # -- hooks called from the adapter and from urllib3's retry loop ---------------------------

    def _before_wire(self, url: str) -> None:
        """Every request that goes on the wire passes here (first attempts and retries)."""
        call = self._call
        if url:
            call.url = self.redact(url)
        call.attempts += 1
        with self._lock:
            self._requests_made += 1
        log.debug("GET %s (attempt %d)", call.url, call.attempts)
        if self._on_request is not None:
            self._on_request()

    def _before_retry(self, retry: Retry, response: BaseHTTPResponse | None, wait: float) -> None:
        call = self._call
        if response is not None:
            self._observe(response.headers)
            why = f"HTTP {response.status}"
        else:
            error = retry.history[-1].error if retry.history else None
            why = self._mask(_without_connection_repr(error)) if error else "error"
        log.info("GET %s: %s; retry %d in %.2f s", call.url, why, call.attempts, wait)
        self._pause(wait)
        self._before_wire("")

    def _pause(self, seconds: float) -> None:
        """Sleep before the next attempt, unless the deadline has passed or would meanwhile."""
        left = self._call.deadline - self._clock()
        if left <= 0:
            raise _DeadlineExceeded("no time left for another attempt")
        if seconds <= 0:
            return
        if seconds >= left:
            raise _DeadlineExceeded(f"waiting {seconds:.2f} s would leave no time to retry")
        self._sleep(seconds)

    def _observe(self, headers: Mapping[str, str]) -> None:
        value = headers.get("X-RateLimit-Remaining")
        if value is None:
            return
        try:
            remaining = int(value.strip())
        except ValueError:
            return
        with self._lock:
            self._rate_remaining = remaining

    def _pace(self) -> None:
        """Space calls out (across threads) while the rate budget is running low."""
        with self._lock:
            now = self._clock()
            remaining = self._rate_remaining
            if remaining is None or remaining >= self._slow_down_below:
                self._last_start = now
                return
            shortage = (self._slow_down_below - max(remaining, 0)) / self._slow_down_below
            interval = self._slow_down_max * shortage
            start = max(now, self._last_start + interval)
            self._last_start = start
        wait = start - now
        if wait > 0:
            log.info(
                "X-RateLimit-Remaining is %d (below %d): spacing requests %.2f s apart, "
                "waiting %.2f s",
                remaining,
                self._slow_down_below,
                interval,
                wait,
            )
            self._pause(wait)
