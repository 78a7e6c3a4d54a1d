"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
NASA_FIXTURES = SHARED / "fixtures" / "nasa"


@pytest.fixture
def shared_nasa_fixtures() -> Path:
    """The recorded NASA payloads beside the project (dev machines and CI only)."""
    if not NASA_FIXTURES.is_dir():
        pytest.skip("../shared/fixtures/nasa not present (only in the dev/CI layout)")
    return NASA_FIXTURES


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's .env, real keys or strict-plugin setting by accident."""
    monkeypatch.setenv("ETL_DOTENV", str(tmp_path / ".env.absent"))
    for name in ("ETL_SECRET_PROVIDERS", "ETL_STRICT_PLUGINS", "DATABASE_URL", "DB_HOST"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str], Path]:
    """``write_file(name, text)`` → a file in the test's temporary folder."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


def pytest_report_header() -> list[str]:
    return [
        f"shared fixtures: {'present' if NASA_FIXTURES.is_dir() else 'absent'}",
        f"ETL test PostgreSQL: {os.environ.get('ETL_TEST_PG', '127.0.0.1:5432')}",
    ]
