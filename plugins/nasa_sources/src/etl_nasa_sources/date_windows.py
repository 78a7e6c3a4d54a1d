"""Calendar helpers shared by the sources: request windows, and APOD's US-Eastern "today"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

US_EASTERN = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class DateWindow:
    """An inclusive range of dates, the unit of one request."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


def date_windows(start: dt.date, end: dt.date, days: int) -> Iterator[DateWindow]:
    """Consecutive windows of at most ``days`` days covering ``start``..``end`` (inclusive)."""
    if days < 1:
        raise ValueError("window length must be at least one day")
    current = start
    while current <= end:
        last = min(end, current + dt.timedelta(days=days - 1))
        yield DateWindow(current, last)
        current = last + dt.timedelta(days=1)


def today_us_eastern(now: dt.datetime | None = None) -> dt.date:
    """The date APOD publishes under right now: APOD's day follows US-Eastern time."""
    moment = now or dt.datetime.now(dt.UTC)
    return moment.astimezone(US_EASTERN).date()


def parse_date(value: object, what: str) -> dt.date:
    """A ``YYYY-MM-DD`` string (or a date) as a date; a clear error otherwise."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{what}: {value!r} is not a YYYY-MM-DD date") from None
