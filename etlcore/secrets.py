"""Secrets: resolved values wrapped so that repr, str, logs and tracebacks never show them."""

from __future__ import annotations

import threading
from typing import Any

MASK = "***"


class Secret:
    """A resolved secret. ``str()``/``repr()`` show a mask; :meth:`reveal` gives the value."""

    __slots__ = ("_value", "name")

    def __init__(self, value: str, name: str = "secret") -> None:
        self._value = value
        self.name = name
        _known.add(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.name!r}, {MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:  # pickling (e.g. to a subprocess) keeps the wrapper
        return (Secret, (self._value, self.name))


class Public(str):
    """A value that sits where secrets go but is published, so it is never masked.

    NASA's ``DEMO_KEY`` is the example: it travels in the ``X-Api-Key`` header, which the HTTP
    helper otherwise treats as secret, and masking it would turn the word into ``***`` in every
    later log line, including the warning that tells the user to replace it.
    """

    __slots__ = ()


def reveal(value: Any) -> Any:
    """The plain value of a :class:`Secret`; anything else is returned unchanged."""
    return value.reveal() if isinstance(value, Secret) else value


class _KnownSecrets:
    """Every value ever wrapped, so log filters can mask it wherever it turns up."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        if len(value) >= 4:  # masking "a" everywhere would garble logs and hide nothing
            with self._lock:
                self._values.add(value)

    def mask(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return text


_known = _KnownSecrets()


def mask_known_secrets(text: str) -> str:
    """Replace every resolved secret value found in ``text`` by a mask."""
    return _known.mask(text)
