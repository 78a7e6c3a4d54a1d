"""The NASA API simulator: real paths, real error bodies and rules, rate limits and faults."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.simulator import generators as gen
from tests.simulator.dataset import NasaDataset, shared_fixtures_dir

GATEWAY_ERRORS = {
    "API_KEY_MISSING": "No api_key was supplied. Get one at https://api.nasa.gov:443",
    "API_KEY_INVALID": "An invalid api_key was supplied. Get one at https://api.nasa.gov:443",
    "OVER_RATE_LIMIT": (
        "You have exceeded your rate limit. Try again later or contact us at "
        "https://api.nasa.gov:443/contact/ for assistance"
    ),
}
FEED_LIMIT_MESSAGE = (
    "Date Format Exception - Expected format (yyyy-mm-dd) - The Feed date limit is only 7 Days"
)


@dataclass(frozen=True)
class LoggedRequest:
    """One request the simulator answered (the key itself is never logged)."""

    path: str
    params: dict[str, str]
    status: int
    key_in: str | None  # "header", "query" or None
    fault: str | None = None


@dataclass
class Faults:
    """Injected trouble. Rates are fractions of requests (seeded, so runs repeat)."""

    error_rate: float = 0.0  # 5xx answers
    stall_rate: float = 0.0  # answers that hang ``stall_seconds`` first
    stall_seconds: float = 2.0
    truncate_rate: float = 0.0  # 200 answers whose JSON is cut short
    latency_ms: float = 0.0  # added to every answer
    rate_limit: int | None = None  # per key; 429 OVER_RATE_LIMIT once exceeded
    storm: int = 0  # the next N requests get 429, whatever the key's budget
    storm_after: int | None = None  # every request after the first N gets 429 (until reset)
    fail_next: list[int] = field(default_factory=list)  # statuses for the next requests
    seed: int = 1234


def _parse_day(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


class _Answer(Exception):
    """Raised inside a route to answer right away with an error body."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body


