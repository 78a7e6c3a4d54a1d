"""scripts/build-wheels: the folder terraform uploads holds everything the Glue job needs."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = {
    "etlcore": None,
    "etl_nasa_sources": "nasa",
    "etl_sinks": "sinks",
    "image_enricher": "image_enricher",
}


@pytest.mark.slow
def test_build_wheels_produces_every_wheel_the_entry_script_and_the_pipeline(
    tmp_path: Path,
) -> None:
    if not (REPO / ".tools" / "bin" / "uv").is_file():
        pytest.skip(".tools/bin/uv is missing: run scripts/bootstrap")
    out = tmp_path / "glue"
    stale = out / "wheels" / "etlcore-0.0.1-py3-none-any.whl"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"an old build")
    result = subprocess.run(
        [REPO / "scripts" / "build-wheels"],
        env={**os.environ, "GLUE_DIST": str(out)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not stale.exists(), "a stale wheel would be uploaded next to the new one"
    assert (out / "glue_entry.py").read_bytes() == (REPO / "glue" / "glue_entry.py").read_bytes()
    assert (out / "pipelines" / "nasa.yaml").read_bytes() == (
        REPO / "pipelines" / "nasa.yaml"
    ).read_bytes()
    wheels = {path.name.split("-")[0]: path for path in (out / "wheels").glob("*.whl")}
    assert set(DISTRIBUTIONS) <= set(wheels)
    for dist, entry_point in DISTRIBUTIONS.items():
        with zipfile.ZipFile(wheels[dist]) as wheel:
            names = wheel.namelist()
            metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
            requires = wheel.read(metadata).decode()
            # Dependencies name distributions, never a path into this checkout.
            assert "file://" not in requires and "@ /" not in requires
            if entry_point:
                points = wheel.read(next(n for n in names if n.endswith("entry_points.txt")))
                assert f"[etlcore]\n{entry_point} =" in points.decode()
    with zipfile.ZipFile(wheels["etlcore"]) as wheel:
        assert "etlcore/aws_secrets.py" in wheel.namelist()
    # What terraform/glue.tf's precondition checks before an apply.
    assert len(list((out / "wheels").glob("*.whl"))) >= 4
    shutil.rmtree(out)
