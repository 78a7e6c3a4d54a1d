"""``python -m image_enricher.healthcheck``: exit 0 when the local service answers /healthz.

The Dockerfile's HEALTHCHECK runs it (no curl in the slim image). It asks 127.0.0.1 on
``$PORT`` (default 8080), so it checks the very process the container started.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request


def main() -> int:
    """0 if ``GET /healthz`` says ok within 4 seconds, else 1."""
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8080')}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            healthy = response.status == 200 and json.load(response).get("status") == "ok"
    except (OSError, ValueError):
        healthy = False
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
