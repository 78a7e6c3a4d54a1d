"""The SSRF-safe fetch of an image header: one function the service and the plugin share.

Per hop: check the URL (:mod:`image_enricher.policy`), resolve the name once, validate
every address, then connect to a validated address with urllib3 while TLS still checks the
hostname (``server_hostname`` + ``assert_hostname``). Redirects are followed by hand, each
one checked like the first. A ``Range`` request asks for the header bytes only; whatever the
server sends, reading stops once the size is known or a cap is reached, and a watchdog shuts
the socket at the total deadline (urllib3's timeouts are per socket operation).
"""

from __future__ import annotations

import contextlib
import functools
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from image_enricher import __version__
from image_enricher.errors import AnalysisError, ErrorCode
from image_enricher.headers import HeaderParser
from image_enricher.policy import IPAddress, Target, UrlPolicy

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
IMAGE_CONTENT_TYPES = frozenset(
    {"image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/gif", "image/webp"}
)
_CONTENT_RANGE_RE = re.compile(r"^bytes\s+(\d+)-(\d+)/(\d+|\*)$")
USER_AGENT = f"image-enricher/{__version__} (+header-only size reader)"


@dataclass(frozen=True)
class FetchLimits:
    """Caps and timeouts of one analysis. Defaults follow go-camo, imgproxy and thumbor."""

    max_header_bytes: int = 512 * 1024
    """Most body bytes read per image; a size still unknown by then is ``too_large``."""
    max_file_bytes: int = 50 * 1024 * 1024
    """A declared Content-Length or Content-Range total above this is ``too_large``."""
    max_pixels: int = 75_000_000
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    deadline: float = 10.0
    """Total seconds for one image: every hop, connect, wait and read included."""
    max_redirects: int = 3
    chunk_size: int = 16 * 1024


@dataclass(frozen=True)
class ImageInfo:
    """The result of one analysis."""

    width: int
    height: int
    format: str
    bytes_read: int

    def as_dict(self) -> dict[str, int | str]:
        return {
            "width": self.width,
            "height": self.height,
            "format": self.format,
            "bytes_read": self.bytes_read,
        }


