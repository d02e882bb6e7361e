"""Pipeline configs: defaults, and a clear error naming the file, the key and the value for each bad one."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from cdk_mwaa_mlops.config import ConfigError, load_configs, parse_config

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pipelines"
MINIMAL = {
    "config_version": 1,
    "pipeline_name": "demo",
    "data": {"bucket": "ml-data"},
    "preprocessing": {"glue_job_name": "demo-preprocess", "script_prefix": "s3://ml-code/preprocessing/"},
    "training": {"image_repository_name": "demo-model", "role_arn": "arn:aws:iam::123456789012:role/demo"},
    "evaluation": {"threshold": 0.8},
    "registry": {"model_package_group_name": "demo-models"},
    "deployment": {"endpoint_name": "demo"},
}


def with_change(path: str, value) -> dict:
    document = copy.deepcopy(MINIMAL)
    *parents, last = path.split(".")
    target = document
    for key in parents:
        target = target.setdefault(key, {})
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return document


def test_a_minimal_config_gets_safe_defaults():
    config = parse_config("demo.json", MINIMAL)
    assert (config.training_dag_id, config.deployment_dag_id) == ("demo_training", "demo_deployment")
    assert config.max_active_runs == 1 and config.retries == 2
    assert config.auto_approve is False  # a person approves unless the pipeline says otherwise
    assert config.mode == "real_time"
    assert (config.traffic_shifting.type, config.traffic_shifting.step_percent) == ("CANARY", 10)
    assert (config.metric, config.comparison) == ("auc", "GreaterThanOrEqualTo")
    assert config.notification_topic_arn is None


def test_the_fixture_configs_load_in_file_order():
    assert [c.pipeline_name for c in load_configs(FIXTURES)] == ["churn", "fraud"]


BAD_VALUES = [
    ("config_version", 2, "config_version is not supported by these DAGs (they read version 1) (got 2)"),
    ("pipeline_name", "Demo_1", r"pipeline_name must match"),
    ("pipeline_name", "a" * 25, "pipeline_name must be at most 24 characters"),
    ("data", ..., "data is required"),
    ("data.bucket", "s3://ml-data", "data.bucket must match"),
    ("preprocessing.script_prefix", "s3://ml-code/preprocessing", "preprocessing.script_prefix must match"),
    ("preprocessing.train_fraction", 0.9, "preprocessing.validation_fraction plus train_fraction must be below 1"),
    ("training.role_arn", "demo-role", "training.role_arn must match"),
    ("training.instance_count", "2", "training.instance_count must be int"),
    ("training.instance_count", True, "training.instance_count must be int"),
    ("training.hyperparameters", {"C": 0.5}, "training.hyperparameters must map names to strings"),
    ("evaluation.threshold", ..., "evaluation.threshold is required"),
    (
        "evaluation.comparison",
        "GreaterThan",
        "evaluation.comparison must be one of ['GreaterThanOrEqualTo', 'LessThanOrEqualTo']",
    ),
    ("registry.auto_approve", "yes", "registry.auto_approve must be bool"),
    ("deployment.mode", "batch", "deployment.mode must be one of ['real_time', 'serverless', 'none']"),
    ("deployment.endpoint_name", ..., "deployment.endpoint_name is required"),
    ("deployment.serverless_memory_mb", 1000, "deployment.serverless_memory_mb must be one of"),
    (
        "deployment.traffic_shifting",
        {"type": "CANARY", "step_percent": 60},
        "deployment.traffic_shifting.step_percent must be between 1 and 50",
    ),
    (
        "deployment.traffic_shifting",
        {"type": "LINEAR", "step_percent": 5},
        "deployment.traffic_shifting.step_percent must be between 10 and 50 for LINEAR traffic shifting",
    ),
    ("training.spot", {"max_wait_seconds": 600}, "training.spot.max_wait_seconds must be at least training.max_runtime"),
    ("training.spot", {}, "training.spot.max_wait_seconds is required"),
    ("data.checkpoints_prefix", "/checkpoints", "data.checkpoints_prefix must match"),
    ("deployment.rollback_alarm_names", ["a"] * 11, "deployment.rollback_alarm_names must be a list of at most 10"),
    ("deployment.endpoint_nmae", "typo", "unknown key(s) ['endpoint_nmae'] in deployment"),
    ("retires", 3, "unknown key(s) ['retires']"),
]


@pytest.mark.parametrize("path, value, message", BAD_VALUES)
def test_a_bad_value_fails_with_the_file_the_key_and_what_is_allowed(path, value, message):
    with pytest.raises(ConfigError) as error:
        parse_config("demo.json", with_change(path, value))
    assert str(error.value).startswith("demo.json: ")
    assert message in str(error.value) or __import__("re").search(message, str(error.value)), str(error.value)


def test_two_configs_may_not_share_a_pipeline_name(tmp_path):
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(MINIMAL))
    with pytest.raises(ConfigError, match=r"b\.json: pipeline_name 'demo' is also used by a\.json"):
        load_configs(tmp_path)


def test_a_file_that_is_not_json_names_itself(tmp_path):
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ConfigError, match=r"broken.json: not valid JSON"):
        load_configs(tmp_path)


def test_a_bad_config_is_an_import_error_of_the_dag_file_in_airflow(airflow_db, tmp_path):
    import shutil

    from dag_parsing import dag_bag_class

    DagBag = dag_bag_class()
    folder = tmp_path / "dags"
    shutil.copytree(airflow_db, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "cdk_mwaa_mlops_pipelines" / "zz.json").write_text(json.dumps(with_change("deployment.mode", "batch")))
    bag = DagBag(str(folder))
    (message,) = bag.import_errors.values()
    assert "zz.json: deployment.mode must be one of ['real_time', 'serverless', 'none']" in message


def test_spot_training_and_a_registry_only_pipeline():
    document = with_change("training.spot", {"max_wait_seconds": 7200})
    document["deployment"] = {"mode": "none"}
    config = parse_config("demo.json", document)
    assert (config.spot_max_wait_seconds, config.checkpoints_prefix) == (7200, "checkpoints/")
    assert (config.deploys, config.endpoint_name) == (False, None)
    assert parse_config("demo.json", MINIMAL).spot_max_wait_seconds is None
