"""Builders of NASA payloads with every quirk of ../shared/fixtures/nasa/SOURCES.md.

Each builder takes a :class:`Chooser` so that the same quirk logic serves two masters: the
simulator's lazily generated data (:class:`RandomChooser`, seeded per date/sol, so the same
request always gets the same answer) and hypothesis strategies (``strategies.py``).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

FIRST_APOD = dt.date(1995, 6, 16)
APOD_KNOWN_GAPS = frozenset({dt.date(1995, 6, 17), dt.date(1995, 6, 18), dt.date(1995, 6, 19)})
NEOWS_CURRENT_SHAPE_FROM = dt.date(2017, 1, 1)
"""Feeds for earlier days come in the 2016 shape (no id, no sentry flag, ``prev`` link)."""
MARS_SOL_DAYS = 1.0274912517
"""Earth days per Martian sol."""


class Chooser(Protocol):
    """The randomness a builder needs."""

    def integer(self, low: int, high: int) -> int: ...
    def real(self, low: float, high: float) -> float: ...
    def chance(self, percent: int) -> bool: ...
    def choice(self, options: Sequence[T]) -> T: ...


class RandomChooser:
    """A :class:`Chooser` over ``random.Random`` seeded by a string: same seed, same data."""

    def __init__(self, seed: str) -> None:
        self._random = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return self._random.randint(low, high)

    def real(self, low: float, high: float) -> float:
        return self._random.uniform(low, high)

    def chance(self, percent: int) -> bool:
        return self._random.randrange(100) < percent

    def choice(self, options: Sequence[T]) -> T:
        return options[self._random.randrange(len(options))]


def _word(ch: Chooser, low: int = 3, high: int = 9) -> str:
    return "".join(ch.choice(string.ascii_lowercase) for _ in range(ch.integer(low, high)))


def neows_number(value: float, ch: Chooser, *, decimals: bool = True) -> str:
    """A number the way NeoWs writes it: a string, ``.22`` without the leading zero."""
    if not decimals:
        return str(round(value))
    text = f"{value:.10f}"
    if text.startswith("0."):
        text = text[1:]  # the leading-dot quirk: ".2229..."
    return text


# ------------------------------------------------------------------------------- APOD


def apod_published(ch: Chooser, day: dt.date) -> bool:
    """Whether APOD has an entry for ``day`` (range answers skip the days without one)."""
    if day < FIRST_APOD or day in APOD_KNOWN_GAPS:
        return False
    return not ch.chance(2)


def apod_entry(
    ch: Chooser,
    day: dt.date,
    *,
    thumbs: bool = True,
    image_base_url: str | None = None,
    media_type: str | None = None,
    copyright_style: str | None = None,
    empty_explanation: bool | None = None,
) -> dict[str, Any]:
    """One APOD entry: image (hdurl), video (thumbnail only with thumbs, never hdurl) or
    ``other`` (no url at all); optional, newline-wrapped copyright; sometimes "" explanation.

    ``media_type``, ``copyright_style`` (``absent``/``plain``/``wrapped``) and
    ``empty_explanation`` force a quirk; left None they are drawn.
    """
    if media_type is None:
        media_type = ch.choice(("image",) * 8 + ("video", "other"))
    slug = _word(ch)
    entry: dict[str, Any] = {"date": day.isoformat()}
    if copyright_style is None:
        copyright_style = "absent" if ch.chance(50) else ("wrapped" if ch.chance(40) else "plain")
    if copyright_style != "absent":
        name = f"{_word(ch).capitalize()} {_word(ch).capitalize()}"
        entry["copyright"] = f"\n{name}\n" if copyright_style == "wrapped" else name
    if empty_explanation is None:
        empty_explanation = ch.chance(3)
    entry["explanation"] = "" if empty_explanation else f"{_word(ch)} " * ch.integer(5, 40)
    if media_type == "image":
        ext = ch.choice(("jpg", "jpg", "png", "gif"))
        base = image_base_url.rstrip("/") if image_base_url else "https://apod.nasa.gov/apod"
        folder = f"{base}/image/{day:%y%m}"
        entry["hdurl"] = f"{folder}/{slug}.{ext}"
        entry["url"] = f"{folder}/{slug}_1024.{ext}"
    elif media_type == "video":
        video = "".join(ch.choice(string.ascii_letters + string.digits) for _ in range(11))
        # The semicolon in the query is real (get-video.json).
        entry["url"] = f"https://www.youtube.com/embed/{video}?rel=0;autoplay=1"
        if thumbs:
            entry["thumbnail_url"] = f"https://img.youtube.com/vi/{video}/0.jpg"
    entry["media_type"] = media_type
    entry["service_version"] = "v1"
    entry["title"] = ch.choice((f"The {slug.capitalize()} Nebula", f"Comet {slug.upper()} \u2604"))
    return entry


# ------------------------------------------------------------------------------ NeoWs


@dataclass(frozen=True)
class NeoSlot:
    """Where a generated NEO comes from: its day and its index in that day's list."""

    day: dt.date
    index: int


