"""``nasa.neows``: Near Earth Object Web Service feed, in windows of at most 7 days."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from etl_nasa_sources.batching import dedupe_by_key
from etl_nasa_sources.date_windows import DateWindow, date_windows, parse_date
from etl_nasa_sources.nasa_api import (
    COMMON_CONFIG_PROPERTIES,
    DEFAULT_API_URL,
    NasaApi,
    NasaDataError,
    open_api,
)
from etl_nasa_sources.ordered_fetch import fetch_in_order
from etl_nasa_sources.streams import NEO, NEO_CLOSE_APPROACH
from etlcore.contract import Batch, Record, Source, StepContext, Stream

FEED_PATH = "/neo/rest/v1/feed"
MAX_FEED_DAYS = 7
"""NeoWs answers 400 "The Feed date limit is only 7 Days" beyond this."""
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def parse_neows_number(value: object, what: str = "number") -> float | None:
    """NeoWs sends numbers as strings (``"17860588.568"``, ``".2229"``, ``"24080622"``)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise NasaDataError(f"NeoWs {what}: expected a number, got {value!r}")
    try:
        number = float(value) if isinstance(value, int | float) else float(str(value).strip())
    except ValueError:
        raise NasaDataError(f"NeoWs {what}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise NasaDataError(f"NeoWs {what}: {value!r} is not a finite number")
    return number


def parse_epoch_ms(value: object) -> dt.datetime | None:
    """``epoch_date_close_approach`` (ms, negative before 1970) as an aware UTC datetime."""
    if value is None:
        return None
    milliseconds = parse_neows_number(value, "epoch_date_close_approach")
    if milliseconds is None:
        return None
    # timedelta rather than fromtimestamp: negative epochs are not portable there.
    return EPOCH + dt.timedelta(milliseconds=milliseconds)


def strip_api_key(url: object) -> str | None:
    """NeoWs echoes the caller's key into its URLs; never store it."""
    if url is None:
        return None
    parts = urlsplit(str(url))
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "api_key"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _remaining(obj: Mapping[str, Any], mapped: set[str]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in mapped}


def parse_neo(obj: Mapping[str, Any]) -> Record:
    """A NeoWs object (2016 or current shape) as a ``neo`` record.

    ``links`` are dropped on purpose: they are navigation URLs that carry the API key.
    ``close_approach_data`` becomes ``neo_close_approach`` records (see
    :func:`parse_close_approaches`).
    """
    # The 2016 shape has no "id", only "neo_reference_id" (the same number).
    neo_id = obj.get("id") or obj.get("neo_reference_id")
    if neo_id in (None, ""):
        raise NasaDataError(f"NeoWs object without id or neo_reference_id: {dict(obj)!r:.200}")
    diameter = obj.get("estimated_diameter")
    metres = diameter.get("meters", {}) if isinstance(diameter, Mapping) else {}
    raw: dict[str, Any] = _remaining(
        obj,
        {
            "id",
            "neo_reference_id",
            "name",
            "name_limited",
            "designation",
            "nasa_jpl_url",
            "absolute_magnitude_h",
            "estimated_diameter",
            "is_potentially_hazardous_asteroid",
            "is_sentry_object",
            "sentry_data",
            "orbital_data",
            "close_approach_data",
            "links",
        },
    )
    if isinstance(diameter, Mapping):
        other_units = {unit: v for unit, v in diameter.items() if unit != "meters"}
        if other_units:
            raw["estimated_diameter"] = other_units
    return {
        "neo_id": str(neo_id),
        "neo_reference_id": _text(obj.get("neo_reference_id")),
        "name": _text(obj.get("name")),
        "name_limited": _text(obj.get("name_limited")),
        "designation": _text(obj.get("designation")),
        "nasa_jpl_url": _text(obj.get("nasa_jpl_url")),
        "absolute_magnitude_h": parse_neows_number(
            obj.get("absolute_magnitude_h"), "absolute_magnitude_h"
        ),
        "estimated_diameter_min_m": parse_neows_number(
            metres.get("estimated_diameter_min"), "estimated_diameter_min"
        ),
        "estimated_diameter_max_m": parse_neows_number(
            metres.get("estimated_diameter_max"), "estimated_diameter_max"
        ),
        "is_potentially_hazardous": _bool(obj.get("is_potentially_hazardous_asteroid")),
        "is_sentry_object": _bool(obj.get("is_sentry_object")),
        "sentry_data_url": strip_api_key(obj.get("sentry_data")),
        "orbital_data": obj.get("orbital_data"),
        "raw": raw or None,
    }


def parse_close_approaches(neo_id: str, obj: Mapping[str, Any]) -> list[Record]:
    """The ``close_approach_data`` of one NeoWs object as ``neo_close_approach`` records."""
    records = []
    for approach in obj.get("close_approach_data") or ():
        velocity = approach.get("relative_velocity") or {}
        miss = approach.get("miss_distance") or {}
        try:
            day = parse_date(approach.get("close_approach_date"), "close_approach_date")
        except ValueError as exc:
            raise NasaDataError(f"NEO {neo_id}: {exc}") from None
        raw = _remaining(
            approach,
            {
                "close_approach_date",
                "close_approach_date_full",
                "epoch_date_close_approach",
                "relative_velocity",
                "miss_distance",
                "orbiting_body",
            },
        )
        for name, group, known in (
            (
                "relative_velocity",
                velocity,
                {"kilometers_per_second", "kilometers_per_hour", "miles_per_hour"},
            ),
            ("miss_distance", miss, {"astronomical", "lunar", "kilometers", "miles"}),
        ):
            unknown = _remaining(group, known)
            if unknown:
                raw[name] = unknown
        records.append(
            {
                "neo_id": neo_id,
                "close_approach_date": day,
                # Part of the key: a missing body stays None so the engine quarantines the record.
                "orbiting_body": _text(approach.get("orbiting_body")),
                "close_approach_at": parse_epoch_ms(approach.get("epoch_date_close_approach")),
                "close_approach_date_full": _text(approach.get("close_approach_date_full")),
                "relative_velocity_km_s": parse_neows_number(
                    velocity.get("kilometers_per_second"), "kilometers_per_second"
                ),
                "relative_velocity_km_h": parse_neows_number(
                    velocity.get("kilometers_per_hour"), "kilometers_per_hour"
                ),
                "relative_velocity_mph": parse_neows_number(
                    velocity.get("miles_per_hour"), "miles_per_hour"
                ),
                "miss_distance_au": parse_neows_number(miss.get("astronomical"), "astronomical"),
                "miss_distance_lunar": parse_neows_number(miss.get("lunar"), "lunar"),
                "miss_distance_km": parse_neows_number(miss.get("kilometers"), "kilometers"),
                "miss_distance_miles": parse_neows_number(miss.get("miles"), "miles"),
                "raw": raw or None,
            }
        )
    return records


def parse_feed(data: Any, window: DateWindow | None = None) -> list[tuple[Record, list[Record]]]:
    """A feed response as (neo, its close approaches) pairs, one per NEO, deduplicated.

    A NEO listed under two days of one window appears once, with the approaches of both.
    Days outside the requested window are refused (:class:`NasaDataError`).
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("near_earth_objects"), Mapping):
        raise NasaDataError("NeoWs feed without a near_earth_objects object")
    by_id: dict[str, tuple[Record, list[Record]]] = {}
    for day_text in sorted(data["near_earth_objects"]):
        try:
            day = parse_date(day_text, "NeoWs feed day")
        except ValueError as exc:
            raise NasaDataError(str(exc)) from None
        if window is not None and day not in window:
            raise NasaDataError(
                f"NeoWs returned day {day} for a feed request of {window.start}..{window.end}"
            )
        for obj in data["near_earth_objects"][day_text] or ():
            neo = parse_neo(obj)
            approaches = parse_close_approaches(neo["neo_id"], obj)
            if neo["neo_id"] in by_id:
                by_id[neo["neo_id"]][1].extend(approaches)
            else:
                by_id[neo["neo_id"]] = (neo, approaches)
    return [
        (neo, dedupe_by_key(approaches, NEO_CLOSE_APPROACH.primary_key))
        for neo, approaches in by_id.values()
    ]


class NeowsSource(Source):
    """NeoWs feed windows; the recent ones are re-pulled because NASA revises them."""

    name: ClassVar[str] = "nasa.neows"
    description: ClassVar[str] = "NASA NeoWs feed (streams neo and neo_close_approach)."
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            **COMMON_CONFIG_PROPERTIES,
            "window_days": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_FEED_DAYS,
                "description": "Days per feed request (default and NeoWs maximum: 7).",
            },
        },
        "additionalProperties": False,
    }
    DEFAULTS: ClassVar[dict[str, Any]] = {
        "api_url": DEFAULT_API_URL,
        "workers": 4,
        "lookback_days": 14,
        "window_days": MAX_FEED_DAYS,
        "initial_days": 7,
    }

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__({**self.DEFAULTS, **dict(config)})

    def streams(self) -> Sequence[Stream]:
        return (NEO, NEO_CLOSE_APPROACH)

    def plan(
        self, ctx: StepContext, state: Mapping[str, Any] | None, today: dt.date
    ) -> tuple[dt.date, dt.date]:
        """The range of approach dates this run asks for (inclusive)."""
        last = state.get("last_end") if state else None
        if ctx.options.since is not None:
            start = ctx.options.since
        elif last:
            lookback = dt.timedelta(days=self.config["lookback_days"] - 1)
            # A backfill with a future --until leaves a watermark ahead of today: the recent
            # days are still the ones NASA revises, so they are re-pulled all the same.
            start = min(parse_date(last, "neows watermark"), today) - lookback
        elif self.config.get("default_start"):
            start = parse_date(self.config["default_start"], "default_start")
        else:
            start = today - dt.timedelta(days=self.config["initial_days"] - 1)
        return start, ctx.options.until or today

    def extract(self, ctx: StepContext, state: Mapping[str, Any] | None) -> Iterator[Batch]:
        start, end = self.plan(ctx, state, dt.datetime.now(dt.UTC).date())
        previous = state.get("last_end") if state else None
        if start > end:
            ctx.log.info("neows: nothing to fetch (%s..%s)", start, end)
            return
        windows = list(date_windows(start, end, self.config["window_days"]))
        api = open_api(ctx, self.config, "nasa.neows", self.config["api_url"])
        try:
            for window, data in fetch_in_order(
                lambda w: self._fetch(api, w),
                windows,
                workers=self.config["workers"],
                stop_requested=ctx.stop_requested,
                name="neows",
            ):
                pairs = parse_feed(data, window)
                if previous is None or window.end.isoformat() > previous:
                    previous = window.end.isoformat()
                yield from self._batches(pairs, ctx.batch_size, {"last_end": previous})
        finally:
            api.close()

    @staticmethod
    def _batches(
        pairs: list[tuple[Record, list[Record]]], size: int, state: dict[str, Any]
    ) -> Iterator[Batch]:
        """A NEO and its approaches always share a batch (``nasa.unify`` needs the name)."""
        neos: list[Record] = []
        approaches: list[Record] = []
        for neo, its_approaches in pairs:
            if neos and len(neos) + len(approaches) + 1 + len(its_approaches) > size:
                yield Batch({"neo": neos, "neo_close_approach": approaches})
                neos, approaches = [], []
            neos.append(neo)
            approaches.extend(its_approaches)
        yield Batch({"neo": neos, "neo_close_approach": approaches}, state=dict(state))

    @staticmethod
    def _fetch(api: NasaApi, window: DateWindow) -> Any:
        return api.get_json(
            FEED_PATH,
            {"start_date": window.start.isoformat(), "end_date": window.end.isoformat()},
        )
