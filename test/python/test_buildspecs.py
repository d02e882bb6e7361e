"""The build stages' commands, taken from the synthesized example template, run against the starter repository in
a temporary directory: staging uploads to a moto server on 127.0.0.1 with the AWS CLI, validation installs the
repository's requirements and runs its lint and tests. A typo in a buildspec fails here, not in a deploy.
(The image stage needs Docker, which this machine does not run.)"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import boto3
import pytest
from moto.server import ThreadedMotoServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
STARTER = ROOT / "assets" / "starter"
COMMIT = "3f2c1a9e8b7d6c5b4a39281706f5e4d3c2b1a098"


def buildspec(template: dict, stage: str) -> dict:
    (project,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CodeBuild::Project" and f": {stage} (" in r["Properties"]["Description"]
    ]
    return json.loads(project["Source"]["BuildSpec"])


def run_phases(spec: dict, phases: list[str], cwd: pathlib.Path, env: dict[str, str]) -> None:
    """Runs each command the way CodeBuild does: in order, in the source directory, stopping at the first failure."""
    assert spec["env"]["shell"] == "bash"
    for phase in phases:
        for command in spec["phases"][phase]["commands"]:
            result = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, check=False)
            assert result.returncode == 0, f"{phase}: {command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@pytest.fixture
def repository(tmp_path) -> pathlib.Path:
    """The starter repository as a team's clone: no caches, no generated data."""
    target = tmp_path / "source"
    shutil.copytree(STARTER, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".ruff_cache", "raw"))
    return target


@pytest.fixture
def build_env() -> dict[str, str]:
    # The project's .venv holds the AWS CLI (awscli) and Python; CodeBuild's standard image has both.
    bin_dir = str(pathlib.Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "COMMIT_ID": COMMIT,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def test_staging_copies_the_preprocessing_code_under_the_commit(example_template, repository, build_env):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        aws = {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
        s3 = boto3.client(
            "s3",
            endpoint_url=aws["AWS_ENDPOINT_URL"],
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket="model-code", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        env = {**build_env, **aws, "SCRIPT_BUCKET": "model-code", "SCRIPT_PREFIX": "preprocessing/"}
        (repository / "preprocessing" / "notes.txt").write_text("not code")

        run_phases(buildspec(example_template, "StagePreprocessing"), ["build"], repository, env)

        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="model-code").get("Contents", []))
        assert keys == [f"preprocessing/{COMMIT}/preprocess.py"]
        staged = s3.get_object(Bucket="model-code", Key=keys[0])["Body"].read()
        assert staged == (STARTER / "preprocessing" / "preprocess.py").read_bytes()

        env["COMMIT_ID"] = ""
        with pytest.raises(AssertionError, match="COMMIT_ID is empty"):
            run_phases(buildspec(example_template, "StagePreprocessing"), ["build"], repository, env)
    finally:
        server.stop()


def test_validation_installs_the_requirements_passes_on_the_starter_and_fails_on_a_lint_error(
    example_template, repository, build_env
):
    spec = buildspec(example_template, "Validate")
    run_phases(spec, ["install", "build"], repository, build_env)
    assert (repository / ".venv" / "bin" / "ruff").exists()

    (repository / "model" / "broken.py").write_text("import os\n")  # F401: unused import
    with pytest.raises(AssertionError, match="ruff check"):
        run_phases(spec, ["build"], repository, build_env)
