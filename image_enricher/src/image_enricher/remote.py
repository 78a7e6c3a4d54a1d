"""The client of the analyzer service: batch endpoint, concurrent calls, a circuit breaker.

Used by the enricher plugin in remote mode (``service_url`` set, e.g. from ``LIGHTSAIL_API``).
A call that fails (connection, timeout, 5xx, refused key, garbled answer) fails the rows it
carried; after ``breaker_threshold`` such calls in a row the service is not called again for
the rest of the run, and the remaining rows fail with ``service_unavailable`` at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError

from image_enricher.errors import AnalysisError, ErrorCode
from image_enricher.fetch import ImageInfo

Outcome = ImageInfo | AnalysisError

log = logging.getLogger("image_enricher.remote")


def service_base(service_url: str) -> str:
    """The service root from ``service_url``; the seed's ``…/analyze-image`` form is accepted."""
    url = service_url.strip().rstrip("/")
    for suffix in ("/analyze-images", "/analyze-image"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("service_url must be an http(s) URL such as https://host/")
    if parts.username or parts.password:
        raise ValueError("service_url must not carry a user or password: use api_key")
    return url


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; any success closes the count again."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self._failures = 0
        self._open = False
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        with self._lock:
            return self._open

    def success(self) -> None:
        with self._lock:
            if not self._open:
                self._failures = 0

    def failure(self) -> bool:
        """Count a failure; True when this one opened the breaker."""
        with self._lock:
            self._failures += 1
            if not self._open and self._failures >= self.threshold:
                self._open = True
                return True
            return False


class ServiceClient:
    """Analyses URLs through ``POST /analyze-images`` of a running service."""

    def __init__(
        self,
        service_url: str,
        api_key: str | None,
        *,
        timeout_seconds: float = 60.0,
        batch_size: int = 25,
        workers: int = 4,
        breaker_threshold: int = 3,
    ) -> None:
        self.base = service_base(service_url)
        self.batch_size = batch_size
        self.breaker = CircuitBreaker(breaker_threshold)
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout = urllib3.Timeout(connect=min(10.0, timeout_seconds), read=timeout_seconds)
        self._http = urllib3.PoolManager(maxsize=workers, retries=False, timeout=self._timeout)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="enricher-remote")
        self.calls = 0
        self._calls_lock = threading.Lock()

    @property
    def where(self) -> str:
        """The service's scheme and host, safe to log."""
        parts = urlsplit(self.base)
        return f"{parts.scheme}://{parts.netloc}"

    def analyze_many(self, urls: Sequence[str]) -> dict[str, Outcome]:
        """One outcome per URL; never raises for a service problem."""
        chunks = [urls[i : i + self.batch_size] for i in range(0, len(urls), self.batch_size)]
        outcomes: dict[str, Outcome] = {}
        for chunk_outcomes in self._pool.map(self._analyze_chunk, chunks):
            outcomes.update(chunk_outcomes)
        return outcomes

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._http.clear()

    def _analyze_chunk(self, urls: Sequence[str]) -> dict[str, Outcome]:
        if self.breaker.open:
            return self._all_failed(urls, ErrorCode.SERVICE_UNAVAILABLE, "circuit breaker open")
        with self._calls_lock:
            self.calls += 1
        try:
            response = self._http.request(
                "POST",
                f"{self.base}/analyze-images",
                json={"image_urls": list(urls)},
                headers=self._headers,
            )
        except HTTPError as exc:
            return self._failed_call(urls, f"cannot reach the service ({type(exc).__name__})")
        if response.status == 401:
            return self._failed_call(
                urls, "the service refused the API key", ErrorCode.UNAUTHORIZED
            )
        if response.status != 200:
            return self._failed_call(urls, f"the service answered HTTP {response.status}")
        try:
            results = response.json()["results"]
            if not isinstance(results, list) or len(results) != len(urls):
                raise ValueError("wrong number of results")
            outcomes = {url: _outcome(result) for url, result in zip(urls, results, strict=True)}
        except (ValueError, KeyError, TypeError):
            return self._failed_call(urls, "the service sent an answer that does not parse")
        self.breaker.success()
        return outcomes

    def _failed_call(
        self, urls: Sequence[str], why: str, code: ErrorCode = ErrorCode.SERVICE_UNAVAILABLE
    ) -> dict[str, Outcome]:
        if self.breaker.failure():
            log.warning(
                "image service %s failed %d times in a row (%s): not called again in this run",
                self.where,
                self.breaker.threshold,
                why,
            )
        else:
            log.warning("image service %s: %s", self.where, why)
        return self._all_failed(urls, code, why)

    @staticmethod
    def _all_failed(urls: Sequence[str], code: ErrorCode, why: str) -> dict[str, Outcome]:
        return {url: AnalysisError(code, why) for url in urls}


def _outcome(result: Any) -> Outcome:
    if not isinstance(result, dict):
        raise TypeError("a result must be an object")
    if "error" in result:
        try:
            code = ErrorCode(result["error"])
        except ValueError:
            code = ErrorCode.INTERNAL_ERROR
        return AnalysisError(code, str(result.get("message", ""))[:200])
    width, height, fmt = result["width"], result["height"], result["format"]
    bytes_read = result.get("bytes_read")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (width, height)):
        raise TypeError("width and height must be integers")
    if not isinstance(fmt, str):
        raise TypeError("format must be a string")
    return ImageInfo(width, height, fmt, bytes_read if isinstance(bytes_read, int) else 0)
