"""docs/pipeline-reference.md is generated from the JSON Schemas and must not go stale."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from etlcore.config import PIPELINE_SCHEMA
from etlcore.contract import Source
from etlcore.scaffold.reference import GENERATOR, installed_plugins, main, render_reference

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "pipeline-reference.md"


def test_the_committed_reference_is_current() -> None:
    expected = render_reference(installed_plugins())
    assert REFERENCE.read_text(encoding="utf-8") == expected, (
        f"docs/pipeline-reference.md is stale: run `.venv/bin/{GENERATOR}`"
    )


def test_every_installed_plugin_and_engine_key_is_in_it() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    for kind, plugin_class, _distribution in installed_plugins():
        heading = f"`{plugin_class.name}`"
        assert heading in text, f"{kind} {plugin_class.name} is missing"
    for key in PIPELINE_SCHEMA["properties"]:
        assert f"`{key}" in text


class _Weather(Source):
    name = "acme.weather"
    description = "Weather observations."
    config_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["station"],
        "properties": {
            "station": {"type": "string", "description": "Station | id."},
            "units": {"enum": ["metric", "imperial"], "description": "Default: metric."},
            "window": {
                "type": "object",
                "properties": {"days": {"type": "integer", "minimum": 1, "maximum": 7}},
            },
        },
    }


def test_a_plugin_section_shows_keys_types_requirement_and_limits() -> None:
    text = render_reference([("source", _Weather, "etl-acme-weather")])
    section = text.split("### `acme.weather`", 1)[1]
    assert "From the `etl-acme-weather` distribution." in section
    assert "| `station` | string | yes | Station \\| id. |" in section
    assert "| `units` | one of `metric`, `imperial` |  | Default: metric. |" in section
    assert "| `window.days` | integer |  | (at least 1, at most 7) |" in section
    assert "## Transforms (`transforms:`)\n\nNone installed." in text


def test_check_mode_reports_a_stale_file(tmp_path: Path) -> None:
    output = tmp_path / "reference.md"
    assert main(["--output", str(output), "--check"]) == 1
    assert main(["--output", str(output)]) == 0
    assert main(["--output", str(output), "--check"]) == 0
    output.write_text(output.read_text() + "edited by hand\n")
    assert main(["--output", str(output), "--check"]) == 1
