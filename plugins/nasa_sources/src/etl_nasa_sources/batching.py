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


class Rebatcher:
    """Packs the records of many small units (a Mars sol) into full batches.

    ``add(records, unit)`` returns the batches that became full, each with the units whose
    last record is in that batch or an earlier one: only those may advance a watermark.
    ``flush()`` returns the rest. Fewer, fuller batches mean fewer commits.
    """

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._buffer: list[Any] = []
        self._units: list[tuple[Any, int]] = []  # (unit, records of the buffer it ends at)

    def add(self, records: Sequence[Any], unit: Any) -> list[tuple[list[Any], list[Any]]]:
        self._buffer.extend(records)
        self._units.append((unit, len(self._buffer)))
        out = []
        while len(self._buffer) >= self.size:
            out.append(self._take(self.size))
        return out

    def flush(self) -> list[tuple[list[Any], list[Any]]]:
        if not self._buffer and not self._units:
            return []
        return [self._take(len(self._buffer))]

    def _take(self, count: int) -> tuple[list[Any], list[Any]]:
        batch, self._buffer = self._buffer[:count], self._buffer[count:]
        done = [unit for unit, end in self._units if end <= count]
        self._units = [(unit, end - count) for unit, end in self._units if end > count]
        return batch, done