class _Watchdog:
    """Shuts down every socket it was given once the deadline passes.

    urllib3 timeouts bound one ``recv``; a server dripping a byte per second would
    otherwise keep a worker for ever. Shutting the socket makes the blocked read return.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self._connections: list[HTTPConnection] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connections.append(connection)
            fired = self.fired
        if fired:
            _shutdown(connection)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            connections = list(self._connections)
        for connection in connections:
            _shutdown(connection)

    def cancel(self) -> None:
        self._timer.cancel()


def _shutdown(connection: HTTPConnection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _WatchedHTTPConnection(HTTPConnection):
    watchdog: _Watchdog | None = None

    def connect(self) -> None:
        super().connect()
        if self.watchdog is not None:
            self.watchdog.watch(self)


class _WatchedHTTPSConnection(HTTPSConnection):
    watchdog: _Watchdog | None = None

    def connect(self) -> None:
        super().connect()
        if self.watchdog is not None:
            self.watchdog.watch(self)


Connector = Callable[[Target, IPAddress, urllib3.Timeout, _Watchdog], urllib3.HTTPConnectionPool]
"""``connector(target, address, timeout, watchdog)``: a pool dialling ``address`` for ``target``."""


def connect_to_address(
    target: Target,
    address: IPAddress,
    timeout: urllib3.Timeout,
    watchdog: _Watchdog,
    *,
    ca_certs: str | None = None,
) -> urllib3.HTTPConnectionPool:
    """A one-connection pool to the validated ``address``; TLS still checks ``target.host``.

    ``ca_certs`` is a PEM bundle to trust instead of the system's certificates.
    """
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            str(address),
            target.port,
            timeout=timeout,
            maxsize=1,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_certs,
            server_hostname=target.host,
            assert_hostname=target.host,
        )
        connection_cls: type[HTTPConnection] = type(
            "WatchedHTTPSConnection", (_WatchedHTTPSConnection,), {"watchdog": watchdog}
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            str(address), target.port, timeout=timeout, maxsize=1, retries=False
        )
        connection_cls = type(
            "WatchedHTTPConnection", (_WatchedHTTPConnection,), {"watchdog": watchdog}
        )
    pool.ConnectionCls = connection_cls
    return pool


class ImageAnalyzer:
    """Fetches the start of an image through :class:`UrlPolicy` and reads its size.

    Thread-safe: nothing is shared between calls but the (immutable) policy and limits.
    ``connector`` exists so tests can observe and redirect the dial (DNS rebinding tests
    map public-looking answers to the local image server); production uses the default.
    """

    def __init__(
        self,
        policy: UrlPolicy,
        limits: FetchLimits | None = None,
        connector: Connector | None = None,
        ca_certs: str | None = None,
    ) -> None:
        self.policy = policy
        self.limits = limits or FetchLimits()
        self.connector = connector or functools.partial(connect_to_address, ca_certs=ca_certs)

    def analyze(self, url: str) -> ImageInfo:
        """Width, height, format and bytes read, or :class:`AnalysisError` with a stable code."""
        watchdog = _Watchdog(time.monotonic() + self.limits.deadline)
        try:
            return self._analyze(url, watchdog)
        except AnalysisError:
            if watchdog.fired:
                raise self._timeout() from None
            raise
        finally:
            watchdog.cancel()

    def _analyze(self, url: str, watchdog: _Watchdog) -> ImageInfo:
        current = url
        for hop in range(self.limits.max_redirects + 1):
            target = self.policy.check_url(current)
            addresses = self.policy.resolve(target)
            response, pool = self._request(target, addresses, watchdog)
            try:
                if response.status in REDIRECT_STATUSES:
                    location = response.headers.get("Location")
                    if not location:
                        raise AnalysisError(
                            ErrorCode.UPSTREAM_STATUS,
                            f"upstream answered {response.status} without a Location",
                        )
                    if hop == self.limits.max_redirects:
                        break
                    current = urljoin(target.url, location.strip())
                    continue
                return self._read_header(response, watchdog)
            finally:
                response.close()
                pool.close()
        raise AnalysisError(
            ErrorCode.TOO_MANY_REDIRECTS,
            f"more than {self.limits.max_redirects} redirects",
        )

    def _timeout(self, read: bool = False) -> AnalysisError:
        if read:
            return AnalysisError(
                ErrorCode.TIMEOUT, f"no data for {self.limits.read_timeout:g} s (read timeout)"
            )
        return AnalysisError(
            ErrorCode.TIMEOUT, f"no image size within the {self.limits.deadline:g} s deadline"
        )

    def _request(
        self, target: Target, addresses: list[IPAddress], watchdog: _Watchdog
    ) -> tuple[urllib3.BaseHTTPResponse, urllib3.HTTPConnectionPool]:
        last_error: AnalysisError | None = None
        for address in addresses:
            remaining = watchdog.remaining()
            if remaining <= 0:
                raise self._timeout()
            timeout = urllib3.Timeout(
                connect=min(self.limits.connect_timeout, remaining),
                read=min(self.limits.read_timeout, remaining),
            )
            pool = self.connector(target, address, timeout, watchdog)
            try:
                response = pool.urlopen(
                    "GET",
                    target.request_target,
                    headers={
                        "Host": target.host_header,
                        "Range": f"bytes=0-{self.limits.max_header_bytes - 1}",
                        "Accept": "image/jpeg, image/png, image/gif, image/webp",
                        "Accept-Encoding": "identity",
                        "User-Agent": USER_AGENT,
                    },
                    redirect=False,
                    retries=False,
                    preload_content=False,
                    decode_content=False,
                    assert_same_host=False,
                )
                return response, pool
            except (NewConnectionError, ConnectTimeoutError) as exc:
                pool.close()
                if watchdog.fired:
                    raise self._timeout() from None
                # NewConnectionError subclasses ConnectTimeoutError: refused is not slow.
                timed_out = not isinstance(exc, NewConnectionError)
                last_error = AnalysisError(
                    ErrorCode.TIMEOUT if timed_out else ErrorCode.CONNECT_ERROR,
                    f"cannot connect to {target.host}:{target.port}",
                )
                continue  # the next validated address, like socket.create_connection
            except SSLError:
                pool.close()
                raise AnalysisError(
                    ErrorCode.TLS_ERROR, f"TLS with {target.host} failed (certificate or name)"
                ) from None
            except ReadTimeoutError:
                pool.close()
                raise self._timeout(read=watchdog.remaining() > 0) from None
            except (HTTPError, ssl.SSLError, OSError) as exc:
                pool.close()
                if watchdog.fired:
                    raise self._timeout() from None
                raise AnalysisError(
                    ErrorCode.CONNECT_ERROR,
                    f"{target.host} broke the connection ({type(exc).__name__})",
                ) from None
        assert last_error is not None
        raise last_error

    def _read_header(self, response: urllib3.BaseHTTPResponse, watchdog: _Watchdog) -> ImageInfo:
        limits = self.limits
        if response.status not in (200, 206):
            raise AnalysisError(ErrorCode.UPSTREAM_STATUS, f"upstream answered {response.status}")
        content_type = (response.headers.get("Content-Type") or "").split(";", 1)[0]
        if content_type.strip().lower() not in IMAGE_CONTENT_TYPES:
            raise AnalysisError(
                ErrorCode.NOT_AN_IMAGE,
                f"content type {content_type.strip()[:60] or '(none)'!r} is not an image type",
            )
        self._check_declared_size(response)
        parser = HeaderParser(max_pixels=limits.max_pixels)
        bytes_read = 0
        while True:
            if watchdog.remaining() <= 0:
                raise self._timeout()
            want = min(limits.chunk_size, limits.max_header_bytes - bytes_read)
            try:
                chunk = response.read1(want) if want > 0 else b""
            except ReadTimeoutError:
                raise self._timeout(read=watchdog.remaining() > 0) from None
            except (HTTPError, ProtocolError, OSError) as exc:
                if watchdog.fired:
                    raise self._timeout() from None
                raise AnalysisError(
                    ErrorCode.CONNECT_ERROR,
                    f"the connection broke while reading ({type(exc).__name__})",
                ) from None
            if not chunk:
                if want <= 0:
                    raise AnalysisError(
                        ErrorCode.TOO_LARGE,
                        f"no image size within the first {limits.max_header_bytes} bytes",
                    )
                if watchdog.fired:
                    raise self._timeout()
                final = parser.finish()
                return ImageInfo(final.width, final.height, final.format, bytes_read)
            bytes_read += len(chunk)
            size = parser.feed(chunk)
            if size is not None:
                return ImageInfo(size.width, size.height, size.format, bytes_read)

    def _check_declared_size(self, response: urllib3.BaseHTTPResponse) -> None:
        declared: int | None = None
        if response.status == 206:
            match = _CONTENT_RANGE_RE.match((response.headers.get("Content-Range") or "").strip())
            if not match or int(match.group(1)) != 0:
                raise AnalysisError(
                    ErrorCode.UPSTREAM_STATUS, "upstream sent a range that does not start at 0"
                )
            if match.group(3) != "*":
                declared = int(match.group(3))
        else:
            length = response.headers.get("Content-Length")
            if length is not None:
                try:
                    declared = int(length)
                except ValueError:
                    raise AnalysisError(
                        ErrorCode.UPSTREAM_STATUS, "upstream sent an invalid Content-Length"
                    ) from None
        if declared is not None and declared > self.limits.max_file_bytes:
            raise AnalysisError(
                ErrorCode.TOO_LARGE,
                f"the file is {declared} bytes, over the cap of {self.limits.max_file_bytes}",
            )
