"""Finding plugins: the ``etlcore`` entry-point group, loaded one by one so that a broken
plugin is reported by name and skipped instead of taking the CLI down with it."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

import pluggy
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from etlcore import hookspecs
from etlcore.contract import Enricher, Plugin, SecretProvider, Sink, Source, Transform

log = logging.getLogger("etlcore.plugins")

ENTRY_POINT_GROUP = "etlcore"
STRICT_ENV = "ETL_STRICT_PLUGINS"

KIND_BASES: dict[str, type] = {
    "source": Source,
    "transform": Transform,
    "enricher": Enricher,
    "sink": Sink,
    "secret_provider": SecretProvider,
}
HOOK_KINDS: dict[str, str] = {
    "register_sources": "source",
    "register_transforms": "transform",
    "register_enrichers": "enricher",
    "register_sinks": "sink",
    "register_secret_providers": "secret_provider",
}


class PluginLoadError(RuntimeError):
    """Raised in strict mode (``ETL_STRICT_PLUGINS=1``) when any plugin is broken."""


@dataclass
class PluginInfo:
    """One plugin module: where it comes from, what it registers, or why it is broken."""

    name: str
    distribution: str | None = None
    version: str | None = None
    module: str | None = None
    registers: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None

    @property
    def broken(self) -> bool:
        return self.error is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "registers": self.registers,
            "broken": self.broken,
            "error": self.error,
        }


class PluginRegistry:
    """Every registered class by kind and name, and the list of plugin modules."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.classes: dict[str, dict[str, type[Any]]] = {kind: {} for kind in KIND_BASES}
        self.plugins: list[PluginInfo] = []

    @classmethod
    def load(cls, *, strict: bool | None = None, entry_points_: bool = True) -> PluginRegistry:
        """The built-in plugins plus every installed ``etlcore`` entry point."""
        from etlcore import builtin

        registry = cls()
        registry.add_module(builtin, PluginInfo("etlcore", "etlcore", _version("etlcore")))
        if entry_points_:
            for entry_point in sorted(
                entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name
            ):
                registry.add_entry_point(entry_point)
        if strict is None:
            strict = os.environ.get(STRICT_ENV, "") not in ("", "0", "false", "no")
        broken = [p for p in registry.plugins if p.broken]
        if strict and broken:
            details = "; ".join(f"{p.name}: {p.error}" for p in broken)
            raise PluginLoadError(f"{STRICT_ENV} is set and plugins failed to load: {details}")
        return registry

    def add_entry_point(self, entry_point: EntryPoint) -> PluginInfo:
        dist = entry_point.dist
        info = PluginInfo(
            name=entry_point.name,
            distribution=dist.name if dist else None,
            version=dist.version if dist else None,
            module=entry_point.value,
        )
        try:
            module = entry_point.load()
        except Exception as exc:  # a plugin's import error must not stop the others
            return self._broken(info, f"failed to import {entry_point.value}: {_describe(exc)}")
        return self.add_module(module, info)

    def add_module(self, module: ModuleType | object, info: PluginInfo | None = None) -> PluginInfo:
        """Register a plugin module (or object) with hook implementations."""
        info = info or PluginInfo(getattr(module, "__name__", repr(module)))
        info.module = info.module or getattr(module, "__name__", None)
        try:
            self.pm.register(module, name=info.name)
            self.pm.check_pending()
        except Exception as exc:  # unknown hook names (typos), bad signatures
            if self.pm.is_registered(module):
                self.pm.unregister(module)
            return self._broken(info, f"invalid hooks: {_describe(exc)}")
        staged: list[tuple[str, str, type[Any]]] = []
        try:
            for hook_name, kind in HOOK_KINDS.items():
                for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                    if impl.plugin is module:
                        impl.function(register=_collector(kind, staged))
            for kind, name, plugin_class in staged:
                _check_class(kind, plugin_class)
                if name in self.classes[kind]:
                    raise ValueError(f"{kind} {name!r} is already registered by another plugin")
        except Exception as exc:
            self.pm.unregister(module)
            return self._broken(info, f"registration failed: {_describe(exc)}")
        for kind, name, plugin_class in staged:
            self.classes[kind][name] = plugin_class
            info.registers.setdefault(kind, []).append(name)
        self.plugins.append(info)
        return info

    def _broken(self, info: PluginInfo, error: str) -> PluginInfo:
        info.error = error
        self.plugins.append(info)
        log.warning("plugin %s is broken and was skipped: %s", info.name, error)
        return info

    def get(self, kind: str, name: str) -> type[Any] | None:
        return self.classes[kind].get(name)

    def names(self, kind: str) -> list[str]:
        return sorted(self.classes[kind])

    def kinds_of(self, name: str) -> list[str]:
        return [kind for kind, classes in self.classes.items() if name in classes]

    def all_classes(self) -> Iterable[tuple[str, str, type[Any]]]:
        for kind, classes in self.classes.items():
            for name, plugin_class in sorted(classes.items()):
                yield kind, name, plugin_class


def _collector(kind: str, staged: list[tuple[str, str, type[Any]]]) -> Callable[[type[Any]], None]:
    def register(plugin_class: type[Any]) -> None:
        staged.append((kind, getattr(plugin_class, "name", ""), plugin_class))

    return register


def _check_class(kind: str, plugin_class: type[Any]) -> None:
    base = KIND_BASES[kind]
    if not (isinstance(plugin_class, type) and issubclass(plugin_class, base)):
        raise TypeError(f"{plugin_class!r} is not a subclass of {base.__qualname__}")
    if not getattr(plugin_class, "name", ""):
        raise ValueError(f"{plugin_class.__qualname__} has no name")
    if issubclass(plugin_class, Plugin):
        try:
            Draft202012Validator.check_schema(dict(plugin_class.config_schema))
        except SchemaError as exc:
            raise ValueError(
                f"{plugin_class.name}: config_schema is not a valid JSON Schema: {exc.message}"
            ) from None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None
