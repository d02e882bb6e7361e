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

import pytest
from workflows import (
    ALLOWLIST,
    DEFINITION_BYTES,
    EXECUTION_TIMEOUT_SECONDS,
    JINJA_ROOTS,
    RETRIES,
    ROOT,
    jinja_roots,
    load_workflow,
    pipeline_inputs,
    strings,
    uploaded,
    violations,
    with_drift,
    write_definitions,
)

FIXTURES = ROOT / "test" / "fixtures" / "pipelines"
TRIGGER_REQUEST = ROOT / "src" / "trigger" / "runtime" / "dag-run-request.ts"
ALLOWED = set(ALLOWLIST["operators"]) | set(ALLOWLIST["code_package_operators"])
KINDS = ("training", "deployment", "drift")


@pytest.fixture(scope="module")
def written() -> list[dict[str, Any]]:
    """The definitions of the fixture pipelines: churn (real-time, auto-approved) and fraud, and fraud as a
    registry-only pipeline and with a serverless endpoint, and churn with drift detection."""
    churn, fraud = (json.loads((FIXTURES / f"{name}.json").read_text()) for name in ("churn", "fraud"))
    registry_only = {**fraud, "pipeline_name": "ledger", "deployment": {"mode": "none"}}
    serverless = {**fraud, "pipeline_name": "fraudsl", "deployment": {"mode": "serverless", "endpoint_name": "fraud-sl"}}
    drifting = with_drift({**churn, "pipeline_name": "churnd"})
    configs = {"churn": churn, "fraud": fraud, "ledger": registry_only, "fraudsl": serverless, "churnd": drifting}
    return write_definitions([pipeline_inputs(name, config) for name, config in configs.items()])


def definitions(written: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for pipeline in written:
        for kind in KINDS:
            if pipeline[kind] is not None:
                yield f"{pipeline['trainingWorkflowName']}/{kind}", pipeline[kind]


def only_dag(definition: dict[str, Any]) -> dict[str, Any]:
    (dag,) = definition.values()
    return dag


def test_jinja_roots_are_read_from_the_parse_tree():
    assert jinja_roots("{{ ti.xcom_pull(task_ids='a')['b'] }}-{{ params.x }}") == {"ti", "params"}
    assert jinja_roots("{{ dag_run.conf['x'] }} {{ run_id }}") == {"dag_run", "run_id"}
    assert jinja_roots("{% for k in params %}{{ k }}{% endfor %}") == {"params"}
    assert jinja_roots("no template here") == set()


def test_every_operator_is_on_the_service_allowlist(written):
    used = {task["operator"] for _, definition in definitions(written) for task in only_dag(definition)["tasks"].values()}
    # PythonOperator only with a code package: the construct ships one (SERVERLESS_CODE_DIRECTORY).
    assert used & set(ALLOWLIST["code_package_operators"]) == {"airflow.providers.standard.operators.python.PythonOperator"}
    assert len(used) == 5


@pytest.mark.parametrize("rule", ["allowlist", "limits", "jinja", "size", "loader"])
def test_every_definition_keeps_the_service_s_rule(written, rule):
    for where, definition in definitions(written):
        assert [v for v in violations(definition) if v.startswith(f"{rule}:")] == [], where


def test_the_rule_check_finds_what_breaks_each_rule(written):
    churn = json.loads(json.dumps(next(d for w, d in definitions(written) if w == "churn-training/training")))
    tasks = only_dag(churn)["tasks"]
    tasks["resolve_run"]["operator"] = "airflow.providers.standard.operators.python.BranchPythonOperator"
    tasks["preprocess"].update(retries=4, retry_delay=600, execution_timeout=7200)
    tasks["wait_for_training"].update(deferrable=True)
    tasks["train"]["op_kwargs"]["note"] = "{{ dag_run.conf['x'] }} ${HOME}" + "x" * DEFINITION_BYTES
    assert sorted({v.split(":", 1)[0] for v in violations(churn)}) == ["allowlist", "jinja", "limits", "loader", "size"]
    assert len([v for v in violations(churn) if v.startswith("limits:")]) == 4


def test_the_templates_the_steps_render_read_only_what_the_service_renders(written):
    """The step callables render the builders' templates with the task's context: the same rule holds for them."""
    from cdk_mwaa_mlops import deployment, drift, training
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
        if config.drift:
            built += [drift.baseline_arguments(config), drift.drift_check_arguments(config)]
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
        "cloudwatch_alarm",
    }


def test_every_key_the_trigger_sends_is_a_flat_parameter_of_every_workflow(written):
    keys = trigger_keys()
    assert {"trigger_conf_version", "event_id", "image_uri", "s3_uri", "model_package_arn", "detail"} <= keys
    assert {"alarm_name", "alarm_arn", "alarm_state_time", "schedule_rule_arn", "scheduled_time"} <= keys
    for where, definition in definitions(written):
        params = only_dag(definition)["params"]
        assert set(params) == keys, where
        assert set(params.values()) == {None}, f"{where}: flat params, null by default"


def test_each_definition_leaves_room_below_the_service_s_size_limit(written):
    for where, definition in definitions(written):
        assert len(uploaded(definition).encode()) <= DEFINITION_BYTES * 0.6, f"{where}: little room for longer names"


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
    "drift": ["resolve_drift", "drift_check", "wait_for_drift_check"],
}


def test_dag_factory_builds_each_definition_into_the_pipeline_s_dag(written, airflow_db, tmp_path: Path):
    from airflow.providers.standard.operators.python import PythonOperator
    from cdk_mwaa_mlops.config import parse_config

    for pipeline in written:
        for kind in KINDS:
            if pipeline[kind] is None:
                continue
            dag = load_workflow(pipeline[kind], tmp_path)
            expected = EXPECTED_TASKS[kind] + (
                ["start_deployment"] if "start_deployment" in only_dag(pipeline[kind])["tasks"] else []
            )
            order = [t.task_id for t in dag.topological_sort()]
            if kind == "training" and "drift" in pipeline["config"]:
                assert [t for t in order if t not in ("drift_baseline", "wait_for_baseline")] == ["cool_down", *expected]
                assert order.index("wait_for_preprocessing") < order.index("drift_baseline") < order.index("wait_for_baseline")
                assert dag.get_task("register").upstream_task_ids == {"quality_gate", "wait_for_baseline"}
            else:
                assert order == expected
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
    assert [p["config"]["pipeline_name"] for p in written if p["drift"] is not None] == ["churnd"]
