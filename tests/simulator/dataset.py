"""What the simulator serves: the shared fixtures where they exist, generated data elsewhere.

Generated answers are deterministic (seeded by date, sol, revision), so a re-fetch returns
the same data until a test revises it (:meth:`NasaDataset.revise_neows_day`,
:meth:`NasaDataset.set_sol_count`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from functools import cached_property
from pathlib import Path
from typing import Any

from tests.simulator import generators as gen


def shared_fixtures_dir() -> Path | None:
    """``../shared/fixtures/nasa`` next to the repository, if this checkout has it.

    ``NASA_SIM_IGNORE_SHARED=1`` pretends it is absent, to check that the tests stand alone.
    """
    if os.environ.get("NASA_SIM_IGNORE_SHARED"):
        return None
    path = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "nasa"
    return path if path.is_dir() else None


def load_fixture(path: Path) -> Any:
    """JSON from a fixture file; some public NeoWs dumps are cp1252, not UTF-8."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    return json.loads(text)


class NasaDataset:
    """The simulator's data. Thread-safe for the server's concurrent reads."""

    def __init__(
        self,
        *,
        fixtures: Path | None = None,
        today: dt.date | None = None,
        mars_scale: float = 1.0,
        image_base_url: str | None = None,
        seed: str = "nasa",
    ) -> None:
        self.fixtures = fixtures
        self._today = today
        self.mars_scale = mars_scale
        self.image_base_url = image_base_url
        self.seed = seed
        self.neows_fixture_revision = "A"
        """Which recording of the 2025-09-27..10-03 window to serve: fetchA or fetchB."""
        self._neows_revisions: dict[dt.date, int] = {}
        self._sol_overrides: dict[tuple[str, int], int] = {}
        self._manifest_rows: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    @property
    def today(self) -> dt.date:
        """APOD's today (US-Eastern) unless fixed by the test."""
        if self._today is not None:
            return self._today
        from zoneinfo import ZoneInfo

        return dt.datetime.now(ZoneInfo("America/New_York")).date()

    def _chooser(self, *parts: object) -> gen.RandomChooser:
        return gen.RandomChooser(":".join([self.seed, *map(str, parts)]))

    # ---------------------------------------------------------------------- fixtures

    def _fixture(self, relative: str) -> Any | None:
        if self.fixtures is None or not (self.fixtures / relative).is_file():
            return None
        return load_fixture(self.fixtures / relative)

    @cached_property
    def _apod_fixtures(self) -> dict[dt.date, dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        for name in (
            "apod/range_2023-06-01_to_2023-06-30.json",
            "apod/single_2021-02-02.json",
            "apod/spacepod/get-pod.json",
            "apod/spacepod/get-pods.json",
            "apod/spacepod/get-video.json",
            "apod/spacepod/200-empty-explanation.json",
            "apod/spacepod/200-no-urls.json",
            "apod/spacepod/200-copyright-incorrect.json",
        ):
            data = self._fixture(name)
            if data is not None:
                entries.extend(data if isinstance(data, list) else [data])
        return {dt.date.fromisoformat(e["date"]): e for e in entries}

    @cached_property
    def _neows_fixture_days(self) -> dict[str, dict[dt.date, list[dict[str, Any]]]]:
        """Recorded feed days, by revision ("A", "B", "legacy")."""
        result: dict[str, dict[dt.date, list[dict[str, Any]]]] = {}
        for revision, name in (
            ("A", "neows/feed_2025-09-27_to_2025-10-03_fetchA.json"),
            ("B", "neows/feed_2025-09-27_to_2025-10-03_fetchB.json"),
            ("legacy", "neows/legacy_2016/feed_2016-11-19_to_2016-11-20.json"),
        ):
            data = self._fixture(name)
            if data is not None:
                result[revision] = {
                    dt.date.fromisoformat(day): objs
                    for day, objs in data["near_earth_objects"].items()
                }
        return result

    @cached_property
    def _neo_lookups(self) -> dict[str, dict[str, Any]]:
        result = {}
        for name in (
            "neows/lookup/lookup_2000433.json",
            "neows/lookup/lookup_3508166.json",
            "neows/legacy_2016/lookup_2068950.json",
        ):
            data = self._fixture(name)
            if data is not None:
                result[str(data["neo_reference_id"])] = data
        return result

    @cached_property
    def _mars_fixture_photos(self) -> dict[tuple[str, int], list[dict[str, Any]]]:
        result = {}
        for rover, sol, name in (
            ("curiosity", 1000, "mars/curiosity_sol1000.json"),
            ("perseverance", 0, "mars/perseverance_sol0.json"),
        ):
            data = self._fixture(name)
            if data is not None:
                result[(rover, sol)] = data["photos"]
        return result

    # -------------------------------------------------------------------------- APOD

    def apod(self, day: dt.date, *, thumbs: bool) -> dict[str, Any] | None:
        """The entry for ``day``, or None when APOD has none (a gap)."""
        recorded = self._apod_fixtures.get(day)
        if recorded is not None:
            entry = dict(recorded)
            if not thumbs:
                entry.pop("thumbnail_url", None)
            return entry
        if not gen.apod_published(self._chooser("apod-published", day), day):
            return None
        return gen.apod_entry(
            self._chooser("apod", day), day, thumbs=thumbs, image_base_url=self.image_base_url
        )

    # ------------------------------------------------------------------------- NeoWs

    def revise_neows_day(self, day: dt.date) -> None:
        """NASA revises past windows: the next feed for ``day`` differs (values, NEOs)."""
        with self._lock:
            self._neows_revisions[day] = self._neows_revisions.get(day, 0) + 1

    def feed_day(self, day: dt.date, *, base_url: str, echo_key: str) -> list[dict[str, Any]]:
        recorded = self._neows_fixture_days
        for revision in (self.neows_fixture_revision, "legacy"):
            if day in recorded.get(revision, {}):
                return recorded[revision][day]
        revision = self._neows_revisions.get(day, 0)
        count = self._chooser("neo-count", day, revision).integer(3, 12)
        objects = []
        for index in range(count):
            neo_id = gen.generated_neo_id(gen.NeoSlot(day, index))
            objects.append(
                gen.neo_object(
                    self._chooser("neo", day, index, revision),
                    neo_id,
                    day,
                    base_url=base_url,
                    echo_key=echo_key,
                )
            )
        return objects

    def neo(self, neo_id: str, *, base_url: str, echo_key: str) -> dict[str, Any] | None:
        if neo_id in self._neo_lookups:
            return self._neo_lookups[neo_id]
        slot = gen.slot_of_generated_neo(neo_id)
        if slot is None or slot.index >= 100:
            return None
        revision = self._neows_revisions.get(slot.day, 0)
        return gen.neo_object(
            self._chooser("neo", slot.day, slot.index, revision),
            neo_id,
            slot.day,
            base_url=base_url,
            echo_key=echo_key,
        )

    # -------------------------------------------------------------------------- Mars

    def set_sol_count(self, rover: str, sol: int, count: int) -> None:
        """Change how many photos a sol has (NASA adds photos of a sol days later)."""
        with self._lock:
            self._sol_overrides[(rover, sol)] = count
            self._manifest_rows.pop(rover, None)

    def manifest_rows(self, rover: str) -> list[dict[str, Any]]:
        """``[{sol, earth_date, total_photos, cameras}]`` of the sols that have photos."""
        with self._lock:
            cached = self._manifest_rows.get(rover)
        if cached is not None:
            return cached
        info = gen.ROVERS[rover]
        rows = []
        recorded = (
            self._fixture("mars/curiosity_manifest_2019-09-28.json")
            if rover == "curiosity"
            else None
        )
        if recorded is not None:
            rows = [dict(r) for r in recorded["photo_manifest"]["photos"]]
            for row in rows:
                override = self._sol_overrides.get((rover, row["sol"]))
                if override is not None:
                    row["total_photos"] = override
        else:
            for sol in range(gen.current_sol(info, self.today) + 1):
                count = self._sol_overrides.get((rover, sol))
                if count is None:
                    fixture = self._mars_fixture_photos.get((rover, sol))
                    count = (
                        len(fixture)
                        if fixture is not None
                        else gen.sol_photo_count(self._chooser("mars", rover, sol), self.mars_scale)
                    )
                if count > 0:
                    rows.append(
                        {
                            "sol": sol,
                            "earth_date": gen.sol_earth_date(info, sol).isoformat(),
                            "total_photos": count,
                            "cameras": sorted({c[0] for c in info.cameras}),
                        }
                    )
        with self._lock:
            self._manifest_rows[rover] = rows
        return rows

    def manifest(self, rover: str) -> dict[str, Any]:
        info = gen.ROVERS[rover]
        rows = self.manifest_rows(rover)
        last = rows[-1] if rows else None
        return {
            "photo_manifest": {
                "name": info.name,
                "landing_date": info.landing.isoformat(),
                "launch_date": info.launch.isoformat(),
                "status": info.status,
                "max_sol": last["sol"] if last else 0,
                "max_date": last["earth_date"] if last else info.landing.isoformat(),
                "total_photos": sum(r["total_photos"] for r in rows),
                "photos": rows,
            }
        }

    def photos(self, rover: str, sol: int) -> list[dict[str, Any]]:
        count = next((r["total_photos"] for r in self.manifest_rows(rover) if r["sol"] == sol), 0)
        fixture = self._mars_fixture_photos.get((rover, sol))
        if fixture is not None and len(fixture) == count:
            return fixture
        return [
            gen.mars_photo(
                self._chooser("mars-photo", rover, sol, index),
                rover,
                sol,
                index,
                today=self.today,
                image_base_url=self.image_base_url,
                new_rover_shape=sol % 2 == 0,  # both shapes of the nested rover object
            )
            for index in range(count)
        ]
