"""Run pipelines from a test: write the YAML, pick the plugins, run, look at the results."""

from __future__ import annotations

import json
import types
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import etlcore
from etlcore.contract import Enricher, RunOptions, SecretProvider, Sink, Source, Transform

if TYPE_CHECKING:
    from etlcore.plugins import PluginRegistry
    from etlcore.runner import RunResult

_HOOK_OF_BASE: tuple[tuple[type, str, str], ...] = (
    (Source, "register_sources", "source"),
    (Transform, "register_transforms", "transform"),
    (Enricher, "register_enrichers", "enricher"),
    (Sink, "register_sinks", "sink"),
    (SecretProvider, "register_secret_providers", "secret_provider"),
)


def kind_of(plugin_class: type) -> tuple[str, str]:
    """``(hook name, kind)`` of a plugin class, from the contract base it subclasses."""
    for base, hook, kind in _HOOK_OF_BASE:
        if issubclass(plugin_class, base):
            return hook, kind
    raise TypeError(f"{plugin_class!r} is not a subclass of a plugin base of etlcore.contract")


def _registering(classes: list[type]) -> Any:
    def register_all(register: Any) -> None:
        for plugin_class in classes:
            register(plugin_class)

    return register_all


def plugin_module(classes: Iterable[type], name: str = "etlcore-test-plugins") -> Any:
    """An in-memory plugin module whose ``register_*`` hooks register ``classes``."""
    by_hook: dict[str, list[type]] = {}
    for plugin_class in classes:
        by_hook.setdefault(kind_of(plugin_class)[0], []).append(plugin_class)
    module = types.ModuleType(name)
    for hook, hooked in by_hook.items():
        setattr(module, hook, etlcore.hookimpl(specname=hook)(_registering(hooked)))
    return module


def build_registry(extra: Iterable[type] = (), *, entry_points: bool = True) -> PluginRegistry:
    """The installed plugins plus ``extra`` classes; an extra class replaces an installed one
    of the same name, so a test runs the code under test, not an older installed copy.

    With ``ETL_STRICT_PLUGINS=1`` a broken installed plugin raises, as it does for ``etl``.
    """
    from etlcore.plugins import PluginInfo, PluginRegistry

    registry = PluginRegistry.load(entry_points_=entry_points)
    # One class per kind and name: the last one given wins.
    chosen = {(kind_of(c)[1], getattr(c, "name", "")): c for c in extra}
    for kind, name in chosen:
        registry.classes[kind].pop(name, None)
    if chosen:
        module = plugin_module(chosen.values())
        info = registry.add_module(module, PluginInfo("etlcore-test-plugins"))
        if info.broken:
            raise RuntimeError(f"the test plugins could not be registered: {info.error}")
    return registry


class PipelineHarness:
    """Write a pipeline into a temporary folder and run it with chosen plugins.

    ``harness.add_plugin(MySource)`` makes a class available without installing it;
    ``harness.run({...})`` takes the pipeline as a dict (or YAML text) and returns the
    :class:`~etlcore.runner.RunResult`.
    """

    def __init__(self, directory: Path, environ: Mapping[str, str] | None = None) -> None:
        self.directory = Path(directory)
        self.environ = dict(environ) if environ is not None else None
        self.extra: list[type] = []
        self._registry: PluginRegistry | None = None

    def add_plugin(self, *plugin_classes: type) -> None:
        """Make ``plugin_classes`` available to the pipelines this harness runs."""
        self.extra.extend(plugin_classes)
        self._registry = None

    @property
    def registry(self) -> PluginRegistry:
        if self._registry is None:
            self._registry = build_registry(self.extra)
        return self._registry

    def write(self, pipeline: Mapping[str, Any] | str, name: str = "pipeline.yaml") -> Path:
        """Write ``pipeline`` (dict or YAML text) to a file; JSON is valid YAML."""
        path = self.directory / name
        text = pipeline if isinstance(pipeline, str) else json.dumps(pipeline, indent=2)
        path.write_text(text, encoding="utf-8")
        return path

    def run(
        self,
        pipeline: Mapping[str, Any] | str | Path,
        options: RunOptions | None = None,
        **option_fields: Any,
    ) -> RunResult:
        """Run once. ``option_fields`` are :class:`RunOptions` fields (``full_refresh=True``)."""
        from etlcore.runner import run_pipeline

        path = pipeline if isinstance(pipeline, Path) else self.write(pipeline)
        return run_pipeline(
            path,
            options or RunOptions(**option_fields),
            registry=self.registry,
            environ=self.environ,
        )

    def validate(self, pipeline: Mapping[str, Any] | str | Path) -> Any:
        """Load and validate without running; raises :class:`~etlcore.config.ConfigError`."""
        from etlcore.config import load_pipeline

        path = pipeline if isinstance(pipeline, Path) else self.write(pipeline)
        return load_pipeline(path, self.registry, environ=self.environ)
