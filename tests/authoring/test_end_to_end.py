"""A stranger's hour, in one test module: scaffold a plugin, install it with pip (uv), see it
in ``etl plugins --json``, run a pipeline with it, run its own tests; and a plugin that
raises at import is listed as broken while ``etl validate`` and ``etl run`` keep working.

Plugins are installed into a throwaway virtual environment that sees the project's .venv
through a ``.pth`` file, so .venv itself never changes and nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from etlcore.scaffold import new_plugin
from etlcore.testing import LocalHTTPServer, Request

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "etl-example-weather"


def _uv() -> str:
    found = REPO_ROOT / ".tools" / "bin" / "uv"
    if found.exists():
        return str(found)
    on_path = shutil.which("uv")
    if on_path is None:
        pytest.skip("uv is not installed (scripts/bootstrap installs it into .tools/)")
    return on_path


@dataclass
class Venv:
    """A throwaway environment layered over the project's .venv."""

    path: Path
    env: dict[str, str]

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    def install(self, project: Path) -> None:
        """``uv pip install --no-deps -e project``: offline from uv's cache when it can be."""
        command = [_uv(), "pip", "install", "--quiet", "--no-deps", "--python", self.python]
        result = _run([*command, "--offline", "-e", str(project)], env=self.env)
        if result.returncode != 0:  # the build backend is not cached yet: fetch it once
            result = _run([*command, "-e", str(project)], env=self.env)
        assert result.returncode == 0, result.stderr

    def etl(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return _run([self.python, "-m", "etlcore.cli", *args], env={**self.env, **(env or {})})


def _run(
    command: list[str], *, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    root = tmp_path_factory.mktemp("authoring")
    path = root / "venv"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "ETL_STRICT_PLUGINS", "PYTHONPATH", "ETL_SECRET_PROVIDERS")
    }
    env.update(PYTHONDONTWRITEBYTECODE="1", ETL_DOTENV=str(root / ".env.absent"))
    created = _run([_uv(), "venv", "--quiet", "--python", sys.executable, str(path)], env=env)
    assert created.returncode == 0, created.stderr
    purelib = _run(
        [
            str(path / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        env=env,
    ).stdout.strip()
    # Everything in .venv (etlcore, etl-sinks, pytest...) becomes importable, .pth files included.
    parent = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "zz_project_venv.pth").write_text(
        f"import site; site.addsitedir({parent!r})\n"
    )
    yield Venv(path, env)


@pytest.fixture(scope="module")
def weather_api() -> Iterator[LocalHTTPServer]:
    """The scaffolded source's made-up API: /items, paged, with one broken item."""
    items = [
        {"id": 1, "name": "one", "updated_at": "2024-05-01T08:00:00+00:00"},
        {"id": 2, "name": "two", "updated_at": "2024-05-02T08:00:00+00:00"},
        {"id": 3, "name": "bad date", "updated_at": "yesterday"},
    ]

    def endpoint(request: Request) -> dict[str, Any]:
        page = int(request.query["page"])
        return {"items": items if page == 1 else [], "next_page": None}

    with LocalHTTPServer() as server:
        server.add_handler("/items", endpoint)
        yield server


@pytest.fixture(scope="module")
def scaffolded(venv: Venv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = new_plugin("acme.items", "source", tmp_path_factory.mktemp("projects"))
    venv.install(project)
    return project


@pytest.fixture(scope="module")
def broken(venv: Venv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plugin distribution whose module raises when imported."""
    project = new_plugin("acme.broken", "transform", tmp_path_factory.mktemp("broken"))
    module = project / "src" / "etl_acme_broken" / "__init__.py"
    module.write_text('raise RuntimeError("acme.broken cannot start: missing licence file")\n')
    venv.install(project)
    return project


def _pipeline(tmp_path: Path, api_url: str) -> Path:
    path = tmp_path / "items.yaml"
    path.write_text(
        "name: items\n"
        "sources:\n"
        "  - plugin: acme.items\n"
        f"    base_url: {api_url}\n"
        "    api_key: ${env:ACME_KEY:-not-a-real-key}\n"
        "sinks:\n"
        "  - plugin: sqlite\n"
        f"    path: {tmp_path / 'items.db'}\n"
    )
    return path


def _plugins(venv: Venv) -> dict[str, dict[str, Any]]:
    result = venv.etl("plugins", "--json")
    assert result.returncode == 0, result.stderr
    return {entry["distribution"]: entry for entry in json.loads(result.stdout)}


def test_the_scaffolded_plugin_is_listed(venv: Venv, scaffolded: Path) -> None:
    entry = _plugins(venv)["etl-acme-items"]
    assert entry["broken"] is False
    assert entry["version"] == "0.1.0"
    assert [item["name"] for item in entry["registers"]["source"]] == ["acme.items"]


def test_the_scaffolded_plugin_runs_in_a_pipeline(
    venv: Venv, scaffolded: Path, weather_api: LocalHTTPServer, tmp_path: Path
) -> None:
    pipeline = _pipeline(tmp_path, weather_api.url)
    assert venv.etl("validate", str(pipeline)).returncode == 0
    first = venv.etl("run", str(pipeline), "--no-progress")
    assert first.returncode == 0, first.stdout + first.stderr
    with closing(sqlite3.connect(tmp_path / "items.db")) as db:
        rows = db.execute("SELECT id, name FROM acme_items_item ORDER BY id").fetchall()
    assert rows == [(1, "one"), (2, "two")]  # the item with a bad date is quarantined
    again = venv.etl("run", str(pipeline), "--no-progress")
    assert again.returncode == 0, again.stdout + again.stderr


def test_the_scaffolded_plugin_passes_its_own_tests(venv: Venv, scaffolded: Path) -> None:
    result = _run(
        [venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], env=venv.env, cwd=scaffolded
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]


@pytest.mark.parametrize("kind", ["transform", "enricher", "sink"])
def test_every_other_kind_passes_its_own_tests_once_installed(
    venv: Venv, kind: str, tmp_path: Path
) -> None:
    project = new_plugin(f"acme.{kind}_step", kind, tmp_path)
    venv.install(project)
    result = _run(
        [venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], env=venv.env, cwd=project
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_the_tutorial_example_installs_and_is_listed(venv: Venv) -> None:
    venv.install(EXAMPLE)
    entry = _plugins(venv)["etl-example-weather"]
    assert [item["name"] for item in entry["registers"]["source"]] == ["example.weather"]
    result = venv.etl("validate", str(EXAMPLE / "pipeline.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_plugin_that_raises_at_import_is_listed_as_broken(venv: Venv, broken: Path) -> None:
    plugins = _plugins(venv)
    assert plugins["etl-acme-broken"]["broken"] is True
    assert "missing licence file" in plugins["etl-acme-broken"]["error"]
    assert plugins["etl-sinks"]["broken"] is False


def test_validate_and_run_keep_working_next_to_a_broken_plugin(
    venv: Venv, scaffolded: Path, broken: Path, weather_api: LocalHTTPServer, tmp_path: Path
) -> None:
    pipeline = _pipeline(tmp_path, weather_api.url)
    validated = venv.etl("validate", str(pipeline))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    ran = venv.etl("run", str(pipeline), "--no-progress")
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_strict_mode_turns_a_broken_plugin_into_an_error(
    venv: Venv, scaffolded: Path, broken: Path, weather_api: LocalHTTPServer, tmp_path: Path
) -> None:
    pipeline = _pipeline(tmp_path, weather_api.url)
    result = venv.etl("validate", str(pipeline), env={"ETL_STRICT_PLUGINS": "1"})
    assert result.returncode == 2  # a configuration error: nothing ran
    assert "missing licence file" in result.stdout + result.stderr
