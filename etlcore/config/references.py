"""``${env:NAME}``, ``${env:NAME:-default}``, ``${secret:NAME}``, ``${secret:NAME#key}``.

A default may itself hold references (``${env:A:-${env:B:-x}}``). A scalar that is exactly
one ``env`` reference is re-typed after resolution, as YAML would type it (``"500"`` → 500).
Any part that comes from a secret turns the whole value into a :class:`~etlcore.secrets.Secret`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML

from etlcore.secrets import Secret

REFERENCE_START = "${"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]*")
KINDS = ("env", "secret")


class ReferenceError_(Exception):
    """A reference that cannot be resolved; the message names it and never shows a value."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Reference:
    kind: str
    name: str
    json_key: str | None
    default: list[Any] | None  # parsed parts of the default, or None when there is none
    text: str


def contains_reference(value: Any) -> bool:
    return isinstance(value, str) and REFERENCE_START in value


def parse(text: str) -> list[Any]:
    """Split ``text`` into literal strings and :class:`Reference` parts."""
    parts, _ = _parse(text, 0, nested=False)
    return parts


def _parse(text: str, pos: int, *, nested: bool) -> tuple[list[Any], int]:
    parts: list[Any] = []
    literal: list[str] = []
    while pos < len(text):
        if text.startswith("$${", pos):  # escape: $${ → literal ${
            literal.append("${")
            pos += 3
        elif text.startswith(REFERENCE_START, pos):
            if literal:
                parts.append("".join(literal))
                literal = []
            reference, pos = _parse_reference(text, pos)
            parts.append(reference)
        elif nested and text[pos] == "}":
            break
        else:
            literal.append(text[pos])
            pos += 1
    if literal:
        parts.append("".join(literal))
    return parts, pos


def _parse_reference(text: str, start: int) -> tuple[Reference, int]:
    pos = start + 2
    kind, sep, _ = text[pos:].partition(":")
    if not sep or kind not in KINDS:
        raise ReferenceError_(
            f"malformed reference {text[start : start + 40]!r}",
            "write ${env:NAME}, ${env:NAME:-default} or ${secret:NAME}; $${ gives a literal ${",
        )
    pos += len(kind) + 1
    match = _NAME.match(text, pos)
    if not match:
        raise ReferenceError_(f"reference {text[start : pos + 10]!r} has no valid name")
    name = match.group(0)
    pos = match.end()
    json_key = None
    if kind == "secret" and text.startswith("#", pos):
        key_match = re.compile(r"[^}:]+").match(text, pos + 1)
        if not key_match:
            raise ReferenceError_(f"reference {text[start : pos + 2]!r} has an empty JSON key")
        json_key = key_match.group(0)
        pos = key_match.end()
    default = None
    if text.startswith(":-", pos):
        default, pos = _parse(text, pos + 2, nested=True)
    if not text.startswith("}", pos):
        raise ReferenceError_(
            f"unterminated reference starting {text[start : start + 40]!r}", "close it with }"
        )
    return Reference(kind, name, json_key, default, text[start : pos + 1]), pos + 1


SecretLookup = Callable[[str], str]
"""Return a secret's value, raise ``LookupError`` when unknown, ``PermissionError`` when denied."""


class Resolver:
    """Resolves references against an environment and the configured secret providers."""

    def __init__(self, env: Mapping[str, str], secret: SecretLookup) -> None:
        self.env = env
        self._secret = secret

    def resolve(self, text: str) -> Any:
        parts = parse(text)
        secret_parts: list[str] = []
        values = [self._value(part, secret_parts) for part in parts]
        if len(parts) == 1 and isinstance(parts[0], Reference) and not secret_parts:
            return _retype(values[0])
        joined = "".join(values)
        if secret_parts:
            return Secret(joined, name=",".join(secret_parts))
        return joined

    def _value(self, part: Any, secret_parts: list[str]) -> str:
        if isinstance(part, str):
            return part
        ref: Reference = part
        if ref.kind == "env":
            value = self.env.get(ref.name)
            if value is not None and value != "":
                return value
            if ref.default is not None:
                return "".join(self._value(p, secret_parts) for p in ref.default)
            raise ReferenceError_(
                f"environment variable {ref.name} is not set",
                f"export {ref.name}=..., add it to .env, "
                f"or give a default: ${{env:{ref.name}:-value}}",
            )
        try:
            raw = self._secret(ref.name)
        except PermissionError as exc:
            raise ReferenceError_(f"secret {ref.name}: access denied ({exc})") from None
        except LookupError as exc:
            if ref.default is not None:
                return "".join(self._value(p, secret_parts) for p in ref.default)
            raise ReferenceError_(
                f"secret {ref.name} was not found ({exc})",
                "set it in the environment or .env, or configure a secret provider "
                "(ETL_SECRET_PROVIDERS)",
            ) from None
        secret_parts.append(ref.name)
        if ref.json_key is None:
            return raw
        return _json_field(ref.name, raw, ref.json_key)


def _json_field(name: str, raw: str, key: str) -> str:
    try:
        document = json.loads(raw)
    except ValueError:
        raise ReferenceError_(
            f"secret {name} is not a JSON object, so #{key} cannot be read"
        ) from None
    if not isinstance(document, dict) or key not in document:
        keys = sorted(document) if isinstance(document, dict) else []
        raise ReferenceError_(
            f"secret {name} has no key {key!r}",
            f"its keys are: {', '.join(keys)}" if keys else "",
        )
    value = document[key]
    return value if isinstance(value, str) else json.dumps(value)


_scalar_yaml = YAML(typ="safe", pure=True)


def _retype(value: str) -> Any:
    """Type an env value the way YAML types a plain scalar; empty stays an empty string."""
    if value == "" or value.strip() != value:
        return value
    try:
        typed = _scalar_yaml.load(value)
    except Exception:
        return value
    if isinstance(typed, bool | int | float) and not isinstance(typed, str):
        return typed
    return value
