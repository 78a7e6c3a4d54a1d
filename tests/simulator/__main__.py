"""``python -m tests.simulator --port 8000``: run the NASA API simulator by hand."""

from __future__ import annotations

import argparse
import contextlib
import sys

from tests.simulator.server import Faults, NasaSimulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay of every answer")
    parser.add_argument("--image-base-url", default=None, help="where image URLs point")
    parser.add_argument("--mars-scale", type=float, default=1.0, help="photos per sol multiplier")
    parser.add_argument("--error-rate", type=float, default=0.0, help="fraction of 5xx answers")
    parser.add_argument("--rate-limit", type=int, default=None, help="429 after N requests/key")
    parser.add_argument("--mars-page-size", type=int, default=None, help="page photo lists")
    parser.add_argument("--no-fixtures", action="store_true", help="generated data only")
    args = parser.parse_args(argv)
    simulator = NasaSimulator(
        host=args.host,
        port=args.port,
        fixtures=None if args.no_fixtures else "auto",
        faults=Faults(
            latency_ms=args.latency_ms, error_rate=args.error_rate, rate_limit=args.rate_limit
        ),
        mars_page_size=args.mars_page_size,
        mars_scale=args.mars_scale,
        image_base_url=args.image_base_url,
    )
    print(f"NASA API simulator on {simulator.base_url}", file=sys.stderr)
    print(f"  export NASA_API_URL={simulator.base_url}", file=sys.stderr)
    print(f"  export MARS_PHOTOS_API_URL={simulator.mars_url}", file=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        simulator.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
