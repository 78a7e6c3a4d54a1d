"""The engine's JSON Schema for a pipeline file. Each step's own keys are checked separately
against its plugin's ``config_schema``."""

from __future__ import annotations

from typing import Any

STEP_KINDS: dict[str, str] = {
    "sources": "source",
    "transforms": "transform",
    "enrich": "enricher",
    "sinks": "sink",
}
"""Pipeline section → the kind of plugin it holds."""

SECTION_DESCRIPTIONS: dict[str, str] = {
    "sources": "a list of steps that extract records, e.g. `- plugin: nasa.apod`",
    "transforms": "a list of steps that reshape batches, run in order after the sources",
    "enrich": "a list of steps that fill columns from outside services, run after transforms",
    "sinks": "a list of steps that load records, e.g. `- plugin: sqlite`; the first is primary",
}

ENGINE_STEP_KEYS = ("plugin", "name", "when")

_ENV_NAMES: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
}

STEP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One step: the engine's keys below, plus the plugin's own configuration.",
    "required": ["plugin"],
    "properties": {
        "plugin": {
            "type": "string",
            "minLength": 1,
            "description": "A registered plugin of this section's kind (see `etl plugins`).",
        },
        "name": {
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]*$",
            "description": "Step name, unique in the pipeline; keys its watermark. "
            "Default: the plugin name with dots as underscores.",
        },
        "when": {
            "type": "object",
            "description": "Run this step only if the condition holds.",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
            "properties": {
                "env_set": {
                    **_ENV_NAMES,
                    "description": "Any of these variables is set and non-empty.",
                },
                "env_unset": {
                    **_ENV_NAMES,
                    "description": "None of these variables is set (or all are empty).",
                },
            },
        },
    },
}

PIPELINE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "etlcore pipeline",
    "type": "object",
    "required": ["name", "sources", "sinks"],
    "additionalProperties": False,
    "properties": {
        "name": {
            "type": "string",
            "pattern": "^[a-z0-9][a-z0-9_-]*$",
            "description": "Pipeline name: keys its watermarks, run records and lock.",
        },
        "description": {"type": "string", "description": "Free text."},
        "batch_size": {
            "type": "integer",
            "minimum": 1,
            "maximum": 1000000,
            "default": 1000,
            "description": "Most records a source puts in one batch (one commit unit).",
        },
        "secret_providers": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "default": ["env", "dotenv"],
            "description": "Providers tried in order for ${secret:NAME}; "
            "the ETL_SECRET_PROVIDERS variable (comma-separated) overrides it.",
        },
        **{
            section: {
                "type": "array",
                "items": STEP_SCHEMA,
                "description": SECTION_DESCRIPTIONS[section],
                **({"minItems": 1} if section in ("sources", "sinks") else {}),
            }
            for section in STEP_KINDS
        },
    },
}
