"""Bounded concurrency that keeps order: requests run in parallel, results come back in order.

Order matters because each batch carries a watermark: committing window 3 before window 2
would claim data that is not there yet.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


def fetch_in_order(
    fetch: Callable[[In], Out],
    items: Iterable[In],
    *,
    workers: int,
    stop_requested: Callable[[], bool] = lambda: False,
    name: str = "nasa",
) -> Iterator[tuple[In, Out]]:
    """Yield ``(item, fetch(item))`` in the order of ``items``, at most ``workers`` at a time.

    At most ``2 * workers`` results wait in memory. The first exception is raised at its
    place in the order and nothing after it is yielded. Once ``stop_requested()`` is true,
    no new request starts; the ones already yielded stay yielded.
    """
    pending: deque[tuple[In, Future[Out]]] = deque()
    source = iter(items)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
    try:

        def top_up() -> None:
            while len(pending) < 2 * workers and not stop_requested():
                try:
                    item = next(source)
                except StopIteration:
                    return
                pending.append((item, pool.submit(fetch, item)))

        top_up()
        while pending:
            item, future = pending.popleft()
            result = future.result()
            top_up()
            yield item, result
            if stop_requested():
                return
    finally:
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
