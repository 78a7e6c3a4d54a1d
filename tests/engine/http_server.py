"""A scriptable HTTP server on 127.0.0.1 for testing HTTP clients.

Script what each path answers, in order, then look at what the server saw::

    with ScriptedServer() as server:
        server.respond("/feed", Reply(status=503), Reply(json={"ok": True}))
        server.always("/ping", Reply(body="pong"))
        server.handle("/echo", lambda seen: Reply(json=seen.query))
        ...  # call server.url("/feed")
        assert server.count("/feed") == 2

A path answers from its queue first, then its handler, then its ``always`` reply; a path
with nothing left answers 599 so a test that expects fewer requests fails loudly.
``Reply`` can also misbehave: a body cut short of its Content-Length (``truncate_at``), a
body that trickles in (``trickle``), a stall before the headers (``delay``).
"""

from __future__ import annotations

import json as jsonlib
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    """One scripted answer.

    ``json`` (any JSON value) or ``body`` (str or bytes) is the payload. ``truncate_at`` sends
    only that many bytes of it (Content-Length still announces the whole body) and closes the
    connection. ``trickle`` sends the body one byte every that many seconds. ``delay`` waits
    before sending anything.
    """

    status: int = 200
    json: Any = None
    body: str | bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    truncate_at: int | None = None
    trickle: float | None = None
    delay: float = 0.0

    def payload(self) -> bytes:
        if self.json is not None:
            return jsonlib.dumps(self.json).encode()
        return self.body.encode() if isinstance(self.body, str) else self.body


@dataclass(frozen=True)
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw_path: str
    at: float  # time.monotonic() when it arrived


Handler = Callable[[Seen], Reply]


class ScriptedServer:
    """A threaded HTTP/1.1 server (keep-alive) on an ephemeral 127.0.0.1 port."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Reply]] = defaultdict(deque)
        self._handlers: dict[str, Handler] = {}
        self._always: dict[str, Reply] = {}
        self._seen: list[Seen] = []
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- scripting --------------------------------------------------------------------------

    def respond(self, path: str, *replies: Reply) -> None:
        """Queue replies for ``path``, answered once each, in order."""
        with self._lock:
            self._queues[path].extend(replies)

    def always(self, path: str, reply: Reply) -> None:
        """Answer ``path`` with ``reply`` whenever its queue is empty."""
        with self._lock:
            self._always[path] = reply

    def handle(self, path: str, handler: Handler) -> None:
        """Answer ``path`` with ``handler(seen)`` whenever its queue is empty.

        Requests are served on several threads: a handler with state must lock it.
        """
        with self._lock:
            self._handlers[path] = handler

    # -- inspection -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    @property
    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def count(self, path: str | None = None) -> int:
        """Requests received (for ``path``, or in total)."""
        return sum(1 for s in self.seen if path is None or s.path == path)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # ends trickles and stalls
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_reply(self, seen: Seen) -> Reply:
        with self._lock:
            self._seen.append(seen)
            queue = self._queues.get(seen.path)
            if queue:
                return queue.popleft()
            handler = self._handlers.get(seen.path)
            always = self._always.get(seen.path)
        if handler is not None:
            return handler(seen)
        if always is not None:
            return always
        return Reply(status=599, body=f"nothing scripted for {seen.path}")


def _make_handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            seen = Seen(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                raw_path=self.path,
                at=time.monotonic(),
            )
            reply = server._next_reply(seen)
            try:
                self._send(reply)
            except OSError:  # the client hung up (deadline, timeout): nothing to do
                self.close_connection = True

        do_HEAD = do_GET

        def _send(self, reply: Reply) -> None:
            if reply.delay and server.stopping.wait(reply.delay):
                return
            payload = reply.payload()
            self.send_response(reply.status)
            kind = "application/json" if reply.json is not None else "text/plain"
            headers = {"Content-Type": kind}
            headers.update(reply.headers)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command == "HEAD":
                return
            if reply.truncate_at is not None:
                self.wfile.write(payload[: reply.truncate_at])
                self.wfile.flush()
                self.close_connection = True
                return
            if reply.trickle is not None:
                for i in range(len(payload)):
                    self.wfile.write(payload[i : i + 1])
                    self.wfile.flush()
                    if server.stopping.wait(reply.trickle):
                        self.close_connection = True
                        return
                return
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return _Handler
