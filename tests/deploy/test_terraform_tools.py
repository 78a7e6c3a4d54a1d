"""terraform fmt, init + validate against the local provider mirror, and checkov.

Where a tool is absent these skip with the reason; CI (``CI=true``) runs scripts/setup-checkov
first, so there a missing checkov is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.terraform_tools import (
    TERRAFORM_DIR,
    InlineSkip,
    checkov_binary,
    inline_skips,
    plugin_mirror,
    terraform_binary,
    terraform_env,
)


def _terraform() -> Path:
    found = terraform_binary()
    if found.path is None:
        pytest.skip(found.reason)
    return found.path


def _copy_config(target: Path, *, with_tests: bool = False) -> Path:
    """Terraform writes .terraform/ and a lock file next to the config: work on a copy."""
    config = target / "terraform"
    config.mkdir()
    for path in TERRAFORM_DIR.glob("*.tf"):
        shutil.copy(path, config / path.name)
    if with_tests:
        shutil.copytree(TERRAFORM_DIR / "tests", config / "tests")
    return config


def _fake_dist(target: Path) -> Path:
    """What `make wheels` leaves in dist/glue, with placeholder contents."""
    dist = target / "dist-glue"
    (dist / "wheels").mkdir(parents=True)
    (dist / "pipelines").mkdir()
    for name in ("etlcore", "etl_nasa_sources", "etl_sinks", "image_enricher"):
        (dist / "wheels" / f"{name}-0.1.0-py3-none-any.whl").write_bytes(b"placeholder")
    (dist / "glue_entry.py").write_text("placeholder\n")
    (dist / "pipelines" / "nasa.yaml").write_text("name: placeholder\n")
    return dist


@pytest.fixture(scope="module")
def initialized_config(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A copy of terraform/ (with its tests), initialised from the local provider mirror."""
    terraform = _terraform()
    mirror = plugin_mirror()
    if mirror.path is None:
        pytest.skip(mirror.reason)
    home = tmp_path_factory.mktemp("terraform")
    config = _copy_config(home, with_tests=True)
    env = terraform_env(home)
    init = subprocess.run(
        [terraform, "init", "-backend=false", f"-plugin-dir={mirror.path}", "-no-color"],
        cwd=config,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    return config, env


def test_terraform_is_formatted(tmp_path: Path) -> None:
    terraform = _terraform()
    result = subprocess.run(
        [terraform, "fmt", "-check", "-diff", "-recursive", "-no-color", str(TERRAFORM_DIR)],
        env=terraform_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (
        f"run `terraform fmt terraform/`:\n{result.stdout}{result.stderr}"
    )


@pytest.mark.slow
def test_terraform_validates_with_the_pinned_provider(
    initialized_config: tuple[Path, dict[str, str]],
) -> None:
    config, env = initialized_config
    validate = subprocess.run(
        [_terraform(), "validate", "-json", "-no-color"],
        cwd=config,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    report = json.loads(validate.stdout)
    problems = [
        f"{d['severity']}: {d['summary']} {d.get('detail', '')}" for d in report["diagnostics"]
    ]
    assert report["valid"], "\n".join(problems)
    assert not [p for p in problems if p.startswith("warning")], "\n".join(problems)


@pytest.mark.slow
def test_terraform_test_passes_with_a_mocked_provider(
    initialized_config: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """terraform/tests/*.tftest.hcl: computed job arguments, uploads, variable validations."""
    config, env = initialized_config
    result = subprocess.run(
        [_terraform(), "test", "-no-color", f"-var=artifacts_dir={_fake_dist(tmp_path)}"],
        cwd=config,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    runs = re.findall(r'run "(\w+)"\.\.\. (pass|fail)', result.stdout)
    assert len(runs) >= 8 and all(status == "pass" for _, status in runs), runs


@pytest.fixture(scope="module")
def checkov_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    found = checkov_binary()
    if found.path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run scripts/setup-checkov first: {found.reason}")
        pytest.skip(found.reason)
    config = _copy_config(tmp_path_factory.mktemp("checkov"))
    result = subprocess.run(
        [
            found.path,
            "--directory",
            str(config),
            "--framework",
            "terraform",
            "--output",
            "json",
            "--skip-download",  # no calls to the vendor's API: offline, and nothing leaves
        ],
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_checkov_finds_no_failed_check(checkov_report: dict) -> None:
    summary = checkov_report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range'][0]}): "
        f"{c['check_name']}"
        for c in checkov_report["results"].get("failed_checks", [])
    ]
    assert summary["failed"] == 0, "\n".join(failed)
    assert summary["parsing_errors"] == 0
    # It really scanned the stack (an empty or unparsable folder would also have 0 failures).
    assert summary["resource_count"] >= 50
    assert summary["passed"] >= 100


def _all_inline_skips() -> list[InlineSkip]:
    skips: list[InlineSkip] = []
    for path in sorted(TERRAFORM_DIR.glob("*.tf")):
        found, problems = inline_skips(path.read_text(), path.name)
        assert not problems, "\n".join(problems)
        skips.extend(found)
    return skips


@pytest.mark.slow
def test_every_inline_skip_suppresses_a_check_checkov_reports(checkov_report: dict) -> None:
    """A skip that no longer matches anything is stale: delete it rather than keep excuses."""
    skipped = {
        (c["check_id"], c["check_result"].get("suppress_comment", "").strip())
        for c in checkov_report["results"].get("skipped_checks", [])
    }
    for skip in _all_inline_skips():
        assert (skip.check_id, skip.reason) in skipped, (
            f"{skip.file}:{skip.line}: {skip.check_id} is skipped but checkov did not report "
            "it as suppressed (stale skip, or the comment is outside the resource block)"
        )
    assert checkov_report["summary"]["skipped"] == len(_all_inline_skips())
