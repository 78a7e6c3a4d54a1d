"""``image-enricher``: ``serve`` runs the development server, ``analyze URL`` one analysis.

Production runs gunicorn (see the Dockerfile); ``serve`` is Werkzeug's threaded server
for a laptop. Both read the same ``ENRICHER_*`` settings as the service.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from image_enricher import __version__
from image_enricher.errors import AnalysisError
from image_enricher.settings import Settings, SettingsError


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``image-enricher`` script; returns the exit code."""
    parser = argparse.ArgumentParser(prog="image-enricher", description=__doc__)
    parser.add_argument("--version", action="version", version=f"image-enricher {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the development server (not for production)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    analyze = commands.add_parser("analyze", help="analyse one image URL and print JSON")
    analyze.add_argument("url")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env(os.environ)
        if args.command == "serve":
            return _serve(settings, args.host, args.port)
        return _analyze(settings, args.url)
    except SettingsError as exc:
        print(f"image-enricher: {exc}", file=sys.stderr)
        return 2


def _serve(settings: Settings, host: str, port: int) -> int:
    from werkzeug.serving import run_simple

    from image_enricher.app import create_app

    app = create_app(settings)
    run_simple(host, port, app, threaded=True, use_reloader=False)
    return 0


def _analyze(settings: Settings, url: str) -> int:
    from image_enricher.fetch import ImageAnalyzer

    try:
        info = ImageAnalyzer(settings.policy, settings.limits).analyze(url)
    except AnalysisError as exc:
        print(json.dumps({"error": exc.code.value, "message": exc.message}))
        return 1
    print(json.dumps(info.as_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
