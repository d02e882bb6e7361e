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
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2 import nodes

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
ALLOWLIST = yaml.safe_load((HERE / "allowlist.yaml").read_text())
#: The service's task limits (SERVERLESS_LIMITS in definitions.ts; the MWAA Serverless user guide).
RETRIES, RETRY_DELAY_SECONDS, EXECUTION_TIMEOUT_SECONDS = 3, 300, 3600
DEFINITION_BYTES = 50 * 1024
#: The Jinja variables MWAA Serverless renders (research/mwaa-serverless.md §1).
JINJA_ROOTS = {"params", "ti", "task_instance", "ds", "ds_nodash", "ts", "ts_nodash", "macros"}


def write_definitions(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each input (DefinitionInputs) with its `training`, `deployment` and `drift` definitions (None where the pipeline
    has none), as definitions.ts writes them."""
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
        "driftWorkflowName": f"{name}-drift",
    }


def with_drift(config: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """The config with a `drift` section, as the construct writes it (drift-contract.md): captures under
    `capture/<pipeline>/` in the data bucket, the staged drift_check.py under the pipeline's artifacts."""
    bucket, name = config["data"]["bucket"], config["pipeline_name"]
    drift = {
        "capture_prefix": f"capture/{name}/",
        "sampling_percentage": 100,
        "image_uri": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        "script_uri": f"s3://{bucket}/artifacts/{name}/code/drift/0123456789abcdef/drift_check.py",
        "instance_type": "ml.m5.large",
        "max_runtime_seconds": 3600,
        "baseline_sample_rows": 10000,
        "psi_threshold": 0.2,
        "ks_alpha": 0.05,
        "min_rows": 100,
        "cool_down_seconds": 86400,
        "metric_namespace": f"CdkMwaaMlops/Drift/{name}",
        **overrides,
    }
    return {**config, "drift": drift}


def strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON value, with where it is."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{where}[{index}]")


def jinja_roots(template: str) -> set[str]:
    """The variables a template reads from its context, from jinja2's parse tree (names it assigns itself excluded)."""
    tree = jinja2.Environment().parse(template)
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    return {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"} - assigned


def violations(definition: dict[str, Any]) -> list[str]:
    """What in a definition breaks MWAA Serverless's rules, each as `<rule>: <where>: <what>` (rules: allowlist,
    limits, jinja, size, loader)."""
    found = []
    allowed = set(ALLOWLIST["operators"]) | set(ALLOWLIST["code_package_operators"])
    (name, dag) = next(iter(definition.items()))
    if dag.get("schedule") is not None or "start_date" in dag or "start_date" in dag.get("default_args", {}):
        found.append(f"limits: {name}: a manual-only workflow has no schedule and no start_date")
    for task_id, task in [("default_args", dag.get("default_args", {})), *dag["tasks"].items()]:
        where = f"{name}.{task_id}"
        if task_id != "default_args" and task["operator"] not in allowed:
            found.append(f"allowlist: {where}: {task['operator']}")
        if not 0 <= task.get("retries", 0) <= RETRIES:
            found.append(f"limits: {where}: retries {task['retries']}")
        if not 0 <= task.get("retry_delay", 0) <= RETRY_DELAY_SECONDS:
            found.append(f"limits: {where}: retry_delay {task['retry_delay']}")
        # absent: the service's default, which is its limit
        if task.get("execution_timeout", EXECUTION_TIMEOUT_SECONDS) > EXECUTION_TIMEOUT_SECONDS:
            found.append(f"limits: {where}: execution_timeout {task['execution_timeout']}")
        if task.get("deferrable", False) is not False or task.get("mode", "poke") != "poke":
            found.append(f"limits: {where}: deferrable or rescheduling")
        if {"expand", "partial", "decorator"} & set(task):
            found.append(f"limits: {where}: dynamic mapping or a decorated task")
    for path, text in strings(definition):
        roots = jinja_roots(text)
        if not roots <= JINJA_ROOTS:
            found.append(f"jinja: {path}: {text!r} reads {sorted(roots - JINJA_ROOTS)}")
    size = len(uploaded(definition).encode())
    if size > DEFINITION_BYTES:
        found.append(f"size: {name}: {size} bytes")
    text = uploaded(definition)  # dag-factory expands `$VAR` in the file and casts mappings with `__type__`
    if "$" in text or "__type__" in text or "__and__" in text or "__or__" in text or "__join__" in text:
        found.append(f"loader: {name}: text dag-factory would change")
    return found
