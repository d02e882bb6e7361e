"""The image cannot be built in every place the tests run; hadolint and these checks hold its essentials."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
DOCKERFILE = REPOSITORY / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_hadolint_finds_nothing():
    # pip installs hadolint beside the interpreter, which need not be on PATH (e.g. `.venv/bin/python -m pytest`).
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.fail("hadolint is not installed: pip install -r requirements-dev.txt")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_base_image_is_a_slim_python_pinned_to_a_patch_release():
    (base,) = [value for keyword, value in instructions() if keyword == "FROM"]
    assert re.fullmatch(r"(public\.ecr\.aws/docker/library/)?python:3\.\d+\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base), base


def test_it_runs_as_a_non_root_user():
    users = [value for keyword, value in instructions() if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_dependencies_are_installed_before_the_code_is_copied_so_the_layer_is_cached():
    steps = [f"{keyword} {value}" for keyword, value in instructions()]
    install = next(i for i, step in enumerate(steps) if step.startswith("RUN pip install"))
    copy_code = next(i for i, step in enumerate(steps) if step.startswith("COPY model/"))
    assert install < copy_code


def test_sagemaker_can_run_train_and_serve_on_port_8080():
    steps = dict(instructions())
    assert steps["ENTRYPOINT"] == '["python", "-m", "model"]'
    assert steps["EXPOSE"] == "8080"


def test_runtime_requirements_are_pinned():
    for line in (REPOSITORY / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", line), line
