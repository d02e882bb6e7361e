"""Each workflow definition follows MWAA Serverless's rules: operators on its allowlist, task limits, the Jinja it
renders, flat run parameters for every key the trigger sends, at most 50 KB; and dag-factory builds it into the DAG
the steps expect, whose callables are the code package's.

The Jinja check parses every string with jinja2's own parser and collects the variables a template reads (not a
regex); it covers the definition and the templates the step callables render (the Python builders' output).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

import jinja2
import pytest
from jinja2 import nodes
from workflows import (
    ALLOWLIST,
    DEFINITION_BYTES,
    EXECUTION_TIMEOUT_SECONDS,
    JINJA_ROOTS,
    RETRIES,
    RETRY_DELAY_SECONDS,
    ROOT,
    load_workflow,
    pipeline_inputs,
    uploaded,
    write_definitions,
)

FIXTURES = ROOT / "test" / "fixtures" / "pipelines"
TRIGGER_REQUEST = ROOT / "src" / "trigger" / "runtime" / "dag-run-request.ts"
ALLOWED = set(ALLOWLIST["operators"]) | set(ALLOWLIST["code_package_operators"])


@pytest.fixture(scope="module")
def written() -> list[dict[str, Any]]:
    """The definitions of the fixture pipelines: churn (real-time, auto-approved) and fraud, and fraud as a
    registry-only pipeline and with a serverless endpoint."""
    churn, fraud = (json.loads((FIXTURES / f"{name}.json").read_text()) for name in ("churn", "fraud"))
    registry_only = {**fraud, "pipeline_name": "ledger", "deployment": {"mode": "none"}}
    serverless = {**fraud, "pipeline_name": "fraudsl", "deployment": {"mode": "serverless", "endpoint_name": "fraud-sl"}}
    configs = {"churn": churn, "fraud": fraud, "ledger": registry_only, "fraudsl": serverless}
    return write_definitions([pipeline_inputs(name, config) for name, config in configs.items()])


def definitions(written: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for pipeline in written:
        for kind in ("training", "deployment"):
            if pipeline[kind] is not None:
                yield f"{pipeline['trainingWorkflowName']}/{kind}", pipeline[kind]


def only_dag(definition: dict[str, Any]) -> dict[str, Any]:
    (dag,) = definition.values()
    return dag


def strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{where}[{index}]")


def jinja_roots(template: str) -> set[str]:
    """The variables a template reads from its context (names it assigns itself, e.g. loop targets, excluded)."""
    tree = jinja2.Environment().parse(template)
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    return {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"} - assigned


def test_jinja_roots_are_read_from_the_parse_tree():
    assert jinja_roots("{{ ti.xcom_pull(task_ids='a')['b'] }}-{{ params.x }}") == {"ti", "params"}
    assert jinja_roots("{{ dag_run.conf['x'] }} {{ run_id }}") == {"dag_run", "run_id"}
    assert jinja_roots("{% for k in params %}{{ k }}{% endfor %}") == {"params"}
    assert jinja_roots("no template here") == set()


def test_every_operator_is_on_the_service_allowlist(written):
    used = set()
    for where, definition in definitions(written):
        for task_id, task in only_dag(definition)["tasks"].items():
            assert task["operator"] in ALLOWED, f"{where}: task {task_id} uses {task['operator']}, not on the allowlist"
            used.add(task["operator"])
    # PythonOperator only with a code package: the construct ships one (SERVERLESS_CODE_DIRECTORY).
    assert used & set(ALLOWLIST["code_package_operators"]) == {"airflow.providers.standard.operators.python.PythonOperator"}
    assert len(used) == 5


def test_every_task_keeps_to_the_service_limits(written):
    for where, definition in definitions(written):
        dag = only_dag(definition)
        assert dag["schedule"] is None and "start_date" not in dag and "start_date" not in dag["default_args"], where
        tasks = [dag["default_args"], *dag["tasks"].values()]
        for task in tasks:
            assert 0 <= task.get("retries", 0) <= RETRIES, where
            assert 0 <= task.get("retry_delay", 0) <= RETRY_DELAY_SECONDS, where
            # absent: the service's default, which is its limit
            assert task.get("execution_timeout", EXECUTION_TIMEOUT_SECONDS) <= EXECUTION_TIMEOUT_SECONDS, where
            assert task.get("deferrable", False) is False, f"{where}: no deferrable operators on MWAA Serverless"
            assert task.get("mode", "poke") == "poke", where
            assert "expand" not in task and "partial" not in task and "decorator" not in task, where


def test_every_template_reads_only_what_the_service_renders(written):
    for where, definition in definitions(written):
        for path, text in strings(definition):
            roots = jinja_roots(text)
            assert roots <= JINJA_ROOTS, f"{where} {path}: {text!r} reads {sorted(roots - JINJA_ROOTS)}"


def test_the_templates_the_steps_render_read_only_what_the_service_renders(written):
    """The step callables render the builders' templates with the task's context: the same rule holds for them."""
    from cdk_mwaa_mlops import deployment, training
    from cdk_mwaa_mlops.config import parse_config

    built = []
    for pipeline in written:
        config = parse_config("fixture", pipeline["config"])
        built += [
            training.preprocessing_arguments(config),
            training.training_arguments(config),
            training.evaluation_arguments(config),
            training.registration_arguments(config),
        ]
        if config.deploys:
            built += [deployment.model_spec(config), deployment.endpoint_config_spec(config), deployment.endpoint_spec(config)]
    templates = [(path, text) for arguments in built for path, text in strings(arguments) if "{{" in text]
    assert len(templates) > 50
    for path, text in templates:
        assert jinja_roots(text) <= JINJA_ROOTS, f"{path}: {text!r}"


def trigger_keys() -> set[str]:
    """The run conf keys the trigger Lambda sends, as its request builder's header lists them."""
    header = TRIGGER_REQUEST.read_text().split("*/", 1)[0]
    listed = header.split("Keys present per kind:", 1)[1]
    return set(re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\bregion\b|\baccount\b|\bdetail\b", listed)) - {
        "ecr_image_push",
        "s3_object_created",
        "model_package_state_change",
    }


