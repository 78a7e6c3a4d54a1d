"""The Flask service: ``POST /analyze-image``, ``POST /analyze-images``, ``GET /healthz``.

Every response is JSON. Errors are ``{"error": CODE, "message": TEXT}`` with a stable
:class:`~image_enricher.errors.ErrorCode` and its HTTP status; nothing an upstream server
sent is ever echoed back.
"""

from __future__ import annotations

import hmac
import logging
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, Response, jsonify, request
from PIL import Image
from werkzeug.exceptions import HTTPException

from image_enricher import __version__
from image_enricher.errors import HTTP_STATUS, AnalysisError, ErrorCode
from image_enricher.fetch import ImageAnalyzer
from image_enricher.settings import Settings

log = logging.getLogger("image_enricher.app")

_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
}


def error_response(code: ErrorCode, message: str) -> tuple[Response, int]:
    """The JSON body and status of an error."""
    return jsonify({"error": code.value, "message": message}), HTTP_STATUS[code]


def create_app(settings: Settings | None = None) -> Flask:
    """The app; ``settings`` default to ``Settings.from_env(os.environ)``.

    Raises :class:`~image_enricher.settings.SettingsError` when no API key is configured
    and ``ENRICHER_ALLOW_NO_AUTH`` is not set: the service refuses to start open.
    """
    settings = settings or Settings.from_env(os.environ)
    settings.check()
    # The service is its own process: make Pillow's bomb warning an error process-wide
    # (warnings.catch_warnings per request would not be thread-safe under gthread).
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    if settings.policy.allow_networks:
        log.warning(
            "ENRICHER_ALLOW_PRIVATE_NETWORKS exempts %s from the address check: tests only",
            ", ".join(str(n) for n in settings.policy.allow_networks),
        )
    if not settings.api_key:
        log.warning("ENRICHER_ALLOW_NO_AUTH=1: requests are not authenticated (development only)")

    app = Flask("image_enricher")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    analyzer = ImageAnalyzer(settings.policy, settings.limits)
    pool = ThreadPoolExecutor(max_workers=settings.batch_workers, thread_name_prefix="analyze")
    app.extensions["image_enricher"] = {"settings": settings, "analyzer": analyzer, "pool": pool}
    expected_key = settings.api_key.encode() if settings.api_key else None

    @app.before_request
    def authenticate() -> tuple[Response, int] | None:
        if request.path == "/healthz" or expected_key is None:
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        # compare_digest on bytes: constant time whatever the length or content of the token.
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode("utf-8", "surrogateescape"), expected_key
        ):
            response, status = error_response(
                ErrorCode.UNAUTHORIZED, "send 'Authorization: Bearer <ENRICHER_API_KEY>'"
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="image-enricher"'
            return response, status
        return None

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok", "version": __version__})

    @app.post("/analyze-image")
    def analyze_image() -> tuple[Response, int]:
        body = _json_object()
        url = body.get("image_url")
        if not isinstance(url, str):
            raise AnalysisError(ErrorCode.BAD_REQUEST, "'image_url' must be a string")
        info = analyzer.analyze(url)
        return jsonify(info.as_dict()), 200

    @app.post("/analyze-images")
    def analyze_images() -> tuple[Response, int]:
        body = _json_object()
        urls = body.get("image_urls")
        if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
            raise AnalysisError(ErrorCode.BAD_REQUEST, "'image_urls' must be a list of strings")
        if len(urls) > settings.max_batch:
            raise AnalysisError(
                ErrorCode.BAD_REQUEST, f"at most {settings.max_batch} URLs per request"
            )
        results = list(pool.map(_analyze_one, urls))
        return jsonify({"results": results}), 200

    def _analyze_one(url: str) -> dict[str, Any]:
        try:
            return {"image_url": url, **analyzer.analyze(url).as_dict()}
        except AnalysisError as exc:
            return {"image_url": url, "error": exc.code.value, "message": exc.message}
        except Exception:
            log.exception("analysis of one batch URL failed unexpectedly")
            return {"image_url": url, "error": "internal_error", "message": "internal error"}

    @app.errorhandler(AnalysisError)
    def analysis_failed(exc: AnalysisError) -> tuple[Response, int]:
        log.info("refused %s: %s", exc.code.value, exc.message)
        return error_response(exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        code = _HTTP_CODES.get(exc.code or 500, ErrorCode.BAD_REQUEST)
        if code is ErrorCode.PAYLOAD_TOO_LARGE:
            return error_response(
                code, f"request bodies are limited to {settings.max_request_bytes} bytes"
            )
        return error_response(code, exc.description or code.value)

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> tuple[Response, int]:
        log.exception("unexpected error")
        return error_response(ErrorCode.INTERNAL_ERROR, "internal error")

    return app


def _json_object() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise AnalysisError(ErrorCode.BAD_REQUEST, "the body must be a JSON object")
    return body
