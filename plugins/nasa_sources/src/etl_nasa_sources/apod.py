"""``nasa.apod``: Astronomy Picture of the Day, in date-range windows."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from etl_nasa_sources.batching import chunks, dedupe_by_key
from etl_nasa_sources.date_windows import DateWindow, date_windows, parse_date, today_us_eastern
from etl_nasa_sources.nasa_api import (
    COMMON_CONFIG_PROPERTIES,
    DEFAULT_API_URL,
    NasaApi,
    NasaDataError,
    open_api,
)
from etl_nasa_sources.ordered_fetch import fetch_in_order
from etl_nasa_sources.streams import APOD
from etlcore.contract import Batch, Record, Source, StepContext, Stream

APOD_PATH = "/planetary/apod"
FIRST_APOD = dt.date(1995, 6, 16)
"""APOD answers 400 for anything earlier."""

_MAPPED = frozenset(
    {
        "date",
        "title",
        "explanation",
        "media_type",
        "url",
        "hdurl",
        "thumbnail_url",
        "copyright",
        "service_version",
    }
)
_NEWLINES = re.compile(r"\s*\n\s*")


def clean_copyright(value: object) -> str | None:
    """APOD wraps credits in newlines (``"\\nMartin Pugh\\n"``): trim them; NULL when absent."""
    if value is None:
        return None
    text = _NEWLINES.sub(" ", str(value)).strip()
    return text or None


def _optional_text(value: object) -> str | None:
    return None if value is None else str(value)


def parse_apod_entry(entry: Mapping[str, Any], window: DateWindow | None = None) -> Record:
    """One APOD entry as an ``apod`` record.

    ``window`` is the request's range: an entry dated outside it is not what was asked for
    and raises :class:`NasaDataError` rather than loading under a wrong date.
    """
    if not isinstance(entry, Mapping):
        raise NasaDataError(f"APOD sent {type(entry).__name__} where an entry was expected")
    try:
        day = parse_date(entry.get("date"), "APOD entry date")
    except ValueError as exc:
        raise NasaDataError(str(exc)) from None
    if window is not None and day not in window:
        raise NasaDataError(
            f"APOD returned an entry dated {day} for a request of {window.start}..{window.end}; "
            "refusing to load data that was not asked for"
        )
    extra = {k: v for k, v in entry.items() if k not in _MAPPED}
    return {
        "date": day,
        "title": _optional_text(entry.get("title")),
        # An empty explanation is what NASA published: keep "" rather than inventing NULL.
        "explanation": _optional_text(entry.get("explanation")),
        "media_type": _optional_text(entry.get("media_type")),
        "url": _optional_text(entry.get("url")),
        "hdurl": _optional_text(entry.get("hdurl")),
        "thumbnail_url": _optional_text(entry.get("thumbnail_url")),
        "copyright": clean_copyright(entry.get("copyright")),
        "service_version": _optional_text(entry.get("service_version")),
        "raw": extra or None,
    }


class ApodSource(Source):
    """APOD entries by date range: a few requests a year, a short lookback every run."""

    name: ClassVar[str] = "nasa.apod"
    description: ClassVar[str] = "NASA Astronomy Picture of the Day (stream apod)."
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            **COMMON_CONFIG_PROPERTIES,
            "window_days": {
                "type": "integer",
                "minimum": 1,
                "maximum": 366,
                "description": "Days per range request (default 92: a year in 4 calls).",
            },
        },
        "additionalProperties": False,
    }

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "api_url": DEFAULT_API_URL,
        "workers": 2,
        "lookback_days": 2,
        "window_days": 92,
        "initial_days": 30,
    }

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__({**self.DEFAULTS, **dict(config)})

    def streams(self) -> Sequence[Stream]:
        return (APOD,)

    def plan(
        self, ctx: StepContext, state: Mapping[str, Any] | None, today: dt.date
    ) -> tuple[dt.date, dt.date]:
        """The range of dates this run asks for (inclusive)."""
        last = state.get("last_date") if state else None
        if ctx.options.since is not None:
            start = ctx.options.since
        elif last:
            start = parse_date(last, "apod watermark") - dt.timedelta(
                days=self.config["lookback_days"] - 1
            )
        elif self.config.get("default_start"):
            start = parse_date(self.config["default_start"], "default_start")
        else:
            start = today - dt.timedelta(days=self.config["initial_days"] - 1)
        end = min(ctx.options.until or today, today)  # never ask for an unpublished day
        return max(start, FIRST_APOD), end

    def extract(self, ctx: StepContext, state: Mapping[str, Any] | None) -> Iterator[Batch]:
        today = today_us_eastern()
        start, end = self.plan(ctx, state, today)
        previous = state.get("last_date") if state else None
        if start > end:
            ctx.log.info("apod: nothing to fetch (%s..%s)", start, end)
            return
        windows = list(date_windows(start, end, self.config["window_days"]))
        api = open_api(ctx, self.config, "nasa.apod", self.config["api_url"])
        try:
            for window, entries in fetch_in_order(
                lambda w: self._fetch(api, w),
                windows,
                workers=self.config["workers"],
                stop_requested=ctx.stop_requested,
                name="apod",
            ):
                records = dedupe_by_key([parse_apod_entry(e, window) for e in entries], ("date",))
                records.sort(key=lambda r: r["date"])
                # The watermark never moves back: a backfill of old dates keeps it.
                if previous is None or window.end.isoformat() > previous:
                    previous = window.end.isoformat()
                parts = list(chunks(records, ctx.batch_size))
                for index, part in enumerate(parts):
                    last_part = index == len(parts) - 1
                    yield Batch(
                        {"apod": list(part)},
                        state={"last_date": previous} if last_part else None,
                    )
        finally:
            api.close()

    @staticmethod
    def _fetch(api: NasaApi, window: DateWindow) -> list[Any]:
        params = {
            "start_date": window.start.isoformat(),
            "end_date": window.end.isoformat(),
            "thumbs": "true",
        }
        data = api.get_json(APOD_PATH, params)
        if isinstance(data, dict):  # a one-day range can come back as a bare object
            data = [data]
        if not isinstance(data, list):
            raise NasaDataError(f"APOD sent {type(data).__name__} for {params}, expected a list")
        return data
