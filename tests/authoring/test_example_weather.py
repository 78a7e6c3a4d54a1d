"""The tutorial's example distribution passes its own tests, and the tutorial shows its code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "etl-example-weather"
TUTORIAL = REPO_ROOT / "docs" / "tutorial-source-plugin.md"


@pytest.mark.slow
def test_the_example_passes_its_own_tests() -> None:
    # Its package from source (no install needed: the tests register the class themselves).
    env = {
        **os.environ,
        "PYTHONPATH": str(EXAMPLE / "src"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", result.stdout)
    assert "failed" not in result.stdout.splitlines()[-1]


def _code_blocks(markdown: str) -> list[tuple[str, str]]:
    """``(file, code)`` for each fenced block whose first line is ``# file: PATH``."""
    blocks = re.findall(r"```[a-z]*\n# file: (\S+)\n(.*?)```", markdown, re.S)
    return [(path, code) for path, code in blocks]


def test_every_tutorial_listing_is_in_the_example() -> None:
    blocks = _code_blocks(TUTORIAL.read_text(encoding="utf-8"))
    assert len(blocks) >= 5, "the tutorial lost its file listings"
    for path, code in blocks:
        source = (EXAMPLE / path).read_text(encoding="utf-8")
        assert code in source, f"a listing of {path} in the tutorial differs from the example"
