"""The NASA data model: the streams the sources and ``nasa.unify`` emit, and the summary view.

Column names are the contract users query (see docs/nasa-sources.md). Every field an API sends
is either a typed column here or kept in the stream's ``raw`` json column.
"""

from __future__ import annotations

from etlcore.contract import Column, Stream, View

APOD = Stream(
    name="apod",
    primary_key=("date",),
    description="Astronomy Picture of the Day: one row per published date.",
    columns=(
        Column("date", "date", nullable=False),
        Column("title", "string"),
        Column("explanation", "string", description="May be empty: NASA publishes some so."),
        Column("media_type", "string", description="image, video or other"),
        Column("url", "string", description="NULL for media_type other."),
        Column("hdurl", "string", description="Images only."),
        Column("thumbnail_url", "string", description="Videos only (requested with thumbs)."),
        Column("copyright", "string", description="Trimmed of NASA's newlines; NULL if absent."),
        Column("service_version", "string"),
        Column("raw", "json", description="Fields the API sent that have no column."),
    ),
)

NEO = Stream(
    name="neo",
    primary_key=("neo_id",),
    description="Near-Earth objects as NeoWs last described them.",
    columns=(
        Column("neo_id", "string", nullable=False),
        Column("neo_reference_id", "string"),
        Column("name", "string"),
        Column("name_limited", "string"),
        Column("designation", "string"),
        Column("nasa_jpl_url", "string"),
        Column("absolute_magnitude_h", "number"),
        Column("estimated_diameter_min_m", "number"),
        Column("estimated_diameter_max_m", "number"),
        Column("is_potentially_hazardous", "boolean"),
        Column("is_sentry_object", "boolean", description="NULL when the API omits it (2016)."),
        Column("sentry_data_url", "string", description="Without the api_key NeoWs echoes."),
        Column("orbital_data", "json", description="Only sent by lookups and detailed feeds."),
        Column("raw", "json", description="Other fields, e.g. diameters in km/miles/feet."),
    ),
)

NEO_CLOSE_APPROACH = Stream(
    name="neo_close_approach",
    primary_key=("neo_id", "close_approach_date", "orbiting_body"),
    description="One close approach of a NEO to a body, numbers parsed from NeoWs strings.",
    columns=(
        Column("neo_id", "string", nullable=False),
        Column("close_approach_date", "date", nullable=False),
        Column("orbiting_body", "string", nullable=False, description="As sent: Earth, Juptr…"),
        Column("close_approach_at", "timestamp", description="From epoch_date_close_approach."),
        Column("close_approach_date_full", "string", description="NULL in the 2016 shape."),
        Column("relative_velocity_km_s", "number"),
        Column("relative_velocity_km_h", "number"),
        Column("relative_velocity_mph", "number"),
        Column("miss_distance_au", "number"),
        Column("miss_distance_lunar", "number"),
        Column("miss_distance_km", "number"),
        Column("miss_distance_miles", "number"),
        Column("raw", "json", description="Fields the API sent that have no column."),
    ),
)

MARS_PHOTO = Stream(
    name="mars_photo",
    primary_key=("photo_id",),
    description="One Mars rover photo.",
    columns=(
        Column("photo_id", "integer", nullable=False),
        Column("rover", "string", nullable=False),
        Column("rover_id", "integer"),
        Column("camera", "string"),
        Column("camera_id", "integer"),
        Column("camera_full_name", "string"),
        Column("sol", "integer", nullable=False),
        Column("earth_date", "date"),
        Column("img_src", "string"),
        Column("raw", "json", description="Other photo, camera and rover fields."),
    ),
)

ENRICHMENT_COLUMNS: tuple[Column, ...] = (
    Column("image_width", "integer"),
    Column("image_height", "integer"),
    Column("image_format", "string"),
    Column("image_bytes_read", "integer"),
    Column("enrich_status", "string"),
    Column("enrich_error", "string"),
    Column("enriched_at", "timestamp"),
)
"""Filled by the image enricher after ``nasa.unify``; unify leaves them ``None``."""

NASA_EVENT = Stream(
    name="nasa_event",
    primary_key=("source", "source_id"),
    description="The unified model: one row per APOD entry, NEO close approach and Mars photo.",
    columns=(
        Column("source", "string", nullable=False, description="apod, neo or mars"),
        Column("source_id", "string", nullable=False),
        Column("event_date", "date", nullable=False),
        Column("title", "string"),
        Column("media_type", "string", description="image, video, other or NULL"),
        Column("media_url", "string"),
        Column("thumbnail_url", "string"),
        Column("details", "json", description="Source-specific facts (miss distance, camera…)."),
        *ENRICHMENT_COLUMNS,
    ),
)


def _daily_summary_sql(hazardous: str, miss_km: str) -> str:
    """The view over ``nasa_event`` alone, so it works whichever sources a pipeline runs.

    NULL, not 0, where a source has no rows that day: "no data" is not "no approaches".
    """
    return f"""
SELECT event_date AS "date",
       MAX(CASE WHEN source = 'apod' THEN title END) AS apod_title,
       MAX(CASE WHEN source = 'apod' THEN media_type END) AS apod_media_type,
       SUM(CASE WHEN source = 'neo' THEN 1 END) AS neo_approaches,
       SUM(CASE WHEN source = 'neo' THEN CASE WHEN {hazardous} THEN 1 ELSE 0 END END)
           AS hazardous_approaches,
       MIN(CASE WHEN source = 'neo' THEN {miss_km} END) AS closest_miss_km,
       SUM(CASE WHEN source = 'mars' THEN 1 END) AS mars_photos
FROM nasa_event
GROUP BY event_date
""".strip()


DAILY_SUMMARY = View(
    name="daily_summary",
    sql={
        "postgres": _daily_summary_sql(
            hazardous="(details ->> 'is_potentially_hazardous')::boolean",
            miss_km="(details ->> 'miss_distance_km')::double precision",
        ),
        "sqlite": _daily_summary_sql(
            hazardous="json_extract(details, '$.is_potentially_hazardous')",
            miss_km="json_extract(details, '$.miss_distance_km')",
        ),
    },
    depends_on=("nasa_event",),
    description=(
        "One row per day with any NASA event: APOD title and media type, NEO approaches, "
        "hazardous approaches, closest miss (km) and Mars photos. NULL means no data that day."
    ),
)
