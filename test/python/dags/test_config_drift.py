"""The pipeline config's `drift` section: read into PipelineConfig.drift with its values and defaults, refused with an
error naming the key when wrong or when the pipeline cannot capture (stages, a serverless or registry-only
deployment), and config.py and pipeline_config.schema.json agree on all of it."""

from __future__ import annotations

import copy

import pytest
from cdk_mwaa_mlops.config import ConfigError, DriftConfig, parse_config
from drift_config import DRIFT, IMAGE, SCRIPT
from staged_config import staged
from test_config import MINIMAL
from test_config_schema import EVERY_KEY, schema_errors

MINIMAL_DRIFT = {
    "capture_prefix": "capture/demo/",
    "image_uri": IMAGE,
    "script_uri": SCRIPT,
    "metric_namespace": "CdkMwaaMlops/Drift/demo",
}


def with_drift(drift: dict, base: dict = MINIMAL) -> dict:
    document = copy.deepcopy(base)
    document["drift"] = copy.deepcopy(drift)
    return document


def with_drift_value(key: str, value) -> dict:
    document = with_drift(DRIFT)
    if value is ...:
        del document["drift"][key]
    else:
        document["drift"][key] = value
    return document


def test_no_drift_section_is_no_drift_detection():
    config = parse_config("demo.json", MINIMAL)
    assert config.drift is None and config.drift_dag_id is None


def test_the_drift_section_reaches_the_config_with_every_value():
    config = parse_config("demo.json", with_drift(DRIFT))
    assert config.drift == DriftConfig(
        capture_prefix="capture/watch/",
        image_uri=IMAGE,
        script_uri=SCRIPT,
        sampling_percentage=50,
        instance_type="ml.m5.xlarge",
        max_runtime_seconds=1800,
        baseline_sample_rows=5000,
        psi_threshold=0.25,
        ks_alpha=0.01,
        min_rows=50,
        cool_down_seconds=86400,
        metric_namespace="CdkMwaaMlops/Drift/watch",
    )
    assert config.drift_dag_id == "demo_drift"


def test_a_minimal_drift_section_gets_the_contract_s_defaults():
    drift = parse_config("demo.json", with_drift(MINIMAL_DRIFT)).drift
    assert (drift.sampling_percentage, drift.instance_type) == (100, "ml.m5.large")
    assert (drift.max_runtime_seconds, drift.baseline_sample_rows, drift.min_rows) == (3600, 10000, 100)
    assert (drift.psi_threshold, drift.ks_alpha, drift.cool_down_seconds) == (0.2, 0.05, 86400)


BAD_DRIFT = [
    ("capture_prefix", ..., "drift.capture_prefix is required"),
    ("metric_namespace", ..., "drift.metric_namespace is required"),
    ("image_uri", ..., "drift.image_uri is required"),
    ("script_uri", ..., "drift.script_uri is required"),
    ("capture_prefix", "capture/watch", "drift.capture_prefix must match"),
    ("capture_prefix", "", "drift.capture_prefix must match"),
    ("image_uri", "sagemaker-scikit-learn:1.4-2-cpu-py3", "drift.image_uri must match"),
    ("image_uri", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn", "drift.image_uri must match"),
    ("script_uri", "s3://ml-data/code/", "drift.script_uri must match"),
    ("script_uri", "/tmp/drift_check.py", "drift.script_uri must match"),
    ("sampling_percentage", 0, "drift.sampling_percentage must be between 1 and 100"),
    ("sampling_percentage", 101, "drift.sampling_percentage must be between 1 and 100"),
    ("sampling_percentage", 50.5, "drift.sampling_percentage must be int"),
    ("instance_type", "m5.large", "drift.instance_type must match"),
    ("max_runtime_seconds", 59, "drift.max_runtime_seconds must be between 60 and 86400"),
    ("baseline_sample_rows", 99, "drift.baseline_sample_rows must be between 100 and 1000000"),
    ("psi_threshold", 0, "drift.psi_threshold must be between 0.001 and 10"),
    ("psi_threshold", "0.2", "drift.psi_threshold must be int or float"),
    ("ks_alpha", 0.6, "drift.ks_alpha must be between 0.0001 and 0.5"),
    ("min_rows", 0, "drift.min_rows must be between 1 and 1000000"),
    ("cool_down_seconds", -1, "drift.cool_down_seconds must be between 0 and 7776000"),
    ("cool_down_seconds", True, "drift.cool_down_seconds must be int"),
    ("metric_namespace", "AWS/SageMaker", "drift.metric_namespace must match"),
    ("metric_namespace", "", "drift.metric_namespace must match"),
    # the drift DAG is always <pipeline>_drift: the construct's trigger and alarms name it so
    ("dag_id_suffix", "data_drift", "unknown key(s) ['dag_id_suffix'] in drift"),
    ("schedule", "rate(1 day)", "unknown key(s) ['schedule'] in drift"),
]


@pytest.mark.parametrize("key, value, message", BAD_DRIFT, ids=[f"{k}={v!r}" for k, v, _ in BAD_DRIFT])
def test_a_bad_drift_value_is_refused_by_config_py_and_the_schema(key, value, message):
    document = with_drift_value(key, value)
    with pytest.raises(ConfigError, match=r"^demo\.json: ") as refused:
        parse_config("demo.json", document)
    assert message in str(refused.value)
    assert schema_errors(document), f"drift.{key}={value!r} passes the schema"


@pytest.mark.parametrize(
    "document, message",
    [
        (with_drift(MINIMAL_DRIFT, {**MINIMAL, "deployment": {"mode": "serverless", "endpoint_name": "demo"}}), "'serverless'"),
        (with_drift(MINIMAL_DRIFT, {**MINIMAL, "deployment": {"mode": "none"}}), "'none'"),
        (with_drift(MINIMAL_DRIFT, staged()), "must be left out when the config has stages"),
    ],
    ids=["serverless", "registry-only", "stages"],
)
def test_drift_is_refused_where_nothing_can_capture_by_config_py_and_the_schema(document, message):
    with pytest.raises(ConfigError, match="drift") as refused:
        parse_config("demo.json", document)
    assert message in str(refused.value)
    assert schema_errors(document)


def test_real_time_drift_with_the_mode_given_or_defaulted_passes_both():
    for deployment in ({"endpoint_name": "demo"}, {"mode": "real_time", "endpoint_name": "demo"}):
        document = with_drift(MINIMAL_DRIFT, {**MINIMAL, "deployment": deployment})
        assert schema_errors(document) == []
        assert parse_config("demo.json", document).drift is not None


@pytest.mark.parametrize("key", sorted(DRIFT))
def test_every_drift_key_is_known_to_both_sides_and_a_misspelt_one_to_neither(key):
    document = with_drift(DRIFT, EVERY_KEY)
    assert schema_errors(document) == []
    parse_config("doc.json", document)
    document["drift"][key + "_x"] = document["drift"].pop(key)
    assert schema_errors(document), f"the schema accepts drift.{key}_x"
    with pytest.raises(ConfigError):
        parse_config("doc.json", document)
