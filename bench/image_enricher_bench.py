"""Header-only image analysis vs a full download per image (the seed's way), in one run.

A local image server serves NASA-sized files (1-12 MB JPEG, PNG and WebP of random texture,
which compresses as badly as real astro photos) with 50 ms latency per request. Both ways run
against the same files with the same concurrency, and the script prints images per second,
mean bytes read per image, and the ratios between the two. Run from the repo root:

    .venv/bin/python bench/image_enricher_bench.py [--requests 400] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.imageserver

from image_enricher.fetch import FetchLimits, ImageAnalyzer
from image_enricher.policy import UrlPolicy

from tests.imageserver import ImageServer
from tests.imageserver.header_bytes import header_bytes
from tests.imageserver.images import make_image

# (format, extension, width, height, quality): about 1 to 12 MB each with full noise.
CATALOG = [
    ("JPEG", "jpg", 1600, 1200, 92),
    ("JPEG", "jpg", 2400, 1800, 92),
    ("JPEG", "jpg", 3000, 2000, 92),
    ("JPEG", "jpg", 3600, 2400, 93),
    ("PNG", "png", 800, 600, 90),
    ("PNG", "png", 1200, 900, 90),
    ("PNG", "png", 1600, 1200, 90),
    ("PNG", "png", 2000, 2000, 90),
    ("WEBP", "webp", 2000, 1500, 90),
    ("WEBP", "webp", 3000, 2000, 90),
    ("WEBP", "webp", 4000, 3000, 80),
    ("WEBP", "webp", 4000, 3000, 95),
]
SLACK = 64 * 1024


@dataclass
class Result:
    name: str
    images: int
    seconds: float
    bytes_read: list[int]
    sizes_ok: bool

    @property
    def per_second(self) -> float:
        return self.images / self.seconds

    @property
    def mean_bytes(self) -> float:
        return statistics.fmean(self.bytes_read)


def run(
    name: str,
    urls: list[str],
    expected: list[tuple[int, int]],
    work: Callable[[str], tuple[int, int, int]],
    concurrency: int,
) -> Result:
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        outcomes = list(pool.map(work, urls))
    seconds = time.perf_counter() - started
    sizes_ok = [(w, h) for w, h, _ in outcomes] == expected
    return Result(name, len(urls), seconds, [n for _, _, n in outcomes], sizes_ok)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="header-only analyses")
    parser.add_argument("--full-requests", type=int, default=96, help="full downloads")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args(argv)

    print("generating the catalog ...", file=sys.stderr)
    files = [make_image(fmt, w, h, "", 100, i, q) for i, (fmt, _, w, h, q) in enumerate(CATALOG)]
    headers = [header_bytes(data) for data in files]

    with ImageServer(latency_ms=args.latency_ms) as server:
        policy = UrlPolicy.build([server.authority], ["127.0.0.0/8"])
        analyzer = ImageAnalyzer(policy, FetchLimits(deadline=30.0, read_timeout=30.0))

        def url(index: int, **extra: object) -> str:
            _fmt, ext, w, h, q = CATALOG[index % len(CATALOG)]
            return server.url(
                f"/bench/{index}.{ext}",
                w=w,
                h=h,
                noise=100,
                seed=index % len(CATALOG),
                quality=q,
                **extra,
            )

        def header_only(target: str) -> tuple[int, int, int]:
            info = analyzer.analyze(target)
            return info.width, info.height, info.bytes_read

        def full_download(target: str) -> tuple[int, int, int]:  # the seed's way
            response = requests.get(target, timeout=30)
            response.raise_for_status()
            with Image.open(io.BytesIO(response.content)) as image:
                width, height = image.size
            return width, height, len(response.content)

        def expected(count: int) -> list[tuple[int, int]]:
            return [
                (CATALOG[i % len(CATALOG)][2], CATALOG[i % len(CATALOG)][3]) for i in range(count)
            ]

        for index in range(len(CATALOG)):  # warm the server's cache: generation is not timed
            header_only(url(index))

        results = [
            run(
                "header-only (Range honoured)",
                [url(i) for i in range(args.requests)],
                expected(args.requests),
                header_only,
                args.concurrency,
            ),
            run(
                "header-only (server ignores Range)",
                [url(i, ignore_range=1) for i in range(args.requests)],
                expected(args.requests),
                header_only,
                args.concurrency,
            ),
            run(
                "full download per image (seed)",
                [url(i) for i in range(args.full_requests)],
                expected(args.full_requests),
                full_download,
                args.concurrency,
            ),
        ]

    header_run, ignored_run, full_run = results
    bound_ok = all(
        read <= headers[i % len(CATALOG)] + SLACK
        for run_ in (header_run, ignored_run)
        for i, read in enumerate(run_.bytes_read)
    )
    sizes = [len(data) for data in files]
    print(
        f"files: {len(files)} ({min(sizes) / 1e6:.1f}-{max(sizes) / 1e6:.1f} MB, "
        f"mean {statistics.fmean(sizes) / 1e6:.1f} MB); latency {args.latency_ms} ms; "
        f"concurrency {args.concurrency}"
    )
    print()
    print("| way | images | images/s | mean bytes read | max bytes read | sizes right |")
    print("|---|---:|---:|---:|---:|---|")
    for r in results:
        print(
            f"| {r.name} | {r.images} | {r.per_second:.0f} | {r.mean_bytes:,.0f} | "
            f"{max(r.bytes_read):,} | {'yes' if r.sizes_ok else 'NO'} |"
        )
    print()
    print(
        f"bytes: full download reads {full_run.mean_bytes / header_run.mean_bytes:.0f}x more "
        f"per image than header-only (Range), "
        f"{full_run.mean_bytes / ignored_run.mean_bytes:.0f}x more than header-only "
        f"with Range ignored"
    )
    print(
        f"speed: header-only is {header_run.per_second / full_run.per_second:.1f}x the "
        f"images/s of full download"
    )
    print(f"every header-only read <= header + 64 KiB: {'yes' if bound_ok else 'NO'}")
    return 0 if bound_ok and all(r.sizes_ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