def test_every_key_the_trigger_sends_is_a_flat_parameter_of_both_workflows(written):
    keys = trigger_keys()
    assert {"trigger_conf_version", "event_id", "image_uri", "s3_uri", "model_package_arn", "detail"} <= keys
    for where, definition in definitions(written):
        params = only_dag(definition)["params"]
        assert set(params) == keys, where
        assert set(params.values()) == {None}, f"{where}: flat params, null by default"


def test_each_definition_is_well_below_the_service_s_size_limit(written):
    for where, definition in definitions(written):
        size = len(uploaded(definition).encode())
        assert size <= DEFINITION_BYTES, f"{where}: {size} bytes"
        assert size <= DEFINITION_BYTES * 0.6, f"{where}: {size} bytes leaves little room for longer names"


def test_no_text_the_loader_would_change(written):
    """dag-factory expands `$VAR` in the file and casts mappings with `__type__`."""
    for where, definition in definitions(written):
        text = uploaded(definition)
        assert "$" not in text and "__type__" not in text and "__and__" not in text, where


EXPECTED_TASKS = {
    "training": [
        "resolve_run",
        "preprocess",
        "wait_for_preprocessing",
        "start_training",
        "wait_for_training",
        "train",
        "evaluate",
        "wait_for_evaluation",
        "quality_gate",
        "register",
    ],
    "deployment": [
        "resolve_package",
        "create_model",
        "create_endpoint_config",
        "deploy_endpoint",
        "wait_for_endpoint",
        "verify_endpoint",
    ],
}


def test_dag_factory_builds_each_definition_into_the_pipeline_s_dag(written, airflow_db, tmp_path: Path):
    from airflow.providers.standard.operators.python import PythonOperator
    from cdk_mwaa_mlops.config import parse_config

    for pipeline in written:
        for kind in ("training", "deployment"):
            if pipeline[kind] is None:
                continue
            dag = load_workflow(pipeline[kind], tmp_path)
            expected = EXPECTED_TASKS[kind] + (
                ["start_deployment"] if "start_deployment" in only_dag(pipeline[kind])["tasks"] else []
            )
            assert [t.task_id for t in dag.topological_sort()] == expected
            assert dag.schedule is None or str(dag.timetable.summary) in ("None", "Never, external triggers only")
            for task in dag.tasks:
                assert task.execution_timeout.total_seconds() <= EXECUTION_TIMEOUT_SECONDS
                if isinstance(task, PythonOperator):
                    module = import_module("cdk_mwaa_mlops.serverless")
                    assert task.python_callable is getattr(module, task.task_id)
                    assert (
                        parse_config("definition", task.op_kwargs["config"]).pipeline_name == pipeline["config"]["pipeline_name"]
                    )
                else:
                    assert task.retries == RETRIES and task.mode == "poke"
    auto = next(p for p in written if p["config"]["pipeline_name"] == "churn")
    assert (
        only_dag(auto["training"])["tasks"]["start_deployment"]["op_kwargs"]["deployment_workflow_arn"]
        == auto["deploymentWorkflowArn"]
    )
    assert next(p for p in written if p["config"]["pipeline_name"] == "ledger")["deployment"] is None
