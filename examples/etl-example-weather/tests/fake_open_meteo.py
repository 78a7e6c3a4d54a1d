"""A fake of the Open-Meteo archive endpoint, for the kit's local HTTP server.

It answers like the real API: columns of hourly values for every day of the requested range,
times in GMT without a zone suffix, and ``null`` for hours after ``available_until`` (the real
archive lags a few days behind).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from etlcore.testing import Request, Response


def temperature_at(moment: dt.datetime) -> float:
    """A made-up, repeatable temperature: the same hour always has the same value."""
    return round(5 + moment.hour / 2 + moment.day / 10, 1)


def rain_at(moment: dt.datetime) -> float:
    return 0.2 if moment.hour == 6 else 0.0


class FakeArchive:
    def __init__(self, available_until: dt.date | None = None) -> None:
        self.available_until = available_until

    def __call__(self, request: Request) -> Response:
        try:
            start = dt.date.fromisoformat(request.query["start_date"])
            end = dt.date.fromisoformat(request.query["end_date"])
        except (KeyError, ValueError):
            return Response(400, json={"error": True, "reason": "Invalid date"})
        if end < start:
            return Response(400, json={"error": True, "reason": "End-date before start-date"})
        hours = [
            dt.datetime.combine(start, dt.time()) + dt.timedelta(hours=n)
            for n in range(((end - start).days + 1) * 24)
        ]
        known = [
            h for h in hours if self.available_until is None or h.date() <= self.available_until
        ]
        body: dict[str, Any] = {
            "latitude": float(request.query["latitude"]),
            "longitude": float(request.query["longitude"]),
            "utc_offset_seconds": 0,
            "timezone": "GMT",
            "hourly_units": {"time": "iso8601", "temperature_2m": "°C", "precipitation": "mm"},
            "hourly": {
                "time": [h.strftime("%Y-%m-%dT%H:%M") for h in hours],
                "temperature_2m": [temperature_at(h) if h in known else None for h in hours],
                "precipitation": [rain_at(h) if h in known else None for h in hours],
            },
        }
        return Response(json=body)
