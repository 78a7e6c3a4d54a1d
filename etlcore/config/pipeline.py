"""Load a pipeline file: parse, validate against the engine's and each plugin's schema,
resolve references. Every problem found is reported, each with ``file:line:col``."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from etlcore.builtin import read_dotenv
from etlcore.config.errors import ConfigError, ConfigIssue
from etlcore.config.references import (
    ReferenceError_,
    Resolver,
    contains_reference,
    parse,
)
from etlcore.config.schema import ENGINE_STEP_KEYS, PIPELINE_SCHEMA, STEP_KINDS
from etlcore.config.yaml_source import PathPart, YamlDocument, load_yaml, parse_yaml
from etlcore.contract import SecretNotFound, SecretProvider
from etlcore.plugins import PluginRegistry
from etlcore.secrets import Secret, mask_known_secrets

SECRET_PROVIDERS_ENV = "ETL_SECRET_PROVIDERS"
DEFAULT_SECRET_PROVIDERS = ("env", "dotenv")
DEFAULT_BATCH_SIZE = 1000


Validator = Draft202012Validator


@dataclass
class Step:
    """One step of a pipeline, its plugin's own config resolved (when the step is enabled)."""

    section: str
    kind: str
    index: int
    name: str
    plugin: str
    config: dict[str, Any]
    enabled: bool
    plugin_class: type[Any] | None = None
    line: int = 0
    column: int = 0

    @property
    def where(self) -> str:
        return f"{self.section}[{self.index}] (step {self.name!r}, line {self.line})"


@dataclass
class Pipeline:
    """A validated pipeline: settings, and steps in the order they run."""

    path: str
    name: str
    batch_size: int
    secret_providers: list[str]
    steps: list[Step] = field(default_factory=list)

    def enabled(self, kind: str) -> list[Step]:
        return [step for step in self.steps if step.kind == kind and step.enabled]


def default_step_name(plugin: str) -> str:
    return plugin.replace(".", "_").replace("-", "_").lower()


def merged_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``.env`` file's values overlaid by the real environment (which wins)."""
    return {**read_dotenv(), **(os.environ if environ is None else environ)}


def load_pipeline(
    path: str | Path,
    registry: PluginRegistry,
    *,
    environ: Mapping[str, str] | None = None,
    text: str | None = None,
) -> Pipeline:
    """Parse and validate ``path`` (or ``text``); raise :class:`ConfigError` listing every issue."""
    display = str(path)
    document = parse_yaml(text, display) if text is not None else load_yaml(Path(path), display)
    return _Loader(document, registry, merged_environment(environ)).load()