class NasaSimulator:
    """A local NASA API. ``with NasaSimulator() as sim: sim.base_url, sim.requests``.

    ``fixtures``: a folder like ../shared/fixtures/nasa, ``"auto"`` (that folder when present)
    or None (generated data only). ``valid_keys``: None accepts any non-empty key except
    ``INVALID``. ``mars_page_size``: answer photo lists in pages like a paging mirror.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        fixtures: Path | str | None = "auto",
        today: dt.date | None = None,
        faults: Faults | None = None,
        valid_keys: set[str] | None = None,
        mars_requires_key: bool = False,
        mars_page_size: int | None = None,
        mars_scale: float = 1.0,
        image_base_url: str | None = None,
        rate_limit_header: int = 1000,
    ) -> None:
        folder = shared_fixtures_dir() if fixtures == "auto" else fixtures
        self.dataset = NasaDataset(
            fixtures=Path(folder) if folder else None,
            today=today,
            mars_scale=mars_scale,
            image_base_url=image_base_url,
        )
        self.faults = faults or Faults()
        self.valid_keys = valid_keys
        self.mars_requires_key = mars_requires_key
        self.mars_page_size = mars_page_size
        self.rate_limit_header = rate_limit_header
        self.requests: list[LoggedRequest] = []
        self._used: dict[str, int] = {}
        self._handled = 0
        self._lock = threading.Lock()
        self._random = random.Random(self.faults.seed)
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def mars_url(self) -> str:
        """The Mars Rover Photos root, as ``MARS_PHOTOS_API_URL`` expects it."""
        return f"{self.base_url}/mars-photos/api/v1"

    def start(self) -> NasaSimulator:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> NasaSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    # ---------------------------------------------------------------- request log

    def count(self, path_prefix: str = "", *, status: int | None = None) -> int:
        """Requests whose path starts with ``path_prefix`` (and had ``status``)."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if r.path.startswith(path_prefix) and (status is None or r.status == status)
            )

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # ---------------------------------------------------------------------- answers

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                simulator._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        return Handler

    def _log(
        self,
        path: str,
        params: dict[str, str],
        status: int,
        key_in: str | None,
        fault: str | None = None,
    ) -> None:
        with self._lock:
            self.requests.append(LoggedRequest(path, params, status, key_in, fault))

    def _draw_fault(self) -> str | None:
        faults = self.faults
        with self._lock:
            self._handled += 1
            if faults.storm_after is not None and self._handled > faults.storm_after:
                return "storm"
            if faults.fail_next:
                return f"status:{faults.fail_next.pop(0)}"
            if faults.storm > 0:
                faults.storm -= 1
                return "storm"
            roll = self._random.random()
        if roll < faults.error_rate:
            return "5xx"
        roll -= faults.error_rate
        if roll < faults.stall_rate:
            return "stall"
        roll -= faults.stall_rate
        if roll < faults.truncate_rate:
            return "truncate"
        return None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        key = handler.headers.get("X-Api-Key")
        key_in = "header" if key else None
        if not key and "api_key" in params:
            key, key_in = params["api_key"], "query"
        logged_params = {k: v for k, v in params.items() if k != "api_key"}
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)
        fault = self._draw_fault()
        status, body, headers = 200, None, {}
        try:
            if fault == "stall":
                time.sleep(self.faults.stall_seconds)
            is_mars = url.path.startswith("/mars-photos/")
            if not is_mars or self.mars_requires_key:
                headers = self._check_key(key)
            if fault == "storm":
                raise _Answer(
                    429,
                    {
                        "error": {
                            "code": "OVER_RATE_LIMIT",
                            "message": GATEWAY_ERRORS["OVER_RATE_LIMIT"],
                        }
                    },
                )
            if fault == "5xx" or (fault or "").startswith("status:"):
                code = (
                    int(fault.split(":")[1])
                    if fault.startswith("status:")
                    else self._random.choice((500, 502, 503, 504))
                )
                raise _Answer(
                    code, f"<html><body><h1>{code} Service Unavailable</h1></body></html>"
                )
            body = self._route(url.path, logged_params, key or "DEMO_KEY")
        except _Answer as answer:
            status, body = answer.status, answer.body
        text = body if isinstance(body, str) else json.dumps(body)
        payload = text.encode("utf-8")
        if fault == "truncate" and status == 200:
            payload = payload[: max(1, len(payload) // 2)]
        self._log(url.path, logged_params, status, key_in, fault)
        content_type = "application/json" if not isinstance(body, str) else "text/html"
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up (e.g. timed out on a stall)

    def _check_key(self, key: str | None) -> dict[str, str]:
        if not key:
            raise _Answer(
                403,
                {
                    "error": {
                        "code": "API_KEY_MISSING",
                        "message": GATEWAY_ERRORS["API_KEY_MISSING"],
                    }
                },
            )
        invalid = key == "INVALID" if self.valid_keys is None else key not in self.valid_keys
        if invalid:
            raise _Answer(
                403,
                {
                    "error": {
                        "code": "API_KEY_INVALID",
                        "message": GATEWAY_ERRORS["API_KEY_INVALID"],
                    }
                },
            )
        limit = self.faults.rate_limit or self.rate_limit_header
        with self._lock:
            used = self._used[key] = self._used.get(key, 0) + 1
        if self.faults.rate_limit is not None and used > self.faults.rate_limit:
            raise _Answer(
                429,
                {
                    "error": {
                        "code": "OVER_RATE_LIMIT",
                        "message": GATEWAY_ERRORS["OVER_RATE_LIMIT"],
                    }
                },
            )
        return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(0, limit - used))}

    def _route(self, path: str, params: dict[str, str], key: str) -> Any:
        if path in ("/planetary/apod", "/planetary/apod/"):
            return self._apod(params)
        if path == "/neo/rest/v1/feed":
            return self._feed(params, key)
        match = re.fullmatch(r"/neo/rest/v1/neo/(\w+)", path)
        if match:
            obj = self.dataset.neo(match.group(1), base_url=self._public_url, echo_key=key)
            if obj is None:
                raise _Answer(
                    404,
                    {
                        "code": 404,
                        "http_error": "NOT_FOUND",
                        "error_message": "No message available",
                        "request": f"http://www.neowsapp.com/rest/v1/neo/{match.group(1)}",
                    },
                )
            return obj
        match = re.fullmatch(
            r"/mars-photos/api/v1/(rovers|manifests)/(\w+)(/photos|/latest_photos)?/?", path
        )
        if match:
            return self._mars(match.group(1), match.group(2).lower(), match.group(3), params)
        raise _Answer(
            404,
            {
                "code": 404,
                "http_error": "NOT_FOUND",
                "error_message": "No message available",
                "request": f"http://www.neowsapp.com/rest/v1{path}",
            },
        )

    # NeoWs writes its links with its public name whatever host the request came to.
    _public_url = "http://api.nasa.gov"

    # APOD: nasa/apod-api application.py rules.
    def _apod(self, params: dict[str, str]) -> Any:
        today = self.dataset.today
        thumbs = params.get("thumbs", "false").lower() == "true"

        def apod_error(message: str, status: int = 400) -> _Answer:
            return _Answer(status, {"code": status, "msg": message, "service_version": "v1"})

        def day_of(name: str) -> dt.date:
            try:
                value = _parse_day(params[name])
            except ValueError:
                raise apod_error(
                    f"time data '{params[name]}' does not match format '%Y-%m-%d'"
                ) from None
            if not gen.FIRST_APOD <= value <= today:
                raise apod_error(f"Date must be between Jun 16, 1995 and {today:%b %d, %Y}.")
            return value

        allowed = {"date", "start_date", "end_date", "count", "thumbs", "concept_tags", "hd"}
        if set(params) - allowed:
            raise apod_error(
                "Bad Request: invalid field combination passed. "
                f"Allowed request fields for apod method are {sorted(allowed)}"
            )
        if "count" in params:
            if {"date", "start_date", "end_date"} & set(params):
                raise apod_error("Bad Request: invalid field combination passed.")
            try:
                count = int(params["count"])
            except ValueError:
                raise apod_error("Count must be positive and cannot exceed 100") from None
            if not 0 < count <= 100:
                raise apod_error("Count must be positive and cannot exceed 100")
            rng = random.Random(self._random.random())
            entries = []
            while len(entries) < count:
                day = gen.FIRST_APOD + dt.timedelta(
                    days=rng.randrange((today - gen.FIRST_APOD).days + 1)
                )
                entry = self.dataset.apod(day, thumbs=thumbs)
                if entry is not None:
                    entries.append(entry)
            return entries
        if "date" in params and ("start_date" in params or "end_date" in params):
            raise apod_error("Bad Request: invalid field combination passed.")
        if "end_date" in params and "start_date" not in params:
            raise apod_error("Bad Request: invalid field combination passed.")
        if "start_date" in params:
            start = day_of("start_date")
            end = day_of("end_date") if "end_date" in params else today
            if start > end:
                raise apod_error("start_date cannot be after end_date")
            entries = []
            day = start
            while day <= end:  # days without an entry are simply absent from a range
                entry = self.dataset.apod(day, thumbs=thumbs)
                if entry is not None:
                    entries.append(entry)
                day += dt.timedelta(days=1)
            return entries
        day = day_of("date") if "date" in params else today
        entry = self.dataset.apod(day, thumbs=thumbs)
        if entry is None:
            raise apod_error(f"No data available for date: {day.isoformat()}", 404)
        return entry

    def _feed(self, params: dict[str, str], key: str) -> Any:
        def feed_error(message: str) -> _Answer:
            return _Answer(
                400,
                {
                    "code": 400,
                    "http_error": "BAD_REQUEST",
                    "error_message": message,
                    "request": "http://www.neowsapp.com/rest/v1/feed",
                },
            )

        try:
            start = (
                _parse_day(params["start_date"]) if "start_date" in params else self.dataset.today
            )
            end = (
                _parse_day(params["end_date"])
                if "end_date" in params
                else start + dt.timedelta(days=7)
            )
        except ValueError:
            raise feed_error("Date Format Exception - Expected format (yyyy-mm-dd)") from None
        if end < start:
            raise feed_error(
                "Date Format Exception - Expected format (yyyy-mm-dd) - "
                "The end date must be after the start date"
            )
        if (end - start).days > 7:
            raise feed_error(FEED_LIMIT_MESSAGE)
        days: dict[str, list[Any]] = {}
        day = start
        while day <= end:
            days[day.isoformat()] = self.dataset.feed_day(
                day, base_url=self._public_url, echo_key=key
            )
            day += dt.timedelta(days=1)
        # The real feed lists its days in no particular order.
        order = list(days)
        random.Random(str(start)).shuffle(order)
        legacy = start < gen.NEOWS_CURRENT_SHAPE_FROM
        return {
            "links": gen.feed_links(
                start, end, base_url=self._public_url, echo_key=key, legacy=legacy
            ),
            "element_count": sum(len(v) for v in days.values()),
            "near_earth_objects": {d: days[d] for d in order},
        }

    def _mars(self, kind: str, rover: str, tail: str | None, params: dict[str, str]) -> Any:
        if rover not in gen.ROVERS:
            raise _Answer(400, {"errors": "Invalid Rover Name"})
        if kind == "manifests":
            return self.dataset.manifest(rover)
        if tail == "/latest_photos":
            rows = self.dataset.manifest_rows(rover)
            return {"latest_photos": self.dataset.photos(rover, rows[-1]["sol"]) if rows else []}
        if tail != "/photos":
            raise _Answer(404, {"errors": "Not found"})
        if "sol" in params:
            try:
                sol = int(params["sol"])
            except ValueError:
                raise _Answer(400, {"errors": "Invalid sol"}) from None
            photos = self.dataset.photos(rover, sol)
        elif "earth_date" in params:
            day = _parse_day(params["earth_date"])
            photos = [
                p
                for r in self.dataset.manifest_rows(rover)
                if r["earth_date"] == day.isoformat()
                for p in self.dataset.photos(rover, r["sol"])
            ]
        else:
            raise _Answer(400, {"errors": "Invalid sol or earth_date"})
        if "camera" in params:
            photos = [p for p in photos if p["camera"]["name"].lower() == params["camera"].lower()]
        page_size = self.mars_page_size
        if "page" in params or page_size:
            page = int(params.get("page", "1"))
            size = page_size or 25
            photos = photos[(page - 1) * size : page * size]
        return {"photos": photos}
