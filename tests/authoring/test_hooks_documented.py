"""docs/hooks.md and etlcore/hookspecs.py stay in lockstep (after datasette's
``test_plugin_hooks_are_documented``)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from etlcore import hookspecs

HOOKS_DOC = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"


def _hookspecs() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(function)
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, "etlcore_spec")
    }


def _documented_headings() -> list[str]:
    return re.findall(r"^## (\S+\(.*\))\s*$", HOOKS_DOC.read_text(encoding="utf-8"), re.M)


def test_hookspecs_are_found() -> None:
    # Guards the two tests below against passing on an empty list.
    assert len(_hookspecs()) >= 5


@pytest.mark.parametrize("name", sorted(_hookspecs()))
def test_every_hookspec_has_a_heading_with_its_signature(name: str) -> None:
    signature = _hookspecs()[name]
    heading = f"{name}({', '.join(signature.parameters)})"
    assert heading in _documented_headings(), f"docs/hooks.md needs a heading '## {heading}'"


@pytest.mark.parametrize("name", sorted(_hookspecs()))
def test_every_hookspec_shows_its_typed_signature(name: str) -> None:
    # The typed form as written in hookspecs.py (annotations are strings there).
    signature = _hookspecs()[name]
    params = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    typed = f"{name}({params}) -> {signature.return_annotation}"
    assert typed in HOOKS_DOC.read_text(encoding="utf-8"), f"docs/hooks.md should show {typed}"


def test_every_documented_hook_exists() -> None:
    stale = [h for h in _documented_headings() if h.split("(")[0] not in _hookspecs()]
    assert not stale, f"docs/hooks.md documents hooks that no longer exist: {stale}"


LIFECYCLE_DOC = HOOKS_DOC.parent / "lifecycle.md"


def test_the_lifecycle_diagram_shows_every_method_the_runner_calls() -> None:
    from etlcore.contract import Sink

    diagram = LIFECYCLE_DOC.read_text(encoding="utf-8").split("```mermaid", 1)[1].split("```")[0]
    # The sink lifecycle as the contract states it: "Lifecycle: ``open`` → ``read_state`` → …"
    lifecycle = (Sink.__doc__ or "").split("Lifecycle:", 1)[1].split(".")[0]
    sink_methods = re.findall(r"``(\w+)``", lifecycle)
    assert len(sink_methods) >= 6, lifecycle
    expected = [
        "source.extract(",
        "transform.transform(",
        "enricher.enrich(",
        "enricher.close(",
        *(f"sink.{method}(" for method in sink_methods),
    ]
    missing = [call for call in expected if call not in diagram]
    assert not missing, f"docs/lifecycle.md does not show: {missing}"
