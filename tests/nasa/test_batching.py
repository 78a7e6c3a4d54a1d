"""Batch packing and ordered concurrent fetching: the watermark only covers committed data."""

from __future__ import annotations

import threading
import time

import pytest
from etl_nasa_sources.batching import Rebatcher
from etl_nasa_sources.ordered_fetch import fetch_in_order
from hypothesis import given
from hypothesis import strategies as st


@given(st.lists(st.integers(0, 12), max_size=30), st.integers(1, 10))
def test_rebatcher_marks_a_unit_done_only_with_its_last_record(sizes, size):
    packer = Rebatcher(size)
    emitted: list[tuple[int, int]] = []
    batches = []
    for unit, count in enumerate(sizes):
        batches += packer.add([(unit, i) for i in range(count)], unit)
    batches += packer.flush()
    done_so_far: set[int] = set()
    for records, done in batches:
        assert len(records) <= size
        emitted += records
        done_so_far |= set(done)
        for unit in done_so_far:  # every record of a finished unit is already out
            assert sum(1 for u, _ in emitted if u == unit) == sizes[unit]
    assert emitted == [(u, i) for u, n in enumerate(sizes) for i in range(n)]
    assert done_so_far == set(range(len(sizes)))


def test_fetch_in_order_keeps_order_and_bounds_concurrency():
    active, peak, lock = [0], [0], threading.Lock()

    def fetch(n: int) -> int:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01 * (n % 3))
        with lock:
            active[0] -= 1
        return n * n

    results = list(fetch_in_order(fetch, range(20), workers=3))
    assert results == [(n, n * n) for n in range(20)]
    assert peak[0] <= 3


def test_fetch_in_order_raises_at_the_failing_item_and_stops():
    started = []

    def fetch(n: int) -> int:
        started.append(n)
        if n == 2:
            raise RuntimeError("boom")
        return n

    got = []
    with pytest.raises(RuntimeError, match="boom"):
        for item, _ in fetch_in_order(fetch, range(100), workers=2):
            got.append(item)
    assert got == [0, 1]
    assert max(started) < 10  # nothing like all 100 requests
