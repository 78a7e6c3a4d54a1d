"""Cutting a window's records into batches of at most ``ctx.batch_size``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items (one empty slice for no items)."""
    size = max(1, size)
    if not items:
        yield items
        return
    for start in range(0, len(items), size):
        yield items[start : start + size]


def dedupe_by_key(records: list[dict[str, Any]], key: Sequence[str]) -> list[dict[str, Any]]:
    """Keep the last record per primary key: a batch must not upsert one key twice."""
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in records:
        by_key[tuple(record[k] for k in key)] = record
    return list(by_key.values())
