"""Render the templates of :mod:`etlcore.scaffold` into a new plugin distribution.

Templates are package data (``templates/<kind>/…`` and ``templates/common/…``) rendered with
:class:`string.Template`; ``$$`` in a template is a literal ``$``.
"""

from __future__ import annotations

import re
import string
from dataclasses import asdict, dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

KINDS = ("source", "transform", "enricher", "sink")
"""The kinds of plugin ``etl new-plugin --kind`` can write."""

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")

# template file (relative to templates/<kind>/ or templates/common/) -> path in the new project
_LAYOUT: dict[str, str] = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "gitignore.tmpl": ".gitignore",
    "module.py.tmpl": "src/${package}/__init__.py",
    "test_plugin.py.tmpl": "tests/test_${entry_point}.py",
}


class ScaffoldError(ValueError):
    """The plugin cannot be written: a bad name or kind, or the target already exists."""


@dataclass(frozen=True)
class PluginNames:
    """Every name derived from the plugin name a user types, e.g. ``acme.weather``."""

    plugin: str
    """What a pipeline's ``plugin:`` key says: ``acme.weather``."""
    kind: str
    distribution: str
    """The name on PyPI: ``etl-acme-weather``."""
    package: str
    """The import package: ``etl_acme_weather``."""
    entry_point: str
    """The entry point name in the ``etlcore`` group (also the default step name)."""
    class_name: str
    """``AcmeWeatherSource``."""

    @classmethod
    def from_name(cls, name: str, kind: str) -> PluginNames:
        if kind not in KINDS:
            raise ScaffoldError(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
        if not NAME_PATTERN.match(name):
            raise ScaffoldError(
                f"invalid plugin name {name!r}: use lowercase letters, digits and underscores, "
                "dot-separated for a namespace (e.g. 'weather' or 'acme.weather')"
            )
        words = [word for word in re.split(r"[._]", name) if word]  # "a__b_" -> a, b
        snake = "_".join(words)
        return cls(
            plugin=name,
            kind=kind,
            distribution="etl-" + "-".join(words),
            package="etl_" + snake,
            entry_point=snake,
            class_name="".join(word.capitalize() for word in words) + kind.capitalize(),
        )


def new_plugin(name: str, kind: str, directory: Path) -> Path:
    """Write the distribution of a new ``kind`` plugin called ``name`` under ``directory``.

    Returns the new project's folder, ``directory / "etl-<name>"``. It installs with
    ``pip install -e`` and passes its own tests (``pytest``) as written.
    Raises :class:`ScaffoldError` for a bad name or kind, or when that folder exists.
    """
    names = PluginNames.from_name(name, kind)
    target = Path(directory) / names.distribution
    if target.exists():
        raise ScaffoldError(f"{target} already exists: choose another name or --dir")
    values = {**asdict(names), "etlcore_version": _etlcore_version()}
    # The README shows the kind's own pipeline snippet.
    usage = files("etlcore.scaffold") / "templates" / kind / "usage.yaml.tmpl"
    values["usage"] = _render(usage, values).rstrip("\n")
    rendered = {
        string.Template(out).substitute(values): _render(template, values)
        for out, template in _templates(kind).items()
    }
    for relative, text in rendered.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target


def _templates(kind: str) -> dict[str, Traversable]:
    """Output path template -> template file; a kind's own file wins over the common one."""
    root = files("etlcore.scaffold") / "templates"
    chosen: dict[str, Traversable] = {}
    for folder in ("common", kind):
        for entry in (root / folder).iterdir():
            if entry.name in _LAYOUT:
                chosen[_LAYOUT[entry.name]] = entry
    return chosen


def _render(template: Traversable, values: dict[str, str]) -> str:
    try:
        return string.Template(template.read_text(encoding="utf-8")).substitute(values)
    except (KeyError, ValueError) as exc:  # a template bug: say which file
        raise RuntimeError(f"template {template.name} cannot be rendered: {exc}") from exc


def _etlcore_version() -> str:
    from etlcore import __version__

    major, minor = __version__.split(".")[:2]
    return f"{major}.{minor}"
