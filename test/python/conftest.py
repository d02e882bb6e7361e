"""Shared fixtures: the example app, synthesized once per session with the project's own main job."""

import json
import os
import pathlib
import subprocess

import pytest
from cfn_lint_check import EXAMPLE_STACKS

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
def example_templates(example_assembly: pathlib.Path) -> dict[str, dict]:
    """Every stack of the example app, by name, as the cloud assembly's manifest lists them."""
    manifest = json.loads((example_assembly / "manifest.json").read_text())
    stacks = {
        name: json.loads((example_assembly / artifact["properties"]["templateFile"]).read_text())
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert sorted(stacks) == sorted(EXAMPLE_STACKS)
    return stacks


@pytest.fixture(scope="session")
def example_template(example_templates: dict[str, dict]) -> dict:
    """The quick start's stack: one MwaaMlopsPipeline on its defaults (one environment, one build pipeline)."""
    return example_templates["MwaaMlopsExample"]
