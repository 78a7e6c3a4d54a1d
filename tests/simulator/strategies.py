"""Hypothesis strategies for NASA payloads, with every documented quirk.

They share their builders with the simulator's generated data (``generators.py``), so a
property test and the simulator exercise the same shapes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from hypothesis import strategies as st

from tests.simulator import generators as gen

T = TypeVar("T")


class HypothesisChooser:
    """A :class:`~tests.simulator.generators.Chooser` that draws from hypothesis."""

    def __init__(self, draw: st.DrawFn) -> None:
        self._draw = draw

    def integer(self, low: int, high: int) -> int:
        return self._draw(st.integers(low, high))

    def real(self, low: float, high: float) -> float:
        return self._draw(st.floats(low, high, allow_nan=False, allow_infinity=False))

    def chance(self, percent: int) -> bool:
        return self._draw(st.integers(0, 99)) < percent

    def choice(self, options: Sequence[T]) -> T:
        return self._draw(st.sampled_from(options))


apod_days = st.dates(min_value=gen.FIRST_APOD, max_value=dt.date(2026, 12, 31))
neo_days = st.dates(min_value=dt.date(2010, 1, 1), max_value=dt.date(2027, 12, 31))


@st.composite
def apod_entries(
    draw: st.DrawFn, day: dt.date | None = None, thumbs: bool = True, **quirks: Any
) -> Any:
    """One APOD entry: image, video (no hdurl), ``other`` (no url), copyright quirks.

    ``quirks`` force one: ``media_type=``, ``copyright_style=``, ``empty_explanation=``.
    """
    return gen.apod_entry(HypothesisChooser(draw), day or draw(apod_days), thumbs=thumbs, **quirks)


@st.composite
def neo_objects(
    draw: st.DrawFn, day: dt.date | None = None, legacy: bool | None = None, **quirks: Any
) -> Any:
    """One NeoWs object, current or 2016 shape, numbers as strings (leading dots).

    ``quirks`` force one: ``with_size=False`` (no magnitude/diameter), ``sentry=True``.
    """
    chosen_day = day or draw(neo_days)
    neo_id = str(draw(st.integers(2_000_000, 54_999_999)))
    chosen_legacy = draw(st.booleans()) if legacy is None else legacy
    return gen.neo_object(
        HypothesisChooser(draw),
        neo_id,
        chosen_day,
        legacy=chosen_legacy,
        echo_key="SECRETKEY123",
        **quirks,
    )


@st.composite
def neo_feeds(draw: st.DrawFn) -> Any:
    """A feed answer of 1-7 days, days in no order, a NEO possibly listed twice."""
    start = draw(neo_days)
    end = start + dt.timedelta(days=draw(st.integers(0, 6)))
    legacy = start < gen.NEOWS_CURRENT_SHAPE_FROM
    days: dict[str, list[Any]] = {}
    day = start
    while day <= end:
        days[day.isoformat()] = draw(st.lists(neo_objects(day=day, legacy=legacy), max_size=4))
        day += dt.timedelta(days=1)
    keys = draw(st.permutations(list(days)))
    return {
        "links": gen.feed_links(
            start, end, base_url="http://api.nasa.gov", echo_key="SECRETKEY123", legacy=legacy
        ),
        "element_count": sum(len(v) for v in days.values()),
        "near_earth_objects": {k: days[k] for k in keys},
    }


@st.composite
def mars_photos(draw: st.DrawFn, rover: str | None = None, sol: int | None = None) -> Any:
    """One Mars photo; the nested rover object in its old or its 2023 shape."""
    chosen_rover = rover or draw(st.sampled_from(sorted(gen.ROVERS)))
    chosen_sol = draw(st.integers(0, 4000)) if sol is None else sol
    return gen.mars_photo(
        HypothesisChooser(draw),
        chosen_rover,
        chosen_sol,
        draw(st.integers(0, 9999)),
        today=dt.date(2026, 1, 1),
        new_rover_shape=draw(st.booleans()),
    )
