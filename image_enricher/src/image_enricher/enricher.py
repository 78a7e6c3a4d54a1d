"""The ``image_enricher.analyze`` enricher: width, height and format of each image row.

Remote mode (``service_url`` set) calls the analyzer service's batch endpoint; in-process
mode runs the same SSRF-safe fetcher and header parser here. Either way a row always loads:
a failure is written on it (``enrich_status`` "failed", ``enrich_error`` a stable code) and
a later run tries again, while a row already enriched with the same URL is not fetched again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from etlcore.contract import Batch, Enricher, Record, StepContext
from etlcore.secrets import reveal
from image_enricher.errors import AnalysisError, ErrorCode
from image_enricher.fetch import FetchLimits, ImageAnalyzer, ImageInfo
from image_enricher.policy import DEFAULT_ALLOWED_HOSTS, UrlPolicy
from image_enricher.remote import Outcome, ServiceClient

log = logging.getLogger("image_enricher.enricher")

RESULT_COLUMNS = (
    "image_width",
    "image_height",
    "image_format",
    "image_bytes_read",
    "enrich_status",
    "enrich_error",
    "enriched_at",
)
"""The columns this enricher fills (declared on the stream by ``nasa.unify``)."""

_LIMITS = FetchLimits()
_STRING_LIST = {"type": "array", "items": {"type": "string"}}


def _comma_list(value: Any, default: Sequence[str]) -> list[str]:
    """A list from YAML, or from one comma-separated string (what ``${env:…}`` gives)."""
    if value is None:
        return list(default)
    if isinstance(value, str):
        items = [item.strip() for item in value.split(",") if item.strip()]
        return items if items or not default else list(default)
    return [str(item).strip() for item in value if str(item).strip()]


class AnalyzeImages(Enricher):
    """Fills ``image_width``, ``image_height``, ``image_format`` and the enrich status."""

    name = "image_enricher.analyze"
    description = (
        "Width, height and format of image rows from the first bytes of each image, "
        "through the analyzer service (service_url) or in-process with the same safe fetcher."
    )
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "stream": {
                "type": "string",
                "minLength": 1,
                "description": "Stream whose records are enriched (default nasa_event).",
            },
            "url_column": {"type": "string", "minLength": 1, "description": "Default media_url."},
            "media_type_column": {
                "type": "string",
                "minLength": 1,
                "description": "Rows whose value is not 'image' are skipped. Default media_type.",
            },
            "primary_key": {
                **_STRING_LIST,
                "minItems": 1,
                "description": "Primary key of the stream (default [source, source_id]).",
            },
            "service_url": {
                "type": "string",
                "description": "Analyzer service URL: remote mode when non-empty "
                "(e.g. ${env:LIGHTSAIL_API:-}); in-process when empty (default).",
            },
            "api_key": {
                "type": "string",
                "description": "Bearer key of the service, e.g. ${secret:ENRICHER_API_KEY}.",
            },
            "workers": {
                "type": "integer",
                "minimum": 1,
                "maximum": 64,
                "description": "Concurrent fetches (in-process) or service calls (remote). 8.",
            },
            "timeout_seconds": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "Remote: the longest one call to the service may take. 60.",
            },
            "batch_size": {
                "type": "integer",
                "minimum": 1,
                "maximum": 500,
                "description": "Remote: URLs per call (at most the service's limit). 25.",
            },
            "circuit_breaker_failures": {
                "type": "integer",
                "minimum": 1,
                "description": "Remote: failed calls in a row before the service is "
                "not called again in this run. 3.",
            },
            "allowed_hosts": {
                "anyOf": [_STRING_LIST, {"type": "string"}],
                "description": "In-process: hosts (host or host:port) images may come from; "
                "a list or a comma-separated string. Default the NASA image hosts.",
            },
            "allow_private_networks": {
                "anyOf": [_STRING_LIST, {"type": "string"}],
                "description": "In-process: CIDRs exempted from the address check, for tests "
                "and offline demos only. Default none.",
            },
            "deadline_seconds": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": f"In-process: total seconds per image. {_LIMITS.deadline:g}.",
            },
            "connect_timeout_seconds": {"type": "number", "exclusiveMinimum": 0},
            "read_timeout_seconds": {"type": "number", "exclusiveMinimum": 0},
            "max_header_bytes": {"type": "integer", "minimum": 1024},
            "max_file_bytes": {"type": "integer", "minimum": 1},
            "max_pixels": {"type": "integer", "minimum": 1},
            "max_redirects": {"type": "integer", "minimum": 0, "maximum": 10},
        },
    }

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.stream: str = config.get("stream", "nasa_event")
        self.url_column: str = config.get("url_column", "media_url")
        self.media_type_column: str = config.get("media_type_column", "media_type")
        self.primary_key: tuple[str, ...] = tuple(
            config.get("primary_key", ("source", "source_id"))
        )
        self.workers: int = config.get("workers", 8)
        service_url = str(reveal(config.get("service_url") or "")).strip()
        self.client: ServiceClient | None = None
        self.analyzer: ImageAnalyzer | None = None
        self._pool: ThreadPoolExecutor | None = None
        if service_url:
            api_key = reveal(config.get("api_key")) or None
            if api_key is None:
                log.warning("service_url is set but api_key is empty: the service will refuse")
            self.client = ServiceClient(
                service_url,
                api_key,
                timeout_seconds=config.get("timeout_seconds", 60.0),
                batch_size=config.get("batch_size", 25),
                workers=self.workers,
                breaker_threshold=config.get("circuit_breaker_failures", 3),
            )
        else:
            policy = UrlPolicy.build(
                _comma_list(config.get("allowed_hosts"), DEFAULT_ALLOWED_HOSTS),
                _comma_list(config.get("allow_private_networks"), ()),
            )
            limits = FetchLimits(
                max_header_bytes=config.get("max_header_bytes", _LIMITS.max_header_bytes),
                max_file_bytes=config.get("max_file_bytes", _LIMITS.max_file_bytes),
                max_pixels=config.get("max_pixels", _LIMITS.max_pixels),
                connect_timeout=config.get("connect_timeout_seconds", _LIMITS.connect_timeout),
                read_timeout=config.get("read_timeout_seconds", _LIMITS.read_timeout),
                deadline=config.get("deadline_seconds", _LIMITS.deadline),
                max_redirects=config.get("max_redirects", _LIMITS.max_redirects),
            )
            self.analyzer = ImageAnalyzer(policy, limits)

    @property
    def mode(self) -> str:
        return "remote" if self.client is not None else "in-process"

    def enrich(self, batch: Batch, ctx: StepContext) -> Batch:
        rows = batch.records.get(self.stream)
        if not rows:
            return batch
        image_rows: list[Record] = []
        skipped = 0
        for row in rows:
            url = row.get(self.url_column)
            if row.get(self.media_type_column) == "image" and isinstance(url, str) and url.strip():
                image_rows.append(row)
            else:
                _fill(row, status="skipped")
                skipped += 1
        stored = self._stored(ctx, image_rows)
        to_fetch: dict[str, list[Record]] = {}
        reused = 0
        for row in image_rows:
            previous = stored.get(self._key(row))
            if (
                previous is not None
                and previous.get("enrich_status") == "ok"
                and previous.get(self.url_column) == row[self.url_column]
            ):
                _copy_stored(row, previous)
                reused += 1
            else:
                to_fetch.setdefault(row[self.url_column].strip(), []).append(row)
        outcomes = self._analyze(list(to_fetch))
        now = dt.datetime.now(dt.UTC)
        errors: Counter[str] = Counter()
        for url, outcome in outcomes.items():
            for row in to_fetch[url]:
                if isinstance(outcome, ImageInfo):
                    _fill(row, status="ok", info=outcome, at=now)
                else:
                    _fill(row, status="failed", error=outcome.code.value, at=now)
                    errors[outcome.code.value] += 1
        fetched = sum(len(group) for group in to_fetch.values())
        ctx.log.info(
            "images (%s): %d analysed, %d failed%s, %d already enriched, %d skipped",
            self.mode,
            fetched - sum(errors.values()),
            sum(errors.values()),
            f" ({', '.join(f'{code}: {n}' for code, n in errors.most_common())})" if errors else "",
            reused,
            skipped,
        )
        return batch

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _key(self, row: Record) -> tuple[Any, ...]:
        return tuple(row.get(column) for column in self.primary_key)

    def _stored(self, ctx: StepContext, rows: Sequence[Record]) -> dict[tuple[Any, ...], Record]:
        keys = list(dict.fromkeys(self._key(row) for row in rows))
        keys = [key for key in keys if None not in key]
        if not keys:
            return {}
        try:
            return ctx.lookup(self.stream, keys, [self.url_column, *RESULT_COLUMNS])
        except Exception as exc:  # the sink could not look: enrich everything again
            ctx.log.warning("could not look up enriched rows (%s): all images are fetched", exc)
            return {}

    def _analyze(self, urls: list[str]) -> dict[str, Outcome]:
        if not urls:
            return {}
        if self.client is not None:
            return self.client.analyze_many(urls)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="enricher")
        return dict(zip(urls, self._pool.map(self._analyze_one, urls), strict=True))

    def _analyze_one(self, url: str) -> Outcome:
        assert self.analyzer is not None
        try:
            return self.analyzer.analyze(url)
        except AnalysisError as exc:
            return exc
        except Exception as exc:  # a bug must not drop the row: it loads, marked failed
            return AnalysisError(ErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}")


def _fill(
    row: Record,
    *,
    status: str,
    info: ImageInfo | None = None,
    error: str | None = None,
    at: dt.datetime | None = None,
) -> None:
    row["image_width"] = info.width if info else None
    row["image_height"] = info.height if info else None
    row["image_format"] = info.format if info else None
    row["image_bytes_read"] = info.bytes_read if info else None
    row["enrich_status"] = status
    row["enrich_error"] = error
    # Skipped rows carry no time: re-running leaves them unchanged (no rewrite in the sink).
    row["enriched_at"] = at


def _copy_stored(row: Record, stored: Record) -> None:
    for column in RESULT_COLUMNS:
        row[column] = stored.get(column)
    enriched_at = row["enriched_at"]
    if isinstance(enriched_at, str):
        enriched_at = dt.datetime.fromisoformat(enriched_at)
    if isinstance(enriched_at, dt.datetime) and enriched_at.tzinfo is None:
        enriched_at = enriched_at.replace(tzinfo=dt.UTC)  # sinks store UTC
    row["enriched_at"] = enriched_at