NEO_ID_BASE = 3_000_000
NEO_ID_EPOCH = dt.date(1990, 1, 1)


def generated_neo_id(slot: NeoSlot) -> str:
    """A NEO id that encodes its slot, so a lookup can rebuild it."""
    return str(NEO_ID_BASE + (slot.day - NEO_ID_EPOCH).days * 100 + slot.index)


def slot_of_generated_neo(neo_id: str) -> NeoSlot | None:
    try:
        number = int(neo_id) - NEO_ID_BASE
    except ValueError:
        return None
    if number < 0:
        return None
    return NeoSlot(NEO_ID_EPOCH + dt.timedelta(days=number // 100), number % 100)


def neo_object(
    ch: Chooser,
    neo_id: str,
    day: dt.date,
    *,
    base_url: str = "http://api.nasa.gov",
    echo_key: str = "DEMO_KEY",
    legacy: bool | None = None,
    with_size: bool | None = None,
    sentry: bool | None = None,
) -> dict[str, Any]:
    """A NeoWs object with one close approach on ``day``.

    ``echo_key`` is put into the links as NeoWs does with the caller's key. ``legacy`` picks
    the 2016 shape (default: by date); ``with_size`` (magnitude and diameters present) and
    ``sentry`` force those quirks, drawn when None.
    """
    if legacy is None:
        legacy = day < NEOWS_CURRENT_SHAPE_FROM
    link_base = f"{base_url.rstrip('/')}/neo/rest/v1"
    year = ch.integer(min(1990, day.year), day.year)
    name = f"({year} {ch.choice(string.ascii_uppercase)}{ch.choice(string.ascii_uppercase)}"
    name += f"{ch.integer(1, 99)})" if ch.chance(70) else ")"
    obj: dict[str, Any] = {"links": {"self": f"{link_base}/neo/{neo_id}?api_key={echo_key}"}}
    if not legacy:
        obj["id"] = neo_id
    obj["neo_reference_id"] = neo_id
    obj["name"] = name
    obj["nasa_jpl_url"] = f"https://ssd.jpl.nasa.gov/tools/sbdb_lookup.html#/?sstr={neo_id}"
    if with_size is None:
        with_size = not ch.chance(5)
    if with_size:  # lookup_3508166.json: neither key at all
        magnitude = round(ch.real(15.0, 32.0), 3)
        obj["absolute_magnitude_h"] = magnitude
        km_max = 10 ** (3.1236 - 0.5 * math.log10(0.05) - 0.2 * magnitude)
        km_min = km_max / 2.2360679775
        obj["estimated_diameter"] = {
            unit: {"estimated_diameter_min": km_min * f, "estimated_diameter_max": km_max * f}
            for unit, f in (
                ("kilometers", 1.0),
                ("meters", 1000.0),
                ("miles", 0.621371),
                ("feet", 3280.84),
            )
        }
    obj["is_potentially_hazardous_asteroid"] = ch.chance(8)
    minutes = ch.integer(0, 24 * 60 - 1)
    moment = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(
        minutes=minutes
    )
    km_s = ch.real(1.0, 40.0)
    au = ch.real(0.0005, 0.5)
    approach: dict[str, Any] = {"close_approach_date": day.isoformat()}
    if not legacy:
        approach["close_approach_date_full"] = moment.strftime("%Y-%b-%d %H:%M")
    approach["epoch_date_close_approach"] = int(moment.timestamp() * 1000)
    approach["relative_velocity"] = {
        "kilometers_per_second": neows_number(km_s, ch),
        "kilometers_per_hour": neows_number(km_s * 3600, ch),
        "miles_per_hour": neows_number(km_s * 2236.936, ch),
    }
    approach["miss_distance"] = {
        "astronomical": neows_number(au, ch),
        "lunar": neows_number(au * 389.17, ch),
        "kilometers": neows_number(au * 149_597_870.7, ch, decimals=not legacy),
        "miles": neows_number(au * 92_955_807.3, ch, decimals=not legacy),
    }
    approach["orbiting_body"] = ch.choice(("Earth",) * 20 + ("Juptr", "Merc", "Mars", "Venus"))
    obj["close_approach_data"] = [approach]
    if not legacy:
        if sentry is None:
            sentry = ch.chance(8)
        obj["is_sentry_object"] = sentry
        if sentry:  # only sentry objects carry the key at all
            obj["sentry_data"] = f"{link_base}/neo/sentry/{neo_id}?api_key={echo_key}"
    return obj


def unpadded(day: dt.date) -> str:
    """NeoWs links write dates without zero padding: ``2025-9-27``."""
    return f"{day.year}-{day.month}-{day.day}"


def feed_links(
    start: dt.date, end: dt.date, *, base_url: str, echo_key: str, legacy: bool
) -> dict[str, str]:
    feed = f"{base_url.rstrip('/')}/neo/rest/v1/feed"
    span = (end - start).days

    def link(a: dt.date, b: dt.date) -> str:
        dates = f"start_date={unpadded(a)}&end_date={unpadded(b)}"
        return f"{feed}?{dates}&detailed=false&api_key={echo_key}"

    return {
        "next": link(end, end + dt.timedelta(days=span)),
        ("prev" if legacy else "previous"): link(start - dt.timedelta(days=span), start),
        "self": link(start, end),
    }


# ------------------------------------------------------------------------------- Mars


@dataclass(frozen=True)
class Rover:
    name: str
    rover_id: int
    landing: dt.date
    launch: dt.date
    status: str
    last_sol: int | None  # None: still active
    cameras: tuple[tuple[str, str, int], ...]  # (name, full name, camera id)


ROVERS: dict[str, Rover] = {
    "curiosity": Rover(
        "Curiosity",
        5,
        dt.date(2012, 8, 6),
        dt.date(2011, 11, 26),
        "active",
        None,
        (
            ("FHAZ", "Front Hazard Avoidance Camera", 20),
            ("RHAZ", "Rear Hazard Avoidance Camera", 21),
            ("MAST", "Mast Camera", 22),
            ("CHEMCAM", "Chemistry and Camera Complex", 23),
            ("MAHLI", "Mars Hand Lens Imager", 24),
            ("NAVCAM", "Navigation Camera", 26),
        ),
    ),
    "perseverance": Rover(
        "Perseverance",
        8,
        dt.date(2021, 2, 18),
        dt.date(2020, 7, 30),
        "active",
        None,
        (
            ("NAVCAM_LEFT", "Navigation Camera - Left", 38),
            ("FRONT_HAZCAM_LEFT_A", "Front Hazard Avoidance Camera - Left", 42),
            ("MCZ_RIGHT", "Mast Camera Zoom - Right", 40),
            ("SKYCAM", "MEDA Skycam", 48),
        ),
    ),
    "opportunity": Rover(
        "Opportunity",
        6,
        dt.date(2004, 1, 25),
        dt.date(2003, 7, 7),
        "complete",
        5111,
        (("PANCAM", "Panoramic Camera", 16), ("NAVCAM", "Navigation Camera", 15)),
    ),
    "spirit": Rover(
        "Spirit",
        7,
        dt.date(2004, 1, 4),
        dt.date(2003, 6, 10),
        "complete",
        2208,
        (("PANCAM", "Panoramic Camera", 27), ("NAVCAM", "Navigation Camera", 28)),
    ),
}


def sol_earth_date(rover: Rover, sol: int) -> dt.date:
    return rover.landing + dt.timedelta(days=math.floor(sol * MARS_SOL_DAYS))


def current_sol(rover: Rover, today: dt.date) -> int:
    if rover.last_sol is not None:
        return rover.last_sol
    return max(0, math.floor((today - rover.landing).days / MARS_SOL_DAYS))


def sol_photo_count(ch: Chooser, scale: float = 1.0) -> int:
    """Photos of one sol; 0 means the sol is absent from the manifest (no-photo sols are)."""
    if ch.chance(10):
        return 0
    return max(1, round(ch.integer(1, 60) * scale))


def mars_photo(
    ch: Chooser,
    rover_key: str,
    sol: int,
    index: int,
    *,
    today: dt.date,
    image_base_url: str | None = None,
    new_rover_shape: bool = True,
) -> dict[str, Any]:
    """One photo; ``new_rover_shape`` adds the 2023 rover aggregates (max_sol, cameras…)."""
    rover = ROVERS[rover_key]
    name, full_name, camera_id = ch.choice(rover.cameras)
    # Fits a 32-bit integer: rover id, sol (< 10,000), index (< 10,000).
    photo_id = rover.rover_id * 100_000_000 + sol * 10_000 + index
    ext = ch.choice(("JPG", "jpg", "PNG"))
    if image_base_url:
        img_src = f"{image_base_url.rstrip('/')}/mars/{rover_key}/{sol}/{photo_id}.{ext}"
    else:
        img_src = (
            f"http://mars.jpl.nasa.gov/msl-raw-images/proj/msl/redops/ods/surface/sol/"
            f"{sol:05d}/opgs/edr/{name.lower()}/{name[:2]}_{photo_id}EDR.{ext}"
        )
    rover_obj: dict[str, Any] = {
        "id": rover.rover_id,
        "name": rover.name,
        "landing_date": rover.landing.isoformat(),
        "launch_date": rover.launch.isoformat(),
        "status": rover.status,
    }
    if new_rover_shape:
        max_sol = current_sol(rover, today)
        rover_obj.update(
            max_sol=max_sol,
            max_date=sol_earth_date(rover, max_sol).isoformat(),
            total_photos=123_456,
            cameras=[{"name": c[0], "full_name": c[1]} for c in rover.cameras],
        )
    return {
        "id": photo_id,
        "sol": sol,
        "camera": {
            "id": camera_id,
            "name": name,
            "rover_id": rover.rover_id,
            "full_name": full_name,
        },
        "img_src": img_src,
        "earth_date": sol_earth_date(rover, sol).isoformat(),
        "rover": rover_obj,
    }
