"""Shared fixtures: the example app, synthesized once per session with the project's own main job."""

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def example_assembly(tmp_path_factory) -> pathlib.Path:
    """Synthesizes examples/app.ts into a temporary cloud assembly and returns its directory."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "TS_NODE_PROJECT": "tsconfig.dev.json"}
    subprocess.run(
        ["npx", "ts-node", "--transpile-only", "examples/app.ts"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return outdir


@pytest.fixture(scope="session")
def example_template(example_assembly: pathlib.Path) -> dict:
    return json.loads((example_assembly / "MwaaMlopsExample.template.json").read_text())
