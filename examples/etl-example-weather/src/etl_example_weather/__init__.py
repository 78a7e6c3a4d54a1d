"""example.weather: hourly weather for one place from the Open-Meteo archive API.

The API answers in columns (``{"hourly": {"time": [...], "temperature_2m": [...]}}``) with
times in the requested zone, and lags a few days behind: recent hours come as ``null``.
This source turns the columns into rows, stores times in UTC, and never moves its watermark
past an hour the API did not have yet, so a later run fills it in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import etlcore
from etlcore.contract import Batch, Column, Record, Source, StepContext, Stream

DEFAULT_API_URL = "https://archive-api.open-meteo.com"

OBSERVATION = Stream(
    name="weather_observation",
    primary_key=("location", "observed_at"),
    columns=(
        Column("location", "string", nullable=False, description="The configured place name."),
        Column("observed_at", "timestamp", nullable=False, description="Start of the hour (UTC)."),
        Column("temperature_c", "number", description="Air temperature 2 m above ground, °C."),
        Column("precipitation_mm", "number", description="Rain, showers and snow in the hour."),
    ),
    description="One row per place and hour.",
)


class WeatherSource(Source):
    """Hourly temperature and precipitation for one place, one window of days per request."""

    name = "example.weather"
    description = "Hourly temperature and precipitation for one place (Open-Meteo archive)."
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["location", "latitude", "longitude", "start_date"],
        "properties": {
            "location": {
                "type": "string",
                "pattern": "^[a-z0-9_-]+$",
                "description": "A name for the place; part of the primary key.",
            },
            "latitude": {"type": "number", "minimum": -90, "maximum": 90},
            "longitude": {"type": "number", "minimum": -180, "maximum": 180},
            "start_date": {
                "type": "string",
                "format": "date",
                "description": "The first day a first run loads.",
            },
            "window_days": {
                "type": "integer",
                "minimum": 1,
                "maximum": 31,
                "description": "Days per request. Default: 7.",
            },
            "api_url": {
                "type": "string",
                "minLength": 1,
                "description": f"The API root. Default: {DEFAULT_API_URL}.",
            },
        },
    }

    def streams(self) -> Sequence[Stream]:
        return (OBSERVATION,)

    def extract(self, ctx: StepContext, state: Mapping[str, Any] | None) -> Iterator[Batch]:
        """One request per window of days; the watermark is the next day to ask for.

        ``--since`` re-reads from a day (a backfill); ``--until`` stops at a day (default:
        yesterday, the last complete day).
        """
        start = dt.date.fromisoformat(state["next_date"] if state else self.config["start_date"])
        if ctx.options.since:
            start = ctx.options.since
        last = ctx.options.until or dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
        window = dt.timedelta(days=self.config.get("window_days", 7))
        api_url = self.config.get("api_url", DEFAULT_API_URL)
        with ctx.http_client(api_url) as client:
            while start <= last and not ctx.stop_requested():
                end = min(start + window - dt.timedelta(days=1), last)
                body = client.get_json("/v1/archive", self.query(start, end))
                records = parse_hourly(self.config["location"], body)
                next_date = first_incomplete_day(records) or end + dt.timedelta(days=1)
                yield from batches(records, ctx.batch_size, {"next_date": next_date.isoformat()})
                if next_date <= end:
                    return  # the API has nothing newer yet: stop, and start here next time
                start = next_date

    def query(self, start: dt.date, end: dt.date) -> dict[str, Any]:
        return {
            "latitude": self.config["latitude"],
            "longitude": self.config["longitude"],
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "hourly": "temperature_2m,precipitation",
            "timezone": "GMT",
        }


def parse_hourly(location: str, body: Mapping[str, Any]) -> list[Record]:
    """The API's columns as rows, times moved to UTC by the answer's ``utc_offset_seconds``."""
    hourly = body["hourly"]
    offset = dt.timedelta(seconds=body.get("utc_offset_seconds", 0))
    rows = zip(hourly["time"], hourly["temperature_2m"], hourly["precipitation"], strict=True)
    return [
        {
            "location": location,
            "observed_at": (dt.datetime.fromisoformat(time) - offset).replace(tzinfo=dt.UTC),
            "temperature_c": temperature,
            "precipitation_mm": precipitation,
        }
        for time, temperature, precipitation in rows
    ]


def first_incomplete_day(records: list[Record]) -> dt.date | None:
    """The first day with an hour the API has no temperature for yet, if any."""
    missing = [r["observed_at"].date() for r in records if r["temperature_c"] is None]
    return min(missing, default=None)


def batches(records: list[Record], size: int, state: dict[str, Any]) -> Iterator[Batch]:
    """Batches of at most ``size`` records; only the window's last batch carries the watermark
    (a crash in the middle of a window then re-reads the whole window, never skips part of it).
    """
    if not records:
        yield Batch({OBSERVATION.name: []}, state=state)
        return
    for offset in range(0, len(records), size):
        last = offset + size >= len(records)
        chunk = records[offset : offset + size]
        yield Batch({OBSERVATION.name: chunk}, state=state if last else None)


@etlcore.hookimpl
def register_sources(register: Any) -> None:
    register(WeatherSource)
