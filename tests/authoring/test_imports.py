"""etlcore keeps its distance from plugins, and its pytest plugin costs next to nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_etlcore_and_its_pytest_plugin_import_no_plugin_distribution() -> None:
    code = (
        "import sys, etlcore.testing, etlcore.testing.pytest_plugin, etlcore.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('etl_sinks', 'etl_nasa_sources', 'image_enricher')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path("/")
    )
    assert result.stdout.strip() == "[]"


def test_the_pytest_plugin_imports_cheaply() -> None:
    # pytest loads it in every session of every project with etlcore installed.
    code = (
        "import sys, etlcore.testing.pytest_plugin; "
        "print(sorted(m for m in ('etlcore.runner', 'etlcore.config', 'etlcore.plugins', "
        "'jsonschema', 'requests', 'urllib3', 'ruamel') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path("/")
    )
    assert result.stdout.strip() == "[]"
