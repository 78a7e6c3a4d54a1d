"""``nasa.unify``: one ``nasa_event`` row per APOD entry, NEO close approach and Mars photo."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from etl_nasa_sources.streams import DAILY_SUMMARY, ENRICHMENT_COLUMNS, NASA_EVENT
from etlcore.contract import Batch, Record, StepContext, Stream, Transform, View

MEDIA_TYPES = frozenset({"image", "video", "other"})
_EMPTY_ENRICHMENT = {column.name: None for column in ENRICHMENT_COLUMNS}


def _event(**values: Any) -> Record:
    # The enricher fills these after unify; they start empty on every new event.
    return {**values, **_EMPTY_ENRICHMENT}


def apod_events(rows: Iterable[Record]) -> list[Record]:
    """APOD entries as events; an unknown media type becomes ``other``, never a guess."""
    events = []
    for row in rows:
        media_type = row.get("media_type")
        events.append(
            _event(
                source="apod",
                source_id=row["date"].isoformat(),
                event_date=row["date"],
                title=row.get("title"),
                media_type=media_type if media_type in MEDIA_TYPES else "other",
                media_url=row.get("url"),
                thumbnail_url=row.get("thumbnail_url"),
                details={"hdurl": row.get("hdurl"), "copyright": row.get("copyright")},
            )
        )
    return events


def neo_events(approaches: Iterable[Record], neos: Mapping[str, Record]) -> list[Record]:
    """Close approaches as events, titled with the NEO's name from the same batch."""
    events = []
    for row in approaches:
        neo = neos.get(row["neo_id"], {})
        body = row.get("orbiting_body")
        events.append(
            _event(
                source="neo",
                source_id=f"{row['neo_id']}:{row['close_approach_date'].isoformat()}:{body}",
                event_date=row["close_approach_date"],
                title=neo.get("name"),
                media_type=None,
                media_url=None,
                thumbnail_url=None,
                details={
                    "neo_id": row["neo_id"],
                    "orbiting_body": body,
                    "is_potentially_hazardous": neo.get("is_potentially_hazardous"),
                    "miss_distance_km": row.get("miss_distance_km"),
                    "relative_velocity_km_s": row.get("relative_velocity_km_s"),
                },
            )
        )
    return events


def mars_events(rows: Iterable[Record]) -> list[Record]:
    """Mars photos as image events."""
    events = []
    for row in rows:
        if row.get("earth_date") is None:
            continue  # no date, no event; the photo itself is still loaded in mars_photo
        events.append(
            _event(
                source="mars",
                source_id=str(row["photo_id"]),
                event_date=row["earth_date"],
                title=f"{row['rover']} {row.get('camera') or 'camera'} sol {row['sol']}",
                media_type="image",
                media_url=row.get("img_src"),
                thumbnail_url=None,
                details={
                    "rover": row["rover"],
                    "camera": row.get("camera"),
                    "camera_full_name": row.get("camera_full_name"),
                    "sol": row["sol"],
                },
            )
        )
    return events


class UnifyTransform(Transform):
    """Adds ``nasa_event`` records to a batch; the source streams stay and load as well."""

    name: ClassVar[str] = "nasa.unify"
    description: ClassVar[str] = "Unify APOD, NEO approaches and Mars photos into nasa_event."

    def streams(self) -> Sequence[Stream]:
        return (NASA_EVENT,)

    def views(self) -> Sequence[View]:
        return (DAILY_SUMMARY,)

    def transform(self, batch: Batch, ctx: StepContext) -> Batch:
        records = batch.records
        neos = {row["neo_id"]: row for row in records.get("neo", ())}
        missing = {row["neo_id"] for row in records.get("neo_close_approach", ())} - neos.keys()
        if missing:
            # The neows source keeps a NEO and its approaches in one batch; fall back to the
            # sink for approaches that arrive on their own (e.g. from another source).
            found = ctx.lookup(
                "neo",
                [(neo_id,) for neo_id in sorted(missing)],
                ["neo_id", "name", "is_potentially_hazardous"],
            )
            neos.update({key[0]: row for key, row in found.items()})
        events = (
            apod_events(records.get("apod", ()))
            + neo_events(records.get("neo_close_approach", ()), neos)
            + mars_events(records.get("mars_photo", ()))
        )
        if not events:
            return batch
        merged = dict(records)
        merged["nasa_event"] = list(merged.get("nasa_event", [])) + events
        return Batch(merged, state=batch.state)
