"""Run pipelines/nasa.yaml offline: against the local NASA API simulator and image server.

    make demo                       # the last 30 days into demo.db
    .venv/bin/python scripts/demo.py --since 2024-01-01 --until 2024-03-31 --db demo.db

Nothing leaves this machine: NASA_API_URL and MARS_PHOTOS_API_URL point at the simulator,
whose image URLs point at the local image server, which the in-process enricher is allowed
to reach (only for this demo) through ENRICHER_ALLOWED_HOSTS / ENRICHER_ALLOW_PRIVATE_NETWORKS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.simulator and tests.imageserver live in the repo

from tests.imageserver import ImageServer  # noqa: E402
from tests.simulator import NasaSimulator  # noqa: E402


def main() -> int:
    today = dt.date.today()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", default=str(today - dt.timedelta(days=30)))
    parser.add_argument("--until", default=str(today - dt.timedelta(days=1)))
    parser.add_argument("--db", default="demo.db", help="SQLite file to load (default demo.db)")
    args = parser.parse_args()

    with (
        _image_server() as images,
        NasaSimulator(fixtures=None, image_base_url=images.base_url) as nasa,
    ):
        env = {
            **os.environ,
            "NASA_API_URL": nasa.base_url,
            "MARS_PHOTOS_API_URL": nasa.mars_url,
            "NASA_API_KEY": "demo-simulator-key",
            "SQLITE_PATH": args.db,
            "ENRICHER_ALLOWED_HOSTS": images.authority,
            "ENRICHER_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8,::1/128",
        }
        for name in ("DATABASE_URL", "DB_HOST", "LIGHTSAIL_API"):
            env.pop(name, None)
        print(f"NASA API simulator at {nasa.base_url}, image server at {images.base_url}")
        command = [
            str(ROOT / ".venv" / "bin" / "etl"),
            "run",
            str(ROOT / "pipelines" / "nasa.yaml"),
            "--since",
            args.since,
            "--until",
            args.until,
        ]
        code = subprocess.call(command, env=env, cwd=ROOT)
        print(
            f"{len(nasa.requests)} requests to the NASA simulator, "
            f"{len(images.requests)} to the image server"
        )
    if code == 0:
        with sqlite3.connect(ROOT / args.db) as db:
            rows = db.execute("SELECT * FROM daily_summary ORDER BY date DESC LIMIT 5").fetchall()
            names = [c[0] for c in db.execute("SELECT * FROM daily_summary LIMIT 0").description]
        print("\ndaily_summary, last 5 days:")
        print(" | ".join(names))
        for row in rows:
            print(" | ".join("" if v is None else str(v) for v in row))
    return code


STABLE_IMAGE_PORT = 8900


def _image_server() -> ImageServer:
    """The image server on port 8900 when it is free, so that a second demo run sees the same
    image URLs and reports its rows unchanged; any free port otherwise."""
    try:
        return ImageServer(port=STABLE_IMAGE_PORT)
    except OSError:
        return ImageServer()


if __name__ == "__main__":
    sys.exit(main())
