"""The example app's pipeline configs, as its stacks deploy them, load in the real DAG file: both stacks, both
pipelines on the shared environment, zero import errors, and exactly the DAG ids the stacks' trigger rules start."""

from __future__ import annotations

import json
import re
import shutil

import jsonschema
import pytest
from cfn_lint_check import PROVISIONED_EXAMPLE_STACKS
from cloud_assembly import ROOT, Stack

SCHEMA = json.loads((ROOT / "assets" / "dags" / "cdk_mwaa_mlops" / "pipeline_config.schema.json").read_text())
CONFIG_FOLDER = "cdk_mwaa_mlops_pipelines"


def trigger_dag_ids(stack: Stack) -> set[str]:
    """The DAG ids the stack's EventBridge rules hand to the trigger function (its input template names them)."""
    ids = set()
    for resource in stack.resources.values():
        if resource["Type"] == "AWS::Events::Rule":
            for target in resource["Properties"].get("Targets", []):
                template = target.get("InputTransformer", {}).get("InputTemplate", "")
                ids.update(re.findall(r'"dagId":"([^"]+)"', template))
    return ids


@pytest.mark.parametrize("stack_name", PROVISIONED_EXAMPLE_STACKS)
def test_the_example_configs_load_with_the_dag_ids_the_triggers_start(airflow_db, example_assembly, stack_name, tmp_path):
    from dag_parsing import dag_bag_class

    stack = Stack(example_assembly, stack_name, "123456789012", "eu-west-1")
    folder = tmp_path / "dags"
    shutil.copytree(ROOT / "assets" / "dags", folder, ignore=shutil.ignore_patterns("__pycache__"))
    configs = stack.dag_files(CONFIG_FOLDER)
    assert configs, f"{stack_name} deploys no pipeline config"
    for path in configs:
        config = json.loads(stack.dag_file(path))
        jsonschema.validate(config, SCHEMA)
        (folder / path).write_text(json.dumps(config))
    bag = dag_bag_class()(str(folder))  # LOAD_EXAMPLES is off (conftest.py)
    assert bag.import_errors == {}
    pipelines = [json.loads(stack.dag_file(path))["pipeline_name"] for path in configs]
    assert len(pipelines) == {"MwaaMlopsExample": 1, "MwaaMlopsSharedExample": 2}[stack_name]
    triggered = trigger_dag_ids(stack)
    assert triggered <= set(bag.dag_ids), f"rules start DAGs the file does not define: {triggered - set(bag.dag_ids)}"
    # Every pipeline's training DAG is started by a rule (image pushed, raw data); deployments by approvals.
    assert {f"{p}_training" for p in pipelines} <= triggered
