"""The stable error codes of the analyzer, shared by the service, its client and the plugin.

A code is part of the API: clients branch on it and rows store it in ``enrich_error``.
Messages are ours alone: an upstream body or error text is never passed on.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Why an image could not be analysed (or a request was refused)."""

    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    INVALID_URL = "invalid_url"
    HOST_NOT_ALLOWED = "host_not_allowed"
    ADDRESS_NOT_ALLOWED = "address_not_allowed"
    DNS_ERROR = "dns_error"
    CONNECT_ERROR = "connect_error"
    TLS_ERROR = "tls_error"
    TIMEOUT = "timeout"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    UPSTREAM_STATUS = "upstream_status"
    NOT_AN_IMAGE = "not_an_image"
    TOO_LARGE = "too_large"
    TOO_MANY_PIXELS = "too_many_pixels"
    SERVICE_UNAVAILABLE = "service_unavailable"
    INTERNAL_ERROR = "internal_error"


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.INVALID_URL: 400,
    ErrorCode.HOST_NOT_ALLOWED: 403,
    ErrorCode.ADDRESS_NOT_ALLOWED: 403,
    ErrorCode.DNS_ERROR: 502,
    ErrorCode.CONNECT_ERROR: 502,
    ErrorCode.TLS_ERROR: 502,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.TOO_MANY_REDIRECTS: 502,
    ErrorCode.UPSTREAM_STATUS: 502,
    ErrorCode.NOT_AN_IMAGE: 422,
    ErrorCode.TOO_LARGE: 422,
    ErrorCode.TOO_MANY_PIXELS: 422,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_ERROR: 500,
}


class AnalysisError(Exception):
    """An image was refused or could not be analysed; ``code`` says why, stably."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]
