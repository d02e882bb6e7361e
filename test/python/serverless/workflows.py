"""The MWAA Serverless workflow definitions the construct writes, and loading them as the service does.

Until the constructs upload them, the definitions come from src/serverless/private/definitions.ts through
write-definitions.ts, over pipeline configs (the fixture configs, or the configs a synthesized app writes, resolved by
cloud_assembly.py). Loading: dag-factory 1.1.0 reads the definition file (`load_yaml_dags(config_filepath=...)`, as
the AWS converter's loader does), with the code package (assets/dags, as the service extracts it) on `sys.path`.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
ALLOWLIST = yaml.safe_load((HERE / "allowlist.yaml").read_text())
#: The service's task limits (SERVERLESS_LIMITS in definitions.ts; the MWAA Serverless user guide).
RETRIES, RETRY_DELAY_SECONDS, EXECUTION_TIMEOUT_SECONDS = 3, 300, 3600
DEFINITION_BYTES = 50 * 1024
#: The Jinja variables MWAA Serverless renders (research/mwaa-serverless.md §1).
JINJA_ROOTS = {"params", "ti", "task_instance", "ds", "ds_nodash", "ts", "ts_nodash", "macros"}


def write_definitions(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each input (DefinitionInputs) with its `training` and `deployment` definitions, as definitions.ts writes them."""
    with tempfile.TemporaryDirectory() as directory:
        source, target = Path(directory) / "in.json", Path(directory) / "out.json"
        source.write_text(json.dumps(inputs))
        subprocess.run(
            ["npx", "ts-node", "--transpile-only", str(HERE / "write-definitions.ts"), str(source), str(target)],
            cwd=ROOT,
            env={**os.environ, "TS_NODE_PROJECT": "tsconfig.dev.json"},
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(target.read_text())


def uploaded(definition: dict[str, Any]) -> str:
    """The definition's text as uploaded (JSON, which is YAML): `Source.jsonData` writes `JSON.stringify` of it."""
    return json.dumps(definition, separators=(",", ":"))


def load_workflow(definition: dict[str, Any], directory: Path) -> Any:
    """The DAG dag-factory builds from the definition file, with the service's default task timeout (3600 s) where a
    task sets none (MWAA Serverless applies it; dag-factory does not)."""
    import dagfactory

    (name,) = definition
    path = directory / f"{name}.yaml"
    path.write_text(uploaded(definition))
    found: dict[str, Any] = {}
    dagfactory.load_yaml_dags(globals_dict=found, config_filepath=str(path))
    (dag,) = [value for value in found.values() if value.__class__.__name__ == "DAG"]
    for task in dag.tasks:
        if task.execution_timeout is None:
            task.execution_timeout = timedelta(seconds=EXECUTION_TIMEOUT_SECONDS)
    return dag


def pipeline_inputs(name: str, config: dict[str, Any], account: str = "123456789012", region: str = "eu-west-1") -> dict:
    """DefinitionInputs for a pipeline, with the workflow names and ARN the construct would give it."""
    return {
        "config": config,
        "trainingWorkflowName": f"{name}-training",
        "deploymentWorkflowName": f"{name}-deployment",
        "deploymentWorkflowArn": f"arn:aws:airflow-serverless:{region}:{account}:workflow/{name}-deployment-AbCdE12345",
    }
