"""Pipeline files: loading, validation with ``file:line:col`` errors, and references."""

from etlcore.config.errors import ConfigError, ConfigIssue
from etlcore.config.pipeline import Pipeline, Step, load_pipeline
from etlcore.config.schema import PIPELINE_SCHEMA, STEP_KINDS

__all__ = [
    "PIPELINE_SCHEMA",
    "STEP_KINDS",
    "ConfigError",
    "ConfigIssue",
    "Pipeline",
    "Step",
    "load_pipeline",
]