class _Loader:
    def __init__(
        self, document: YamlDocument, registry: PluginRegistry, env: Mapping[str, str]
    ) -> None:
        self.doc = document
        self.registry = registry
        self.env = env
        self.issues: list[ConfigIssue] = []

    def issue(
        self, path: tuple[PathPart, ...], message: str, hint: str = "", *, of_key: bool = False
    ) -> None:
        line, column = self.doc.position(path, of_key=of_key)
        self.issues.append(ConfigIssue(self.doc.file, line, column, _dotted(path), message, hint))

    def load(self) -> Pipeline:
        data = self.doc.data
        if data is None or data == {}:
            raise ConfigError(
                [
                    ConfigIssue(
                        self.doc.file,
                        1,
                        1,
                        "",
                        "the pipeline is empty",
                        "a pipeline needs at least `name`, `sources` and `sinks`",
                    )
                ]
            )
        if not isinstance(data, dict):
            raise ConfigError(
                [
                    ConfigIssue(
                        self.doc.file,
                        1,
                        1,
                        "",
                        f"a pipeline must be a mapping of keys, not a {_kind_of(data)}",
                        "start with `name: my-pipeline`",
                    )
                ]
            )
        for error in Validator(PIPELINE_SCHEMA, format_checker=FormatChecker()).iter_errors(data):
            self.schema_issue(error, ())
        resolver = self.resolver(data)
        pipeline = Pipeline(
            path=self.doc.file,
            name=str(data["name"]) if isinstance(data.get("name"), str) else "",
            batch_size=data.get("batch_size", DEFAULT_BATCH_SIZE)
            if isinstance(data.get("batch_size"), int)
            else DEFAULT_BATCH_SIZE,
            secret_providers=self.provider_names(data),
        )
        seen: dict[str, tuple[PathPart, ...]] = {}
        for section, kind in STEP_KINDS.items():
            steps = data.get(section)
            if not isinstance(steps, list):
                continue
            for index, raw in enumerate(steps):
                step = self.step(section, kind, index, raw, seen, resolver)
                if step is not None:
                    pipeline.steps.append(step)
        if (
            isinstance(data.get("sinks"), list)
            and data["sinks"]
            and not any(step.enabled for step in pipeline.steps if step.kind == "sink")
        ):
            self.issue(
                ("sinks",),
                "no sink is enabled: every sink's `when` condition is false",
                "relax a `when` condition, or add a sink without one",
            )
        if self.issues:
            raise ConfigError(self.issues)
        return pipeline

    def provider_names(self, data: dict[str, Any]) -> list[str]:
        from_env = self.env.get(SECRET_PROVIDERS_ENV, "")
        if from_env.strip():
            return [name.strip() for name in from_env.split(",") if name.strip()]
        names = data.get("secret_providers")
        if isinstance(names, list) and all(isinstance(name, str) for name in names):
            return names
        return list(DEFAULT_SECRET_PROVIDERS)

    def resolver(self, data: dict[str, Any]) -> Resolver:
        providers: list[SecretProvider] = []
        from_env = bool(self.env.get(SECRET_PROVIDERS_ENV, "").strip())
        for index, name in enumerate(self.provider_names(data)):
            provider_class = self.registry.get("secret_provider", name)
            if provider_class is None:
                known = self.registry.names("secret_provider")
                hint = _closest_hint(name, known, "secret providers")
                if from_env:
                    self.issues.append(
                        ConfigIssue(
                            self.doc.file,
                            1,
                            1,
                            SECRET_PROVIDERS_ENV,
                            f"unknown secret provider {name!r} in ${SECRET_PROVIDERS_ENV}",
                            hint,
                        )
                    )
                else:
                    self.issue(
                        ("secret_providers", index),
                        f"unknown secret provider {name!r}",
                        hint,
                    )
                continue
            try:
                providers.append(provider_class())
            except Exception as exc:  # e.g. a malformed mapping in the provider's settings
                self.issues.append(
                    ConfigIssue(
                        self.doc.file,
                        1,
                        1,
                        "secret_providers",
                        f"secret provider {name!r} cannot start: {mask_known_secrets(str(exc))}",
                    )
                )

        def lookup(name: str) -> str:
            reasons = []
            for provider in providers:
                try:
                    return provider.get(name)
                except SecretNotFound as exc:
                    reasons.append(f"{provider.name}: {exc}")
            raise SecretNotFound("; ".join(reasons) or "no secret provider is configured")

        return Resolver(self.env, lookup)

    def step(
        self,
        section: str,
        kind: str,
        index: int,
        raw: Any,
        seen: dict[str, tuple[PathPart, ...]],
        resolver: Resolver,
    ) -> Step | None:
        where: tuple[PathPart, ...] = (section, index)
        if not isinstance(raw, dict) or not isinstance(raw.get("plugin"), str):
            return None  # the engine schema has reported it
        plugin = raw["plugin"]
        plugin_class = self.registry.get(kind, plugin)
        if plugin_class is None:
            self.unknown_plugin(where, kind, plugin)
        name = str(raw["name"]) if isinstance(raw.get("name"), str) else default_step_name(plugin)
        name_path = (*where, "name") if "name" in raw else (*where, "plugin")
        if plugin_class is None:
            pass  # its name would only add noise to the unknown-plugin error
        elif name in seen:
            first_line, _ = self.doc.position(seen[name])
            self.issue(
                name_path,
                f"duplicate step name {name!r} (first used on line {first_line})",
                "give each step a unique `name:`",
            )
        else:
            seen[name] = name_path
        enabled = self.condition(raw.get("when"))
        config = {key: value for key, value in raw.items() if key not in ENGINE_STEP_KEYS}
        unresolved: set[tuple[PathPart, ...]] = set()
        config = self.resolve(config, where, resolver if enabled else None, unresolved)
        if plugin_class is not None:
            validator = Validator(dict(plugin_class.config_schema), format_checker=FormatChecker())
            secret_paths: set[tuple[PathPart, ...]] = set()
            for error in validator.iter_errors(_revealed(config, (), secret_paths)):
                error_path = tuple(error.absolute_path)
                if error_path in unresolved:
                    continue  # a reference in a disabled step: checked when it is enabled
                if error_path in secret_paths:  # say what rule failed, never the value
                    self.issue(
                        (*where, *error_path),
                        f"the secret's value fails the schema rule "
                        f"{error.validator}: {error.validator_value!r}",
                    )
                    continue
                self.schema_issue(error, where, plugin=plugin)
        line, column = self.doc.position(where)
        return Step(section, kind, index, name, plugin, config, enabled, plugin_class, line, column)

    def unknown_plugin(self, where: tuple[PathPart, ...], kind: str, plugin: str) -> None:
        other_kinds = self.registry.kinds_of(plugin)
        if other_kinds == ["secret_provider"]:
            message = f"{plugin!r} is a secret provider, not a {kind} plugin"
            hint = "list secret providers under `secret_providers:`"
        elif other_kinds:
            section = _section_of(other_kinds[0])
            hint = f"it is a {other_kinds[0]}: move the step under `{section}:`"
            message = f"{plugin!r} is not a {kind} plugin"
        else:
            hint = _closest_hint(plugin, self.registry.names(kind), f"{kind} plugins")
            broken = [p for p in self.registry.plugins if p.broken]
            if broken:
                hint += "; broken plugins were skipped: " + ", ".join(p.name for p in broken)
                hint += " (see `etl plugins`)"
            message = f"unknown {kind} plugin {plugin!r}"
        self.issue((*where, "plugin"), message, hint)

    def condition(self, when: Any) -> bool:
        if not isinstance(when, dict):
            return True
        if "env_set" in when and isinstance(when["env_set"], list):
            return any(self.env.get(name) for name in when["env_set"])
        if "env_unset" in when and isinstance(when["env_unset"], list):
            return not any(self.env.get(name) for name in when["env_unset"])
        return True

    def resolve(
        self,
        value: Any,
        path: tuple[PathPart, ...],
        resolver: Resolver | None,
        unresolved: set[tuple[PathPart, ...]],
        depth: int = 0,
    ) -> Any:
        """Resolve references (or only check their syntax when ``resolver`` is None)."""
        if isinstance(value, dict):
            return {
                key: self.resolve(item, (*path, key), resolver, unresolved, depth + 1)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [
                self.resolve(item, (*path, index), resolver, unresolved, depth + 1)
                for index, item in enumerate(value)
            ]
        if not contains_reference(value):
            return value
        config_path = path[2:]  # relative to the step's own config
        try:
            if resolver is None:
                parse(value)
                unresolved.add(config_path)
                return value
            return resolver.resolve(value)
        except ReferenceError_ as exc:
            self.issue(path, str(exc), exc.hint)
            unresolved.add(config_path)
            return value

    def schema_issue(
        self, error: ValidationError, base: tuple[PathPart, ...], plugin: str | None = None
    ) -> None:
        path = (*base, *error.absolute_path)
        owner = f"{plugin!r}" if plugin else "the pipeline"
        schema = error.schema if isinstance(error.schema, dict) else {}
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(schema.get("properties", {}))
            if plugin:
                allowed = [*ENGINE_STEP_KEYS, *allowed]
            for key in error.instance:
                if key in schema.get("properties", {}):
                    continue
                hint = _closest_hint(key, allowed, "valid keys", always_list=True)
                self.issue((*path, key), f"unknown key {key!r} for {owner}", hint, of_key=True)
        elif error.validator == "required" and isinstance(error.instance, dict):
            # jsonschema reports one error per missing key; its message names that key
            missing = [key for key in error.validator_value if key not in error.instance]
            named = [key for key in missing if error.message.startswith(f"{key!r} ")]
            for key in named or missing[:1]:
                description = schema.get("properties", {}).get(key, {}).get("description", "")
                hint = f"{key}: {description}" if description else f"add `{key}:`"
                self.issue(path, f"missing required key {key!r} for {owner}", hint)
        elif error.validator == "type":
            expected = error.validator_value
            expected_text = " or ".join(expected) if isinstance(expected, list) else expected
            self.issue(
                path,
                f"expected {expected_text}, "
                f"got {_kind_of(error.instance)} {_short(error.instance)}",
                _type_hint(expected_text, error.instance),
            )
        elif error.validator == "enum":
            values = ", ".join(str(v) for v in error.validator_value)
            self.issue(path, f"{_short(error.instance)} is not allowed", f"use one of: {values}")
        else:
            description = schema.get("description", "")
            self.issue(path, error.message, description)


def _revealed(value: Any, path: tuple[PathPart, ...], secrets: set[tuple[PathPart, ...]]) -> Any:
    """A copy for schema validation with secrets' plain values; their paths go to ``secrets``."""
    if isinstance(value, Secret):
        secrets.add(path)
        return value.reveal()
    if isinstance(value, dict):
        return {key: _revealed(item, (*path, key), secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_revealed(item, (*path, index), secrets) for index, item in enumerate(value)]
    return value


def _type_hint(expected: str, instance: Any) -> str:
    if expected == "integer" and isinstance(instance, str) and instance.strip().isdigit():
        return "remove the quotes to make it a number"
    if expected in ("array",) and not isinstance(instance, list):
        return "write a list: one `- item` per line, or [a, b]"
    if expected == "object" and not isinstance(instance, dict):
        return "write a mapping of `key: value` lines, indented under this key"
    return ""


def _closest_hint(word: str, candidates: list[str], what: str, *, always_list: bool = False) -> str:
    close = difflib.get_close_matches(word, candidates, n=3, cutoff=0.6)
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
        return f"{hint} valid keys: {', '.join(candidates)}" if always_list else hint
    if not candidates:
        return f"no {what} are installed"
    return f"{what}: {', '.join(candidates)}"


def _section_of(kind: str) -> str:
    return next(section for section, k in STEP_KINDS.items() if k == kind)


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "mapping",
    }.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _dotted(path: tuple[PathPart, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
