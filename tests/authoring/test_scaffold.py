"""``etl new-plugin``: the names it derives, the errors it gives, the projects it writes."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etlcore.plugins import PluginRegistry
from etlcore.scaffold import KINDS, PluginNames, ScaffoldError, new_plugin

REPO_ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).parent / "ruff"


def test_names_derive_from_the_plugin_name() -> None:
    names = PluginNames.from_name("acme.weather", "source")
    assert names.distribution == "etl-acme-weather"
    assert names.package == "etl_acme_weather"
    assert names.entry_point == "acme_weather"
    assert names.class_name == "AcmeWeatherSource"
    assert PluginNames.from_name("geo_ip", "enricher").class_name == "GeoIpEnricher"
    odd = PluginNames.from_name("geo__ip_", "enricher")
    assert (odd.distribution, odd.package, odd.entry_point) == (
        "etl-geo-ip",
        "etl_geo_ip",
        "geo_ip",
    )


@pytest.mark.parametrize("name", ["Weather", "9lives", "acme-weather", "acme..weather", "", "a b"])
def test_a_bad_name_is_refused_with_the_rule(name: str, tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="lowercase letters"):
        new_plugin(name, "source", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_bad_kind_is_refused_with_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="source, transform, enricher, sink"):
        new_plugin("weather", "loader", tmp_path)


def test_an_existing_project_is_never_overwritten(tmp_path: Path) -> None:
    target = new_plugin("weather", "source", tmp_path)
    readme = target / "README.md"
    readme.write_text("my notes")
    with pytest.raises(ScaffoldError, match="already exists"):
        new_plugin("weather", "transform", tmp_path)
    assert readme.read_text() == "my notes"


@pytest.mark.parametrize("kind", KINDS)
def test_the_project_declares_its_entry_point(kind: str, tmp_path: Path) -> None:
    target = new_plugin("acme.thing", kind, tmp_path)
    assert target == tmp_path / "etl-acme-thing"
    project = tomllib.loads((target / "pyproject.toml").read_text())
    assert project["project"]["name"] == "etl-acme-thing"
    assert project["project"]["entry-points"]["etlcore"] == {"acme_thing": "etl_acme_thing"}
    assert any(dep.startswith("etlcore") for dep in project["project"]["dependencies"])
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "src/etl_acme_thing"
    ]
    assert (target / "tests" / "test_acme_thing.py").is_file()
    assert "plugin: acme.thing" in (target / "README.md").read_text()


@pytest.mark.parametrize("kind", KINDS)
def test_the_module_registers_one_valid_plugin_of_its_kind(kind: str, tmp_path: Path) -> None:
    target = new_plugin("acme.thing", kind, tmp_path)
    spec = importlib.util.spec_from_file_location(
        f"scaffolded_{kind}", target / "src" / "etl_acme_thing" / "__init__.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    registry = PluginRegistry.load(strict=True, entry_points_=False)
    info = registry.add_module(module)
    assert not info.broken, info.error
    assert info.registers == {kind: ["acme.thing"]}
    schema = registry.get(kind, "acme.thing").config_schema
    assert schema["additionalProperties"] is False


@pytest.mark.skipif(not RUFF.exists(), reason="ruff is a dev dependency")
@pytest.mark.parametrize("kind", KINDS)
def test_the_project_is_lint_clean(kind: str, tmp_path: Path) -> None:
    target = new_plugin("acme.thing", kind, tmp_path)
    for command in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        result = subprocess.run([RUFF, *command], cwd=target, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_cli_command_writes_the_project(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from etlcore.cli import app

    result = CliRunner().invoke(app, ["new-plugin", "weather", "--kind", "sink", "--dir", tmp_path])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "etl-weather" / "src" / "etl_weather" / "__init__.py").is_file()
    assert "pip install -e '.[test]'" in result.output


def test_the_cli_command_exits_2_on_a_bad_kind(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from etlcore.cli import app

    result = CliRunner().invoke(
        app, ["new-plugin", "weather", "--kind", "loader", "--dir", tmp_path]
    )
    assert result.exit_code == 2
    assert "choose one of source, transform, enricher, sink" in result.output
    assert list(tmp_path.iterdir()) == []


_WORD = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


@settings(max_examples=30, deadline=None)
@given(words=st.lists(_WORD, min_size=1, max_size=3), kind=st.sampled_from(KINDS))
def test_any_valid_name_renders_a_project_that_compiles(words: list[str], kind: str) -> None:
    name = ".".join(words)
    names = PluginNames.from_name(name, kind)
    assert names.package.isidentifier() and names.class_name.isidentifier()
    assert re.fullmatch(r"etl(-[a-z0-9]+)+", names.distribution)  # a valid, normalised name
    with tempfile.TemporaryDirectory() as directory:
        target = new_plugin(name, kind, Path(directory))
        for path in target.rglob("*.py"):
            compile(path.read_text(), str(path), "exec")
        assert f'{names.entry_point} = "{names.package}"' in (target / "pyproject.toml").read_text()
        assert f'name = "{name}"' in (target / "src" / names.package / "__init__.py").read_text()
