"""A local image server that behaves like NASA's image hosts, and like the worst of them.

Any path ending in ``.jpg``/``.jpeg``/``.png``/``.gif``/``.webp`` serves a generated image
(size picked from the path unless ``w``/``h`` are given). Query options change how it is
served, so one server covers every test and the benchmark:

==================  =========================================================================
``w``, ``h``        pixel size; ``noise`` (0-100, texture = file weight), ``seed``, ``quality``
``variant``         JPEG ``baseline|progressive|exif|exif_icc``, PNG ``rgb|interlaced``,
                    WebP ``lossy|lossless|alpha``
``ignore_range=1``  answer 200 with the whole file, as if ``Range`` were not supported
``ctype=…``         send this Content-Type instead of the right one (lie about the type)
``no_length=1``     no Content-Length: the body ends when the connection closes
``stall=S``         send the headers and 64 bytes, then nothing for S seconds
``trickle_ms=N``    send the body one byte every N ms (each read succeeds; the total is slow)
``latency_ms=N``    wait N ms before answering (on top of the server's ``--latency-ms``)
==================  =========================================================================

Special paths: ``/healthz``; ``/page.html`` (an HTML page); ``/bomb.png?w=&h=`` (a tiny PNG
declaring a huge size); ``/endless.jpg?mb=60`` (a JPEG stream of ``mb`` MB whose size never
comes; ignores Range); ``/redirect?to=URL&status=302``; ``/chain/N/<path>`` (N redirects, then
``/<path>``); ``/status/CODE`` (that status, with a body that must never be echoed).
"""

from __future__ import annotations

import hashlib
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.imageserver import images

UPSTREAM_SECRET_BODY = "UPSTREAM-BODY-MUST-NOT-BE-ECHOED"
DISTINCT_PICTURES = 4
_RANGE_RE = re.compile(r"^bytes=(\d+)-(\d*)$")


_generating: dict[tuple[Any, ...], threading.Lock] = {}
_generating_guard = threading.Lock()


def _generate_once(*args: Any) -> bytes:
    """``images.make_image`` with one generation per picture however many ask at once."""
    with _generating_guard:
        lock = _generating.setdefault(args, threading.Lock())
    with lock:  # the others wait, then hit make_image's cache
        return images.make_image(*args)


@dataclass
class RequestRecord:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    status: int = 0
    body_bytes_sent: int = 0


