"""``python -m tests.imageserver --port N [--latency-ms 50]``: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import sys

from tests.imageserver.server import ImageServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.imageserver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8900, help="port (0 = any free port)")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay before each answer")
    args = parser.parse_args(argv)
    server = ImageServer(host=args.host, port=args.port, latency_ms=args.latency_ms)
    print(f"image server on {server.base_url} (latency {args.latency_ms} ms)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
