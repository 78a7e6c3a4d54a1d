"""Logging for the CLI: readable lines on a terminal, one JSON object per line elsewhere
(CloudWatch, Glue). Every line passes through the secret mask."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, Literal

from etlcore.secrets import mask_known_secrets

LogFormat = Literal["text", "json"]

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", ...extra}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return mask_known_secrets(json.dumps(entry, default=str, ensure_ascii=False))


class MaskingFormatter(logging.Formatter):
    """A plain formatter whose output never shows a resolved secret."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_known_secrets(super().format(record))


def default_format() -> LogFormat:
    return "text" if sys.stderr.isatty() else "json"


def configure_logging(log_format: LogFormat, *, verbose: bool = False) -> logging.Handler:
    """Route every log record to stderr in ``log_format``; returns the handler installed."""
    root = logging.getLogger()
    for installed in list(root.handlers):
        if getattr(installed, "_etlcore", False):
            root.removeHandler(installed)
    handler: logging.Handler
    if log_format == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    elif sys.stderr.isatty():
        from rich.console import Console
        from rich.logging import RichHandler

        handler = RichHandler(console=Console(stderr=True), show_path=False, markup=False)
        handler.setFormatter(MaskingFormatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    setattr(handler, "_etlcore", True)  # noqa: B010 -- marks our own handler for reconfiguring
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # urllib3 warns on each retry; etlcore.http already logs those with the URL redacted.
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    for noisy in ("botocore", "boto3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler
