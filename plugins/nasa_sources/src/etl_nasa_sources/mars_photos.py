"""``nasa.mars_photos``: Mars rover photos, fetching only the sols whose photo count changed."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from etl_nasa_sources.batching import Rebatcher, dedupe_by_key
from etl_nasa_sources.date_windows import parse_date
from etl_nasa_sources.nasa_api import (
    COMMON_CONFIG_PROPERTIES,
    NasaApi,
    NasaDataError,
    is_nasa_host,
    open_api,
)
from etl_nasa_sources.ordered_fetch import fetch_in_order
from etl_nasa_sources.streams import MARS_PHOTO
from etlcore.contract import Batch, Record, Source, StepContext, Stream

# Rover-level figures the 2023 API shape repeats inside every photo. They change daily and
# are the manifest's business; copying them into a million photo rows would only churn them.
ROVER_AGGREGATES = frozenset({"max_sol", "max_date", "total_photos", "cameras"})


def parse_manifest(data: Any, rover: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(manifest header, per-sol rows)`` of a ``manifests/{rover}`` response."""
    manifest = data.get("photo_manifest") if isinstance(data, Mapping) else None
    if not isinstance(manifest, Mapping) or not isinstance(manifest.get("photos"), list):
        raise NasaDataError(f"Mars manifest for {rover!r} has no photo_manifest.photos list")
    rows = []
    for row in manifest["photos"]:
        try:
            rows.append(
                {
                    "sol": int(row["sol"]),
                    "earth_date": parse_date(row.get("earth_date"), "manifest earth_date"),
                    "total_photos": int(row["total_photos"]),
                }
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise NasaDataError(f"Mars manifest for {rover!r}: bad sol row {row!r}: {exc}") from exc
    header = {k: v for k, v in manifest.items() if k != "photos"}
    return header, rows


def parse_photo(photo: Mapping[str, Any], rover: str) -> Record:
    """One photo (either shape of the nested ``rover`` object) as a ``mars_photo`` record."""
    camera = photo.get("camera") or {}
    rover_obj = photo.get("rover") or {}
    raw: dict[str, Any] = {
        k: v
        for k, v in photo.items()
        if k not in {"id", "sol", "camera", "img_src", "earth_date", "rover"}
    }
    camera_rest = {k: v for k, v in camera.items() if k not in {"id", "name", "full_name"}}
    rover_rest = {k: v for k, v in rover_obj.items() if k not in {"id", "name"} | ROVER_AGGREGATES}
    if camera_rest:
        raw["camera"] = camera_rest
    if rover_rest:
        raw["rover"] = rover_rest
    earth_date = photo.get("earth_date")
    try:
        return {
            "photo_id": int(photo["id"]),
            "rover": str(rover_obj.get("name") or rover.capitalize()),
            "rover_id": int(rover_obj["id"]) if rover_obj.get("id") is not None else None,
            "camera": camera.get("name"),
            "camera_id": int(camera["id"]) if camera.get("id") is not None else None,
            "camera_full_name": camera.get("full_name"),
            "sol": int(photo["sol"]),
            "earth_date": parse_date(earth_date, "earth_date") if earth_date else None,
            "img_src": photo.get("img_src"),
            "raw": raw or None,
        }
    except (KeyError, TypeError, ValueError) as exc:
        message = f"Mars photo of {rover!r} is malformed ({exc}): {photo!r:.300}"
        raise NasaDataError(message) from None


class MarsPhotosSource(Source):
    """Rover photos: the manifest says which sols changed; only those are fetched."""

    name: ClassVar[str] = "nasa.mars_photos"
    description: ClassVar[str] = "Mars Rover Photos from a community mirror (stream mars_photo)."
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            **COMMON_CONFIG_PROPERTIES,
            "api_url": {
                "type": "string",
                "minLength": 1,
                "description": "Mirror root ending in /api/v1: ${env:MARS_PHOTOS_API_URL}.",
            },
            "rovers": {
                "type": "array",
                "description": "Rovers to load (default curiosity, perseverance).",
                "items": {"type": "string", "pattern": "^[a-z]+$"},
                "minItems": 1,
                "uniqueItems": True,
            },
            "page_size": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "Set (25) for mirrors that page photo lists; null: unpaged.",
            },
            "send_api_key": {
                "type": ["boolean", "null"],
                "description": "Send the NASA key; default only to api.nasa.gov hosts.",
            },
        },
        "required": ["api_url"],
        "additionalProperties": False,
    }
    DEFAULTS: ClassVar[dict[str, Any]] = {
        "rovers": ["curiosity", "perseverance"],
        "workers": 4,
        "lookback_days": 30,
        "initial_days": 30,
        "page_size": None,
        "send_api_key": None,
    }

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__({**self.DEFAULTS, **dict(config)})

    def streams(self) -> Sequence[Stream]:
        return (MARS_PHOTO,)

    def extract(self, ctx: StepContext, state: Mapping[str, Any] | None) -> Iterator[Batch]:
        base = str(self.config.get("api_url") or "")
        if not base:
            raise NasaDataError(
                "nasa.mars_photos: no api_url. Mars Rover Photos left api.nasa.gov in October "
                "2025: set MARS_PHOTOS_API_URL to a mirror's root ending in /api/v1."
            )
        send_key = self.config["send_api_key"]
        if send_key is None:
            send_key = is_nasa_host(base)  # never hand the NASA key to a third-party mirror
        new_state: dict[str, Any] = {"rovers": copy.deepcopy(dict((state or {}).get("rovers", {})))}
        api = open_api(ctx, self.config, "nasa.mars_photos", base, send_key=send_key)
        try:
            for rover in self.config["rovers"]:
                if ctx.stop_requested():
                    return
                yield from self._rover(ctx, api, rover, new_state)
        finally:
            api.close()

    def _rover(
        self, ctx: StepContext, api: NasaApi, rover: str, new_state: dict[str, Any]
    ) -> Iterator[Batch]:
        header, rows = parse_manifest(api.get_json(f"/manifests/{rover}"), rover)
        rover_state = new_state["rovers"].setdefault(rover, {"through": None, "sols": {}})
        counts: dict[str, int] = rover_state["sols"]
        max_date = (
            parse_date(
                header.get("max_date") or max(r["earth_date"] for r in rows), "manifest max_date"
            )
            if rows
            else None
        )
        if max_date is None:
            ctx.log.info("mars %s: the manifest lists no photos", rover)
            return
        lookback = dt.timedelta(days=self.config["lookback_days"])
        through = rover_state.get("through")
        if ctx.options.since is not None:
            start = ctx.options.since
        elif through:
            start = parse_date(through, "mars watermark") - lookback + dt.timedelta(days=1)
        elif self.config.get("default_start"):
            start = parse_date(self.config["default_start"], "default_start")
        else:
            start = max_date - dt.timedelta(days=self.config["initial_days"] - 1)
        end = min(ctx.options.until or max_date, max_date)
        changed = [
            row
            for row in rows
            if start <= row["earth_date"] <= end
            and counts.get(str(row["sol"])) != row["total_photos"]
        ]
        ctx.log.info(
            "mars %s: %d sols between %s and %s changed since the last run",
            rover,
            len(changed),
            start,
            end,
        )
        packer = Rebatcher(ctx.batch_size)
        for row, photos in fetch_in_order(
            lambda r: self._fetch_sol(api, rover, r["sol"]),
            changed,
            workers=self.config["workers"],
            stop_requested=ctx.stop_requested,
            name=f"mars-{rover}",
        ):
            records = [parse_photo(p, rover) for p in photos]
            wrong = [r["photo_id"] for r in records if r["sol"] != row["sol"]]
            if wrong:
                raise NasaDataError(
                    f"Mars {rover}: photos {wrong[:5]} of another sol in the answer for sol "
                    f"{row['sol']}"
                )
            if len(records) != row["total_photos"]:
                ctx.log.warning(
                    "mars %s sol %d: the manifest counts %d photos, the photo list has %d",
                    rover,
                    row["sol"],
                    row["total_photos"],
                    len(records),
                )
            # The manifest's count is stored (not len(records)) so that a mirror whose list
            # and manifest disagree is not re-fetched on every run.
            records = dedupe_by_key(records, MARS_PHOTO.primary_key)
            ready = packer.add(records, (row["sol"], row["total_photos"]))
            yield from self._emit(ready, counts, new_state)
        yield from self._emit(packer.flush(), counts, new_state)
        if ctx.stop_requested():
            return
        # Close the rover: advance its watermark and forget sols older than the lookback.
        if through is None or end.isoformat() > through:
            rover_state["through"] = end.isoformat()
        keep_from = parse_date(rover_state["through"], "mars watermark") - lookback
        recent = {str(r["sol"]) for r in rows if r["earth_date"] > keep_from}
        rover_state["sols"] = {sol: n for sol, n in counts.items() if sol in recent}
        yield Batch({"mars_photo": []}, state=copy.deepcopy(new_state))

    @staticmethod
    def _emit(
        ready: list[tuple[list[Any], list[Any]]], counts: dict[str, int], new_state: dict[str, Any]
    ) -> Iterator[Batch]:
        """Batches of photos; a sol's count enters the state with its last photo."""
        for photos, finished in ready:
            for sol, total in finished:
                counts[str(sol)] = total
            yield Batch(
                {"mars_photo": photos}, state=copy.deepcopy(new_state) if finished else None
            )

    def _fetch_sol(self, api: NasaApi, rover: str, sol: int) -> list[Any]:
        path = f"/rovers/{rover}/photos"
        page_size = self.config["page_size"]
        if not page_size:
            return self._photos(api.get_json(path, {"sol": sol}), rover, sol)
        photos: list[Any] = []
        page = 1
        while True:
            chunk = self._photos(api.get_json(path, {"sol": sol, "page": page}), rover, sol)
            photos.extend(chunk)
            if len(chunk) < page_size:
                return photos
            page += 1

    @staticmethod
    def _photos(data: Any, rover: str, sol: int) -> list[Any]:
        # ``latest_photos`` answers use that key instead of ``photos``.
        photos = None
        if isinstance(data, Mapping):
            photos = data.get("photos", data.get("latest_photos"))
        if not isinstance(photos, list):
            raise NasaDataError(f"Mars {rover} sol {sol}: answer without a photos list")
        return photos
