"""Finding the tools the Terraform checks need, and loading terraform/ with python-hcl2.

Each finder returns the tool or a reason it is missing, so that a test skips with a reason a
reader can act on instead of failing on a machine without Terraform.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

REPO = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO / "terraform"
CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
MIRROR_ENV = "TF_PLUGIN_MIRROR"
# Where the provider mirror lives on the machines we know, tried when $TF_PLUGIN_MIRROR is unset.
MIRROR_CANDIDATES = (
    Path("/opt/tf-plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path("/usr/share/terraform/plugins"),
)
AWS_PROVIDER = Path("registry.terraform.io") / "hashicorp" / "aws"

_HCL_OPTIONS = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True
)


@dataclass(frozen=True)
class Found:
    path: Path | None
    reason: str = ""


def terraform_binary() -> Found:
    found = shutil.which("terraform")
    if found is None:
        return Found(None, "terraform is not on PATH (install Terraform >= 1.11 to run this check)")
    return Found(Path(found))


@cache
def terraform_files() -> dict[str, dict[str, Any]]:
    """Every ``terraform/*.tf`` parsed into python-hcl2's classic dict shape, by file name."""
    parsed = {}
    for path in sorted(TERRAFORM_DIR.glob("*.tf")):
        with path.open() as handle:
            parsed[path.name] = hcl2.load(handle, serialization_options=_HCL_OPTIONS)
    return parsed


def blocks(kind: str) -> list[dict[str, Any]]:
    """All top-level blocks of one kind (``resource``, ``variable``…) across the files."""
    return [block for doc in terraform_files().values() for block in doc.get(kind, [])]


def resources(resource_type: str, kind: str = "resource") -> dict[str, dict[str, Any]]:
    """``{name: body}`` of every resource (or data source) of one type."""
    found: dict[str, dict[str, Any]] = {}
    for block in blocks(kind):
        for name, body in block.get(resource_type, {}).items():
            found[name] = body
    return found


def variables() -> dict[str, dict[str, Any]]:
    return {name: body for block in blocks("variable") for name, body in block.items()}


def pinned_aws_version() -> str:
    for block in blocks("terraform"):
        for providers in block.get("required_providers", []):
            if "aws" in providers:
                return str(providers["aws"]["version"])
    raise AssertionError("terraform/versions.tf has no required_providers.aws")


def plugin_mirror() -> Found:
    """The provider mirror from ``$TF_PLUGIN_MIRROR``, else the first known place that has one."""
    version = pinned_aws_version()
    configured = os.environ.get(MIRROR_ENV)
    candidates = [Path(configured)] if configured else list(MIRROR_CANDIDATES)
    for candidate in candidates:
        provider = candidate / AWS_PROVIDER
        if not provider.is_dir():
            continue
        versions = sorted(p.name for p in provider.iterdir() if p.is_dir())
        if version in versions:
            return Found(candidate)
        return Found(
            None,
            f"the mirror {candidate} has hashicorp/aws {', '.join(versions) or 'no version'}, "
            f"but terraform/versions.tf pins {version}",
        )
    where = f"${MIRROR_ENV}={configured}" if configured else ", ".join(map(str, candidates))
    return Found(None, f"no Terraform provider mirror with {AWS_PROVIDER} at {where}")


def checkov_binary() -> Found:
    if CHECKOV.is_file() and os.access(CHECKOV, os.X_OK):
        return Found(CHECKOV)
    return Found(None, f"{CHECKOV.relative_to(REPO)} is missing: run scripts/setup-checkov")


def terraform_env(home: Path) -> dict[str, str]:
    """A sealed environment for terraform: no checkpoint call home, no user CLI config."""
    cli_config = home / "terraformrc"
    cli_config.write_text("")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "TF_CLI_CONFIG_FILE": str(cli_config),
    }


# --- inline checkov skips -----------------------------------------------------------------

SKIP_COMMENT = re.compile(r"#\s*checkov:skip=(?P<body>.*)$")
SKIP_BODY = re.compile(r"^(?P<id>CKV2?_[A-Z0-9]+_\d+)(?::(?P<reason>.*))?$")
LAZY_REASON = re.compile(r"\b(todo|to-do|to do|tbd|fixme|xxx|later|temporary|temp fix)\b", re.I)
MIN_REASON_WORDS = 5


@dataclass(frozen=True)
class InlineSkip:
    file: str
    line: int
    check_id: str
    reason: str


def skip_problem(body: str) -> str | None:
    """Why one ``#checkov:skip=`` comment body is not acceptable, or ``None`` when it is."""
    match = SKIP_BODY.match(body.strip())
    if not match:
        return f"malformed skip {body.strip()!r}: write #checkov:skip=CKV_AWS_NN:reason"
    reason = (match.group("reason") or "").strip()
    if not reason:
        return f"{match.group('id')} is skipped without a reason"
    if LAZY_REASON.search(reason):
        return f"{match.group('id')} has a placeholder reason: {reason!r}"
    if len(reason.split()) < MIN_REASON_WORDS:
        return f"{match.group('id')} needs a real reason (at least {MIN_REASON_WORDS} words)"
    return None


def inline_skips(text: str, file: str) -> tuple[list[InlineSkip], list[str]]:
    """The skips of one file and the problems found in them (``file:line: problem``)."""
    skips, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        found = SKIP_COMMENT.search(line)
        if not found:
            continue
        problem = skip_problem(found.group("body"))
        if problem:
            problems.append(f"{file}:{number}: {problem}")
            continue
        match = SKIP_BODY.match(found.group("body").strip())
        assert match is not None
        skips.append(InlineSkip(file, number, match["id"], match["reason"].strip()))
    return skips, problems
