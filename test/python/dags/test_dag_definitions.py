"""The DAG file imports cleanly in a real Airflow 3 with the Amazon provider and builds the designed DAGs."""

from __future__ import annotations

import socket
from itertools import pairwise
from pathlib import Path

import pytest

EXPECTED_DAGS = {"churn_training", "churn_deployment", "fraud_training", "fraud_deployment"}
TRAINING_CHAIN = ["resolve_run", "preprocess", "train", "evaluate", "quality_gate", "register"]
DEPLOYMENT_CHAIN = ["resolve_package", "create_model", "create_endpoint_config", "deploy_endpoint", "verify_endpoint"]


def downstream(dag, task_id: str) -> set[str]:
    return set(dag.get_task(task_id).downstream_task_ids)


def test_the_dag_file_imports_without_errors_and_builds_two_dags_per_config(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED_DAGS


def test_parsing_makes_no_network_calls(airflow_db, monkeypatch):
    from dag_parsing import dag_bag_class

    DagBag = dag_bag_class()

    def refuse(*args, **kwargs):
        raise AssertionError(f"network call at parse time: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    bag = DagBag(str(airflow_db))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == EXPECTED_DAGS


def test_an_argument_the_environment_refuses_is_an_import_error_naming_the_config_and_the_versions(
    airflow_db, tmp_path, monkeypatch
):
    """As GlueJobOperator refused `resume_glue_job_on_retry` on MWAA 3.0.6: the DAG file's import error says what to fix."""
    import shutil
    from importlib.metadata import version

    import cdk_mwaa_mlops.training as training
    from dag_parsing import dag_bag_class

    class RefusingOperator(training.PreprocessOperator):
        def __init__(self, **kwargs):
            raise TypeError(
                "Invalid arguments were passed to GlueJobOperator (task_id: preprocess). Invalid arguments were:\n"
                "**kwargs: {'resume_glue_job_on_retry': True}"
            )

    monkeypatch.setattr(training, "PreprocessOperator", RefusingOperator)
    folder = tmp_path / "dags"
    shutil.copytree(airflow_db, folder, ignore=shutil.ignore_patterns("__pycache__"))
    bag = dag_bag_class()(str(folder))
    assert not bag.dag_ids
    ((path, message),) = bag.import_errors.items()
    assert path.endswith("cdk_mwaa_mlops_dags.py")
    assert "churn.json: the DAGs of pipeline 'churn' cannot be built on this environment" in message
    assert f"(Airflow {version('apache-airflow')}, Amazon provider {version('apache-airflow-providers-amazon')})" in message
    assert "Invalid arguments were: **kwargs: {'resume_glue_job_on_retry': True}" in message.replace("\n", " ")
    assert "supports Airflow 3.0.6, 3.2.1 and 3.3.1" in message


@pytest.mark.parametrize("pipeline", ["churn", "fraud"])
def test_every_dag_runs_only_when_triggered_with_bounded_concurrency(dagbag, pipeline):
    for kind in ("training", "deployment"):
        dag = dagbag.get_dag(f"{pipeline}_{kind}")
        assert type(dag.timetable).__name__ == "NullTimetable"  # schedule=None: runs only when triggered
        assert dag.catchup is False
        assert dag.max_active_runs == 1
        assert {"cdk-mwaa-mlops", pipeline, kind} <= set(dag.tags)


def test_the_training_dag_is_a_chain_from_data_to_registry_then_deployment_when_auto_approved(dagbag):
    churn = dagbag.get_dag("churn_training")
    for before, after in pairwise(TRAINING_CHAIN):
        assert downstream(churn, before) == {after} | ({"deployment_request"} if before == "register" else set())
    assert downstream(churn, "register") == {"deployment_request"}
    assert downstream(churn, "deployment_request") == {"start_deployment"}
    assert churn.get_task("start_deployment").trigger_dag_id == "churn_deployment"

    fraud = dagbag.get_dag("fraud_training")
    assert sorted(fraud.task_ids) == sorted(TRAINING_CHAIN)  # manual approval: a person approves, the event deploys
    assert downstream(fraud, "register") == set()


def test_the_deployment_dag_is_a_chain_from_package_to_verified_endpoint(dagbag):
    dag = dagbag.get_dag("churn_deployment")
    assert sorted(dag.task_ids) == sorted(DEPLOYMENT_CHAIN)
    for before, after in pairwise(DEPLOYMENT_CHAIN):
        assert downstream(dag, before) == {after}


def test_long_running_steps_are_deferrable_so_they_hold_no_worker_slot(dagbag):
    training, deployment = dagbag.get_dag("churn_training"), dagbag.get_dag("churn_deployment")
    for task in (
        training.get_task("preprocess"),
        training.get_task("train"),
        training.get_task("evaluate"),
        deployment.get_task("deploy_endpoint"),
    ):
        assert task.deferrable is True, task.task_id


def test_a_retried_preprocess_task_resumes_the_glue_run_on_every_provider(dagbag):
    from airflow.providers.amazon import __version__ as provider
    from cdk_mwaa_mlops.compat import GLUE_RESUMES_ON_RETRY, PreprocessOperator
    from packaging.version import Version

    preprocess = dagbag.get_dag("churn_training").get_task("preprocess")
    assert isinstance(preprocess, PreprocessOperator)
    # The provider resumes by itself from 9.25.0 (MWAA 3.2.1); 9.12.0 (MWAA 3.0.6) has no such argument, and the
    # operator does it instead (test_dag_runs.py runs that retry on every version).
    assert GLUE_RESUMES_ON_RETRY is (Version(provider) >= Version("9.25.0"))
    if GLUE_RESUMES_ON_RETRY:
        assert preprocess.resume_glue_job_on_retry is True


def test_tasks_retry_with_backoff_and_notify_the_topic_on_failure(dagbag):
    churn = dagbag.get_dag("churn_training")
    task = churn.get_task("train")
    assert task.retries == 0  # the fixture config sets retries: 0 (tests must not wait); the default is 2
    assert task.retry_exponential_backoff
    (notifier,) = task.on_failure_callback
    assert notifier.target_arn == "arn:aws:sns:eu-west-1:123456789012:mlops-alerts"
    assert not dagbag.get_dag("fraud_training").get_task("train").on_failure_callback


def test_params_are_typed(dagbag):
    from airflow.sdk.definitions.param import ParamsDict

    training = dagbag.get_dag("churn_training").params
    deployment = dagbag.get_dag("churn_deployment").params
    assert set(training.keys()) == {"image_uri", "image_tag", "s3_uri"}
    assert set(deployment.keys()) == {"model_package_arn"}
    ok = {
        "image_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-model@sha256:" + "a" * 64,
        "image_tag": "abc123",
        "s3_uri": "s3://b/k.csv",
    }
    ParamsDict({k: v for k, v in training.items()}).validate()
    checked = ParamsDict(dict(training.items()))
    for key, value in ok.items():
        checked[key] = value
    checked.validate()
    with pytest.raises(Exception, match="image_uri"):
        bad = ParamsDict(dict(training.items()))
        bad["image_uri"] = "churn-model:latest"
        bad.validate()


def test_training_runs_the_image_by_digest_with_network_isolation_and_the_configured_resources(dagbag):
    config = dagbag.get_dag("churn_training").get_task("train").config
    assert config["AlgorithmSpecification"]["TrainingImage"] == "{{ ti.xcom_pull(task_ids='resolve_run')['image_uri'] }}"
    assert config["EnableNetworkIsolation"] is True
    assert config["ResourceConfig"] == {
        "InstanceType": "ml.m5.xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
        "VolumeKmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    }
    assert config["HyperParameters"] == {"C": "0.5"}
    assert [c["ChannelName"] for c in config["InputDataConfig"]] == ["train", "validation"]


@pytest.mark.newest_only  # imports the starter's training code (scikit-learn)
def test_the_metric_definitions_read_what_the_starter_training_prints(dagbag):
    import re
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "assets" / "starter"))
    try:
        from model.train import metric_lines
    finally:
        sys.path.pop(0)
    printed = metric_lines({"binary_classification_metrics": {"auc": {"value": 0.98765432}, "f1": {"value": 1e-7}}})
    definitions = dagbag.get_dag("churn_training").get_task("train").config["AlgorithmSpecification"]["MetricDefinitions"]
    by_name = {d["Name"]: re.compile(d["Regex"]) for d in definitions}
    log = "\n".join(["epoch 1", *printed])
    assert float(by_name["validation:auc"].search(log).group(1)) == 0.987654
    assert float(by_name["validation:f1"].search(log).group(1)) == 0.0


def test_the_deployment_shifts_traffic_blue_green_with_alarm_rollback_or_goes_serverless(dagbag):
    churn = dagbag.get_dag("churn_deployment").get_task("deploy_endpoint").config
    assert churn["DeploymentConfig"] == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "LINEAR",
                "WaitIntervalInSeconds": 120,
                "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
            },
            "TerminationWaitInSeconds": 300,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-5xx"}, {"AlarmName": "churn-latency"}]},
    }
    fraud_config = dagbag.get_dag("fraud_deployment").get_task("create_endpoint_config").config
    (variant,) = fraud_config["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 5}
    assert "InstanceType" not in variant
    assert "DeploymentConfig" not in dagbag.get_dag("fraud_deployment").get_task("deploy_endpoint").config


def test_after_the_processors_pre_import_a_parse_imports_no_provider_module(airflow_db):
    """The DAG file names the provider modules its builders use, so the DAG processor imports them once, not per parse."""
    import subprocess
    import sys

    child = (
        "import sys, structlog\n"
        "from pathlib import Path\n"
        "from airflow.dag_processing.processor import _pre_import_airflow_modules\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from dag_parsing import bundle_dag_bag\n"
        "path = sys.argv[1]\n"
        "_pre_import_airflow_modules(path, structlog.get_logger())\n"
        "before = set(sys.modules)\n"
        "bag = bundle_dag_bag(sys.argv[2], Path(path).parent)  # as the DAG processor\n"
        "assert bag.process_file(path) and not bag.import_errors, bag.import_errors\n"
        "new = set(sys.modules) - before\n"
        "print(sorted(m for m in new if m.startswith(('airflow.providers.amazon', 'boto'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", child, str(airflow_db / "cdk_mwaa_mlops_dags.py"), str(airflow_db / "cdk_mwaa_mlops_pipelines")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