@dataclass
class _ServerState:
    latency_ms: int = 0
    requests: list[RequestRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nasa-like-imageserver/1"
    state: _ServerState  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests assert on ``requests`` instead

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def do_GET(self) -> None:
        self._handle(head=False)

    # -- routing ------------------------------------------------------------------------

    def _handle(self, head: bool) -> None:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        record = RequestRecord(self.command, self.path, {k: v for k, v in self.headers.items()})
        with self.state.lock:
            self.state.requests.append(record)
        self._record = record
        latency = self.state.latency_ms + int(query.get("latency_ms", "0"))
        if latency > 0:
            time.sleep(latency / 1000)
        path = parts.path
        try:
            if path == "/healthz":
                self._send_simple(200, "text/plain", b"ok\n", head)
            elif path == "/page.html" or path.endswith(".html"):
                body = (
                    b"<!doctype html><html><head><title>APOD</title></head><body>hi</body></html>"
                )
                self._send_body(body, query.get("ctype", "text/html; charset=utf-8"), query, head)
            elif path == "/redirect":
                self._redirect(query.get("to", "/"), int(query.get("status", "302")))
            elif path.startswith("/chain/"):
                self._chain(path, parts.query)
            elif path.startswith("/status/"):
                code = int(path.rsplit("/", 1)[1])
                self._send_simple(code, "text/plain", UPSTREAM_SECRET_BODY.encode(), head)
            elif path == "/bomb.png":
                body = images.png_bomb(int(query.get("w", "50000")), int(query.get("h", "50000")))
                self._send_body(body, query.get("ctype", "image/png"), query, head)
            elif path == "/endless.jpg":
                self._endless(query, head)
            else:
                self._image(path, query, head)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            pass  # the client stopped reading: that is what a header-only reader does
        finally:
            self.close_connection = True

    def _image(self, path: str, query: dict[str, str], head: bool) -> None:
        extension = path.rsplit(".", 1)[-1].lower() if "." in path else ""
        fmt = images.EXTENSIONS.get(extension)
        if fmt is None:
            self._send_simple(404, "text/plain", b"not found\n", head)
            return
        digest = int.from_bytes(hashlib.sha256(path.encode()).digest()[:4], "big")
        default_w, default_h = images.NASA_SIZES[digest % len(images.NASA_SIZES)]
        # A handful of distinct pictures per size: generating one per path would make a demo
        # run of hundreds of Mars photos CPU-bound on the server side.
        default_seed = digest % DISTINCT_PICTURES
        try:
            body = _generate_once(
                fmt,
                int(query.get("w", default_w)),
                int(query.get("h", default_h)),
                query.get("variant", ""),
                int(query.get("noise", "20")),
                int(query.get("seed", str(default_seed))),
                int(query.get("quality", "90")),
            )
        except ValueError as exc:
            self._send_simple(400, "text/plain", str(exc).encode(), head)
            return
        self._send_body(body, query.get("ctype", images.CONTENT_TYPES[fmt]), query, head)

    def _redirect(self, location: str, status: int) -> None:
        self._record.status = status
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    def _chain(self, path: str, query: str) -> None:
        _, _, count_text, *rest = path.split("/")
        count = int(count_text)
        tail = "/" + "/".join(rest)
        location = tail if count <= 1 else f"/chain/{count - 1}{tail}"
        self._redirect(location + (f"?{query}" if query else ""), 302)

    def _endless(self, query: dict[str, str], head: bool) -> None:
        total = int(float(query.get("mb", "60")) * 1024 * 1024)
        self._record.status = 200
        self.send_response(200)
        self.send_header("Content-Type", query.get("ctype", "image/jpeg"))
        if query.get("no_length") != "1":
            self.send_header("Content-Length", str(total))
        self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        sent = 0
        segment = images.jpeg_comment_segment()
        prefix = images.endless_jpeg_prefix()
        self.wfile.write(prefix)
        sent += len(prefix)
        while sent < total and not self.state.stopping.is_set():
            piece = segment[: total - sent]
            self.wfile.write(piece)
            sent += len(piece)
            self._record.body_bytes_sent = sent

    # -- sending ------------------------------------------------------------------------

    def _send_simple(self, status: int, ctype: str, body: bytes, head: bool) -> None:
        self._record.status = status
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body)
            self._record.body_bytes_sent = len(body)

    def _send_body(self, body: bytes, ctype: str, query: dict[str, str], head: bool) -> None:
        start, end, status = 0, len(body) - 1, 200
        range_header = self.headers.get("Range")
        match = _RANGE_RE.match(range_header.strip()) if range_header else None
        if match and query.get("ignore_range") != "1" and body:
            start = int(match.group(1))
            end = min(int(match.group(2)) if match.group(2) else len(body) - 1, len(body) - 1)
            if start > end:
                self._send_simple(416, "text/plain", b"range not satisfiable\n", head)
                return
            status = 206
        payload = body[start : end + 1]
        self._record.status = status
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
        if query.get("no_length") != "1":
            self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        stall = float(query.get("stall", "0"))
        trickle = float(query.get("trickle_ms", "0")) / 1000
        if stall > 0:
            self._write(payload[:64])
            self.state.stopping.wait(min(stall, 120))
            return
        if trickle > 0:
            for index in range(len(payload)):
                if self.state.stopping.wait(trickle):
                    return
                self._write(payload[index : index + 1])
            return
        self._write(payload)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        for offset in range(0, len(view), 64 * 1024):
            piece = view[offset : offset + 64 * 1024]
            self.wfile.write(piece)
            self._record.body_bytes_sent += len(piece)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up or rejects our certificate is part of the tests


class ImageServer:
    """A threaded image server on ``127.0.0.1``; use as a context manager in tests.

    ``base_url`` names it ``http://localhost:PORT``: the analyzer refuses IP literals, so
    tests go through the name (allowed with ``ENRICHER_ALLOW_PRIVATE_NETWORKS``).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._state = _ServerState(latency_ms=latency_ms)
        handler = type("ImageHandler", (_Handler,), {"state": self._state})
        self._httpd = _QuietServer((host, port), handler)
        self._httpd.daemon_threads = True
        self.scheme = "http"
        if ssl_context is not None:  # HTTPS: the handshake happens in each handler thread
            self._httpd.socket = ssl_context.wrap_socket(
                self._httpd.socket, server_side=True, do_handshake_on_connect=False
            )
            self.scheme = "https"
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def authority(self) -> str:
        """``localhost:PORT``: what goes into ``ENRICHER_ALLOWED_HOSTS``."""
        return f"localhost:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.authority}"

    @property
    def requests(self) -> list[RequestRecord]:
        with self._state.lock:
            return list(self._state.requests)

    def url(self, path: str, **params: object) -> str:
        """``base_url + path`` with ``params`` as the query string."""
        query = "&".join(f"{key}={value}" for key, value in params.items())
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def start(self) -> ImageServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name=f"imageserver:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the ``python -m tests.imageserver`` way)."""
        try:
            self._httpd.serve_forever()
        finally:
            self._state.stopping.set()
            self._httpd.server_close()

    def stop(self) -> None:
        self._state.stopping.set()  # stalled and trickling responses give up at once
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ImageServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
