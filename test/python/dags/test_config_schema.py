"""The config's shape is defined once, in pipeline_config.schema.json: config.py (the DAGs' reader) must accept
exactly what the schema accepts. ModelWorkflow's writer is checked against the same schema in
test/python/dags/test_workflow_e2e.py (the configs of test/ml/apps/workflow-e2e-app.ts) and
test/python/dags/test_example_dag_configs.py (the example app's), so the two halves cannot drift."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from cdk_mwaa_mlops.config import ConfigError, parse_config
from test_config import BAD_VALUES, FIXTURES, MINIMAL, with_change

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "assets" / "dags" / "cdk_mwaa_mlops" / "pipeline_config.schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

#: every key the schema knows, each with a valid value that is not the default
EVERY_KEY = {
    "config_version": 1,
    "pipeline_name": "every-key",
    "aws_conn_id": "aws_mlops",
    "notification_topic_arn": "arn:aws:sns:eu-west-1:123456789012:alerts",
    "max_active_runs": 3,
    "retries": 4,
    "poll_interval_seconds": 30,
    "data": {
        "bucket": "ml.data-bucket",
        "raw_prefix": "in/raw/",
        "processed_prefix": "in/processed/",
        "artifacts_prefix": "out/",
        "checkpoints_prefix": "ckpt/",
        "kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    },
    "preprocessing": {
        "glue_job_name": "every.key-preprocess",
        "script_prefix": "s3://ml-code/pre/",
        "seed": 7,
        "train_fraction": 0.6,
        "validation_fraction": 0.2,
    },
    "training": {
        "image_repository_name": "team/every-key",
        "role_arn": "arn:aws:iam::123456789012:role/path/every-key",
        "instance_type": "ml.c5.2xlarge",
        "instance_count": 2,
        "volume_size_gb": 50,
        "max_runtime_seconds": 7200,
        "hyperparameters": {"C": "0.5"},
        "spot": {"max_wait_seconds": 10800},
    },
    "evaluation": {"instance_type": "ml.c5.xlarge", "metric": "f1", "threshold": 0.5, "comparison": "LessThanOrEqualTo"},
    "registry": {"model_package_group_name": "every-key-models", "auto_approve": True},
    "deployment": {
        "mode": "real_time",
        "endpoint_name": "every-key",
        "instance_type": "ml.c5.large",
        "initial_instance_count": 3,
        "termination_wait_seconds": 60,
        "rollback_alarm_names": ["a", "b"],
        "serverless_memory_mb": 4096,
        "serverless_max_concurrency": 20,
        "traffic_shifting": {"type": "LINEAR", "step_percent": 20, "wait_seconds": 120},
    },
}


#: rules between two fields that JSON Schema cannot state: config.py alone enforces them (and ModelWorkflow at synth)
CROSS_FIELD_RULES = {
    ("preprocessing.train_fraction", "0.9"),  # train + validation fractions below 1
    ("training.spot", "{'max_wait_seconds': 600}"),  # spot max wait at least the max runtime
}


def schema_errors(document: dict) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(document)]


def leaf_paths(value: dict, prefix: str = "") -> list[str]:
    paths = []
    for key, item in value.items():
        if isinstance(item, dict) and key not in ("hyperparameters",):
            paths += leaf_paths(item, f"{prefix}{key}.")
        else:
            paths.append(prefix + key)
    return paths


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("document", [MINIMAL, EVERY_KEY], ids=["minimal", "every-key"])
def test_what_the_schema_accepts_config_py_accepts(document):
    assert schema_errors(document) == []
    parse_config("doc.json", document)


def test_every_key_of_the_schema_reaches_the_parsed_config_with_its_value():
    config = parse_config("doc.json", EVERY_KEY)
    assert (config.checkpoints_prefix, config.spot_max_wait_seconds, config.aws_conn_id) == ("ckpt/", 10800, "aws_mlops")
    assert (config.traffic_shifting.type, config.traffic_shifting.step_percent) == ("LINEAR", 20)
    assert config.glue_job_name == "every.key-preprocess" and config.comparison == "LessThanOrEqualTo"


@pytest.mark.parametrize("path", leaf_paths(EVERY_KEY))
def test_a_key_config_py_does_not_know_is_unknown_to_the_schema_too(path):
    """Renaming each key: both sides refuse it, so a key added to one side only fails here."""
    document = copy.deepcopy(EVERY_KEY)
    *parents, last = path.split(".")
    target = document
    for key in parents:
        target = target[key]
    target[last + "_x"] = target.pop(last)
    assert schema_errors(document), f"the schema accepts {last}_x"
    with pytest.raises(ConfigError):
        parse_config("doc.json", document)


@pytest.mark.parametrize("path, value, message", BAD_VALUES)
def test_what_config_py_refuses_the_schema_refuses(path, value, message):
    document = with_change(path, value)
    with pytest.raises(ConfigError):
        parse_config("doc.json", document)
    if (path, repr(value)) in CROSS_FIELD_RULES:
        assert schema_errors(document) == [], "a rule the schema can express belongs in the schema"
    else:
        assert schema_errors(document), f"{path}={value!r} passes the schema"


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_the_fixture_configs_are_schema_valid(fixture):
    assert schema_errors(json.loads(fixture.read_text())) == []


def test_a_registry_only_pipeline_needs_no_endpoint_and_others_do():
    registry_only = with_change("deployment", {"mode": "none"})
    assert schema_errors(registry_only) == []
    assert schema_errors(with_change("deployment", {"mode": "serverless"}))
