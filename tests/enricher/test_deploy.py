"""The service as the container runs it: the Dockerfile's CMD under gunicorn, its healthcheck."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3

from tests.imageserver import ImageServer

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "image_enricher" / "Dockerfile"
VENV_BIN = Path(sys.executable).parent
KEY = "gunicorn-test-key-42"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            pairs.append((instruction.upper(), rest.strip()))
    return pairs


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def exec_form(instruction: str) -> list[str]:
    (argument,) = [rest for name, rest in final_stage() if name == instruction]
    if instruction == "HEALTHCHECK":
        argument = argument[argument.index("CMD ") + 4 :]
    command = json.loads(argument)
    assert isinstance(command, list), f"{instruction} must use the exec (JSON) form"
    return command


def local_command(command: list[str]) -> list[str]:
    """The container's command with this venv's executables (python, gunicorn)."""
    executable = VENV_BIN / command[0]
    return [str(executable if executable.exists() else command[0]), *command[1:]]


def test_final_image_is_slim_python_311_and_runs_as_non_root() -> None:
    stage = final_stage()
    assert stage[0] == ("FROM", "python:3.11-slim")
    (user,) = [rest for name, rest in stage if name == "USER"]
    assert user.split(":")[0] not in ("root", "0")
    assert exec_form("CMD")[:3] == ["gunicorn", "-c", "python:image_enricher.gunicorn_conf"]
    assert exec_form("HEALTHCHECK")[0] == "python"


def test_requirements_lock_matches_uv_lock() -> None:
    uv = REPO / ".tools" / "bin" / "uv"
    if not uv.exists() and shutil.which("uv") is None:
        pytest.skip("uv is not installed here")
    exported = subprocess.run(
        [
            str(uv) if uv.exists() else "uv",
            "export",
            "--package",
            "image-enricher",
            "--no-dev",
            "--frozen",
            "--no-emit-workspace",
            "--quiet",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lock = (REPO / "image_enricher" / "requirements.lock").read_text()
    assert lock == exported, "regenerate image_enricher/requirements.lock (see its header)"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def container_env(port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENRICHER_")}
    env.update(
        PORT=str(port),
        # The image binds 0.0.0.0; a test only ever listens on loopback.
        ENRICHER_BIND=f"127.0.0.1:{port}",
        ENRICHER_WORKERS="1",
        ENRICHER_THREADS="4",
        **extra,
    )
    return env


class Service:
    """The running container command: its port, and its log once stopped."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.port = port

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
        out, _ = self.process.communicate(timeout=30)
        return out or ""


@pytest.fixture(scope="module")
def gunicorn_service(image_server_for_gunicorn: ImageServer) -> Iterator[Service]:
    port = free_port()
    env = container_env(
        port,
        ENRICHER_API_KEY=KEY,
        ENRICHER_ALLOWED_HOSTS=image_server_for_gunicorn.authority,
        ENRICHER_ALLOW_PRIVATE_NETWORKS="127.0.0.0/8,::1/128",
    )
    process = subprocess.Popen(
        local_command(exec_form("CMD")),
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        healthcheck = local_command(exec_form("HEALTHCHECK"))
        for _ in range(200):  # wait for the boot: up to ~20 s on a busy machine
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited: {process.stdout.read() if process.stdout else ''}")
            if subprocess.run(healthcheck, env=env, check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the service never became healthy")
        yield Service(process, port)
    finally:
        if process.poll() is None:
            process.terminate()
            process.communicate(timeout=30)


@pytest.fixture(scope="module")
def image_server_for_gunicorn() -> Iterator[ImageServer]:
    with ImageServer() as server:
        yield server


def test_gunicorn_serves_the_contract(
    gunicorn_service: Service, image_server_for_gunicorn: ImageServer
) -> None:
    http = urllib3.PoolManager()
    base = f"http://127.0.0.1:{gunicorn_service.port}"
    url = image_server_for_gunicorn.url("/apod/image/2402/pic.webp", w=2048, h=1365)
    auth = {"Authorization": f"Bearer {KEY}"}

    single = http.request("POST", f"{base}/analyze-image", json={"image_url": url}, headers=auth)
    assert single.status == 200
    body = single.json()
    assert (body["width"], body["height"], body["format"]) == (2048, 1365, "WEBP")
    assert 0 < body["bytes_read"] <= 64 * 1024

    batch = http.request(
        "POST", f"{base}/analyze-images", json={"image_urls": [url, "ftp://x/y"]}, headers=auth
    )
    assert [r.get("error") for r in batch.json()["results"]] == [None, "invalid_url"]

    refused = http.request("POST", f"{base}/analyze-image", json={"image_url": url})
    assert (refused.status, refused.json()["error"]) == (401, "unauthorized")

    log = gunicorn_service.stop()
    assert "Using worker: gthread" in log
    assert "Control socket" not in log  # the container user has no home to put one in
    assert KEY not in log


def test_gunicorn_will_not_boot_without_a_key() -> None:
    result = subprocess.run(
        local_command(exec_form("CMD")),
        env=container_env(free_port()),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "ENRICHER_API_KEY" in result.stdout + result.stderr
