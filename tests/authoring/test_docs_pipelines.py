"""Every complete pipeline shown in the docs validates against the installed plugins (and the
tutorial's example plugin, loaded from its source)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from etlcore.config import load_pipeline
from etlcore.plugins import PluginRegistry
from etlcore.testing import build_registry

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
OWN_DOCS = ("index.md", "quickstart.md", "troubleshooting.md", "tutorial-source-plugin.md")
EXAMPLE_MODULE = REPO_ROOT / "examples/etl-example-weather/src/etl_example_weather/__init__.py"


def _pipelines() -> list[tuple[str, str]]:
    found = []
    for name in OWN_DOCS:
        blocks = re.findall(r"```yaml\n(.*?)```", (DOCS / name).read_text(encoding="utf-8"), re.S)
        for block in blocks:
            block = re.sub(r"\A# file: \S+\n", "", block)
            if block.startswith("name:"):
                found.append((name, block))
    return found


def _registry() -> PluginRegistry:
    spec = importlib.util.spec_from_file_location("docs_example_weather", EXAMPLE_MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return build_registry([module.WeatherSource])


def test_the_docs_show_pipelines() -> None:
    assert {doc for doc, _text in _pipelines()} >= {"quickstart.md", "tutorial-source-plugin.md"}


@pytest.mark.parametrize(("doc", "text"), _pipelines())
def test_a_documented_pipeline_validates(doc: str, text: str, tmp_path: Path) -> None:
    pipeline = load_pipeline(tmp_path / doc, _registry(), environ={}, text=text)
    assert [step.plugin for step in pipeline.steps if step.kind == "source"]


@pytest.mark.parametrize("doc", [*OWN_DOCS, "hooks.md", "lifecycle.md", "pipeline-reference.md"])
def test_relative_links_lead_somewhere(doc: str) -> None:
    text = (DOCS / doc).read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    broken = [link for link in links if "://" not in link and not (DOCS / link).resolve().exists()]
    assert not broken, f"docs/{doc} links to missing files: {broken}"
