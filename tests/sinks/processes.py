"""Running the loader (tests/sinks/loader.py) as a child process and reading its lines."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


class Loader:
    """One loader process; ``wait_for(line)`` blocks until it printed that line."""

    def __init__(self, sink: str, config: dict[str, Any], *args: str) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.sinks.loader",
                "--sink",
                sink,
                "--config",
                json.dumps(config),
                *args,
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []

    def wait_for(self, wanted: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(
                    f"loader ended before printing {wanted!r}: {self.lines} "
                    f"{self.proc.stderr.read() if self.proc.stderr else ''}"
                )
            self.lines.append(line.strip())
            if line.strip() == wanted or line.startswith(wanted + " "):
                return
        raise AssertionError(f"loader did not print {wanted!r} within {timeout} s: {self.lines}")

    def finish(self, timeout: float = 120) -> list[str]:
        out, err = self.proc.communicate(timeout=timeout)
        self.lines.extend(line.strip() for line in out.splitlines())
        assert self.proc.returncode == 0, f"loader failed ({self.proc.returncode}): {err}"
        return self.lines

    def value(self, word: str) -> float:
        return float(next(line.split()[1] for line in self.lines if line.startswith(word + " ")))

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)


def run_loader(sink: str, config: dict[str, Any], *args: str) -> list[str]:
    return Loader(sink, config, *args).finish()
