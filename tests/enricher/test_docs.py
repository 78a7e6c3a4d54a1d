"""The README stays in step with the code: every error code and every setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

from image_enricher.errors import HTTP_STATUS, ErrorCode

from image_enricher import enricher, gunicorn_conf, settings

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "image_enricher" / "README.md").read_text(encoding="utf-8")


def test_every_error_code_is_documented_with_its_status() -> None:
    rows = [line for line in README.splitlines() if line.startswith("| `")]
    for code in ErrorCode:
        if code is ErrorCode.SERVICE_UNAVAILABLE:  # the enricher's own code, not the service's
            assert f"`{code.value}`" in README
            continue
        row = next((line for line in rows if f"`{code.value}`" in line), None)
        assert row is not None, f"error code {code.value} is not in the README's table"
        assert str(HTTP_STATUS[code]) in row, f"{code.value}: the README shows another status"


def test_every_environment_variable_is_documented() -> None:
    sources = Path(settings.__file__).read_text() + Path(gunicorn_conf.__file__).read_text()
    variables = set(re.findall(r'"(ENRICHER_[A-Z_]+)"', sources))
    assert len(variables) > 10
    for name in sorted(variables):
        short = name.removeprefix("ENRICHER_")
        assert name in README or f"_{short}`" in README, f"{name} is not in the README"


def test_every_plugin_config_key_is_documented() -> None:
    for key in enricher.AnalyzeImages.config_schema["properties"]:
        assert f"`{key}`" in README, f"config key {key} is not in the README"
