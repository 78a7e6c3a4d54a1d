"""A local HTTP server for source authors' tests: routes answer JSON, text or a handler.

It binds 127.0.0.1 on a free port and serves from a daemon thread; every request is kept in
:attr:`LocalHTTPServer.requests` so a test can assert on paths, query strings and headers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@dataclass
class Response:
    """What a route answers. ``json`` wins over ``body`` when both are set."""

    status: int = 200
    json: Any = None
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if self.json is not None:
            payload = json.dumps(self.json).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            payload = self.body.encode() if isinstance(self.body, str) else self.body
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return payload, headers


Handler = Callable[[Request], Response | Mapping[str, Any] | list[Any]]
"""A route handler: return a :class:`Response`, or a dict/list to answer as JSON with 200."""


class LocalHTTPServer:
    """``server.add_json("/items", {...})`` or ``server.add_handler("/items", func)``; then
    point the source at :attr:`url`. Unknown paths answer 404 with a JSON error."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._routes: dict[tuple[str, str], Handler] = {}
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self._httpd = ThreadingHTTPServer((host, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:41234``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_handler(self, path: str, handler: Handler, method: str = "GET") -> None:
        """Answer ``method path`` (any query string) with ``handler(request)``."""
        with self._lock:
            self._routes[(method.upper(), path)] = handler

    def add_json(
        self,
        path: str,
        payload: Any,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
    ) -> None:
        """Answer ``method path`` with ``payload`` as JSON, whatever the query string."""
        response = Response(status=status, json=payload, headers=dict(headers or {}))
        self.add_handler(path, lambda _request: response, method)

    def requests_to(self, path: str) -> list[Request]:
        """The requests received for ``path``, in order."""
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def start(self) -> LocalHTTPServer:
        # A short poll interval: stop() waits up to one interval for the serving loop.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="etlcore-test-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _dispatch(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
            handler = self._routes.get((request.method, request.path))
        if handler is None:
            return Response(404, json={"error": f"no route for {request.method} {request.path}"})
        try:
            answer = handler(request)
        except Exception as exc:  # a broken handler must show up in the test, not hang it
            return Response(500, json={"error": f"handler raised {type(exc).__name__}: {exc}"})
        return answer if isinstance(answer, Response) else Response(json=answer)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query={key: values[-1] for key, values in parse_qs(parts.query).items()},
                    headers=dict(self.headers.items()),
                    body=self.rfile.read(length) if length else b"",
                )
                response = server._dispatch(request)
                payload, headers = response.encode()
                self.send_response(response.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests assert on ``server.requests`` instead of stderr."""

        return _RequestHandler
