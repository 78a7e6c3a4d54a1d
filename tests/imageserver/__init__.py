"""A local image server for tests, the benchmark and the offline demo.

``python -m tests.imageserver --port 8900 --latency-ms 50`` serves it from the repo root;
in tests, ``with ImageServer() as server: server.url("/apod/image/x.jpg", w=640, h=480)``.
"""

from tests.imageserver.server import UPSTREAM_SECRET_BODY, ImageServer, RequestRecord

__all__ = ["UPSTREAM_SECRET_BODY", "ImageServer", "RequestRecord"]
