"""Talking to api.nasa.gov (and Mars mirrors): the key header, and errors a user can act on.

Retries, backoff, rate budgets and redaction are the engine's HTTP helper's job
(:mod:`etlcore.http`); this module only turns what NASA says into clear exceptions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from etlcore.contract import StepContext
from etlcore.http import HttpClient, HttpError
from etlcore.secrets import Public, Secret, reveal

DEFAULT_API_URL = "https://api.nasa.gov"
DEMO_KEY = "DEMO_KEY"
KEY_HEADER = "X-Api-Key"

log = logging.getLogger("etl_nasa_sources")


class NasaApiError(RuntimeError):
    """A NASA request failed for good; the message says which request and why."""


class NasaApiKeyError(NasaApiError):
    """The gateway refused the key (API_KEY_MISSING / API_KEY_INVALID): retrying cannot help."""


class NasaBadRequestError(NasaApiError):
    """NASA answered 400: the request itself is wrong (dates out of range, window too long)."""


class NasaRateLimitError(NasaApiError):
    """Still over the rate limit after the HTTP helper's retries."""


class NasaDataError(NasaApiError):
    """NASA answered 200 with data that contradicts the request (e.g. a date not asked for)."""


# Common config properties of the three sources; each source adds its own.
COMMON_CONFIG_PROPERTIES: dict[str, Any] = {
    "api_url": {
        "type": "string",
        "minLength": 1,
        "description": "API root (default https://api.nasa.gov); e.g. ${env:NASA_API_URL}.",
    },
    "api_key": {
        "type": "string",
        "minLength": 1,
        "description": "NASA key, sent in the X-Api-Key header; default DEMO_KEY (50/day).",
    },
    "workers": {
        "type": "integer",
        "minimum": 1,
        "maximum": 32,
        "description": "Requests in flight at once (default: APOD 2, NeoWs 4, Mars 4).",
    },
    "lookback_days": {
        "type": "integer",
        "minimum": 0,
        "maximum": 366,
        "description": "Days before the watermark re-pulled each run (APOD 2, NeoWs 14, Mars 30).",
    },
    "window_days": {"type": "integer", "minimum": 1, "description": "Days per request."},
    "default_start": {
        "type": "string",
        "format": "date",
        "description": "First date of a first run (no state, no --since).",
    },
    "initial_days": {
        "type": "integer",
        "minimum": 1,
        "description": "Without default_start: a first run takes this many recent days.",
    },
    "max_retries": {
        "type": "integer",
        "minimum": 0,
        "maximum": 20,
        "description": "Retries on 429/5xx/broken JSON (default: the HTTP helper's, 5).",
    },
    "backoff_factor": {
        "type": "number",
        "minimum": 0,
        "description": "Exponential backoff base in seconds (default: the HTTP helper's).",
    },
    "read_timeout": {
        "type": "number",
        "exclusiveMinimum": 0,
        "description": "Seconds to wait for an answer (default: the HTTP helper's, 30).",
    },
}
HTTP_TUNING = ("max_retries", "backoff_factor", "read_timeout")
"""Config keys passed through to :class:`etlcore.http.HttpClient` when set."""


def describe_request(path: str, params: Mapping[str, Any] | None) -> str:
    """``GET /path?a=1&b=2`` for messages (the key is never a parameter: it travels in a header)."""
    query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
    return f"GET {path}" + (f"?{query}" if query else "")


def _nasa_message(body: str) -> tuple[str | None, str]:
    """(code, message) from any of NASA's three error shapes, or (None, body)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None, body.strip()[:200]
    if not isinstance(data, dict):
        return None, body.strip()[:200]
    error = data.get("error")
    if isinstance(error, dict):  # api.data.gov gateway: {"error": {"code", "message"}}
        return str(error.get("code")), str(error.get("message", ""))
    if "error_message" in data:  # NeoWs (Spring): {"code", "http_error", "error_message"}
        return str(data.get("http_error")), str(data["error_message"])
    if "msg" in data:  # APOD: {"code", "msg", "service_version"}
        return str(data.get("code")), str(data["msg"])
    if "errors" in data:  # Mars Rover Photos: {"errors": "Invalid Rover Name"}
        return None, str(data["errors"])
    return None, body.strip()[:200]


class NasaApi:
    """One source step's connection: an :class:`HttpClient` plus NASA's error semantics."""

    def __init__(self, client: HttpClient, service: str) -> None:
        self.client = client
        self.service = service

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET and decode JSON; raise a :class:`NasaApiError` subclass that names the request."""
        try:
            return self.client.get_json(path, params)
        except HttpError as exc:
            raise self._translate(exc, path, params) from exc

    def _translate(
        self, exc: HttpError, path: str, params: Mapping[str, Any] | None
    ) -> NasaApiError:
        request = describe_request(path, params)
        code, message = _nasa_message(exc.body or "")
        if exc.status == 403 and code in ("API_KEY_MISSING", "API_KEY_INVALID", "API_KEY_DISABLED"):
            return NasaApiKeyError(
                f"{self.service}: NASA refused the API key ({code}: {message}) on {request}. "
                "Set NASA_API_KEY to a valid key from https://api.nasa.gov (or leave it unset "
                "to use DEMO_KEY, 50 requests a day)."
            )
        if exc.status == 429:
            return NasaRateLimitError(
                f"{self.service}: over NASA's rate limit ({code or 429}) on {request}, even after "
                "backing off. Wait for the hourly quota to refill, lower `workers`, or use your "
                "own key instead of DEMO_KEY. Everything committed so far is kept; the next run "
                "resumes from the last watermark."
            )
        if exc.status == 400:
            return NasaBadRequestError(
                f"{self.service}: NASA rejected {request} (HTTP 400): {message}"
            )
        status = f"HTTP {exc.status}" if exc.status is not None else "no HTTP answer"
        return NasaApiError(f"{self.service}: {request} failed ({status}): {message or exc.reason}")

    def close(self) -> None:
        self.client.close()


def open_api(
    ctx: StepContext,
    config: Mapping[str, Any],
    service: str,
    base_url: str,
    *,
    send_key: bool = True,
) -> NasaApi:
    """Build the step's client; the key goes in the ``X-Api-Key`` header, never in a URL."""
    headers: dict[str, str | Secret] = {"Accept": "application/json"}
    if send_key:
        key = config.get("api_key") or DEMO_KEY
        if reveal(key) == DEMO_KEY:
            ctx.log.warning(
                "%s: using NASA's DEMO_KEY, which allows 30 requests an hour and 50 a day; "
                "set NASA_API_KEY to your own key (free at https://api.nasa.gov).",
                service,
            )
        if key == DEMO_KEY:  # a plain string: a Secret never equals a str
            key = Public(key)  # published by NASA: masking it would hide the word in every log
        elif not isinstance(key, Secret):
            key = Secret(str(key), "api_key")
        headers[KEY_HEADER] = key
    tuning = {name: config[name] for name in HTTP_TUNING if config.get(name) is not None}
    client = ctx.http_client(base_url.rstrip("/"), headers=headers, **tuning)
    return NasaApi(client, service)


def is_nasa_host(url: str) -> bool:
    """True for api.nasa.gov: only NASA's own gateway gets the NASA key."""
    host = urlsplit(url).hostname or ""
    return host == "api.nasa.gov" or host.endswith(".api.nasa.gov")
