"""What drift detection adds to the DAGs, as built: the endpoint config's capture, the training DAG's cool-down and
baseline job and what registration records, and the drift DAG (only for a config with drift), parsed from the DAG
file in a real Airflow 3."""

from __future__ import annotations

import json
import shutil

import pytest
from cdk_mwaa_mlops.config import parse_config
from drift_config import IMAGE, SCRIPT, watch_config

KMS = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::123456789012:role/watch-sagemaker"


def pulled(task_id: str, key: str) -> str:
    return f"{{{{ ti.xcom_pull(task_ids={task_id!r})[{key!r}] }}}}"


@pytest.fixture(scope="module")
def config():
    return parse_config("watch.json", watch_config())


@pytest.fixture(scope="module")
def bag(airflow_db, tmp_path_factory):
    """The shipped DAG file parsed with the fixture configs and watch.json (drift) in its config folder."""
    from dag_parsing import bundle_dag_bag

    folder = tmp_path_factory.mktemp("bundle") / "dags"
    shutil.copytree(airflow_db, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "cdk_mwaa_mlops_pipelines" / "watch.json").write_text(json.dumps(watch_config()))
    return bundle_dag_bag(folder, folder)


def test_the_dag_file_builds_a_drift_dag_only_for_a_config_with_drift(bag):
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {
        "churn_training",
        "churn_deployment",
        "fraud_training",
        "fraud_deployment",
        "watch_training",
        "watch_deployment",
        "watch_drift",
    }


def test_the_drift_dag_runs_only_when_triggered_one_at_a_time_with_the_pipeline_s_defaults(bag):
    dag = bag.get_dag("watch_drift")
    assert type(dag.timetable).__name__ == "NullTimetable"  # the trigger starts it on the drift schedule
    assert (dag.catchup, dag.max_active_runs) == (False, 1)
    assert {"cdk-mwaa-mlops", "watch", "drift"} <= set(dag.tags)
    assert sorted(dag.task_ids) == ["drift_check", "resolve_drift"]
    assert set(dag.get_task("resolve_drift").downstream_task_ids) == {"drift_check"}
    check = dag.get_task("drift_check")
    assert type(check).__name__ == "SageMakerProcessingOperator"
    assert (check.deferrable, check.wait_for_completion, check.action_if_job_exists) == (True, True, "timestamp")
    assert check.retries == 0 and check.retry_exponential_backoff
    (notifier,) = check.on_failure_callback
    assert notifier.target_arn == "arn:aws:sns:eu-west-1:123456789012:mlops-alerts"


def test_with_drift_the_training_dag_cools_down_first_and_writes_the_baseline_beside_training(bag):
    dag = bag.get_dag("watch_training")
    cool_down = dag.get_task("cool_down")
    assert cool_down.upstream_task_ids == set() and cool_down.downstream_task_ids == {"resolve_run"}
    assert type(cool_down).__name__ in ("ShortCircuitOperator", "_ShortCircuitDecoratedOperator")
    assert cool_down.ignore_downstream_trigger_rules is True  # a cooling-down run skips every task after it
    assert [t.task_id for t in dag.tasks if not t.upstream_task_ids] == ["cool_down"]  # every task comes after it
    baseline = dag.get_task("drift_baseline")
    assert baseline.upstream_task_ids == {"preprocess"} and baseline.downstream_task_ids == {"register"}
    assert dag.get_task("register").upstream_task_ids == {"quality_gate", "drift_baseline"}
    assert dag.get_task("preprocess").downstream_task_ids == {"train", "drift_baseline"}
    assert type(baseline).__name__ == "SageMakerProcessingOperator" and baseline.deferrable is True


def test_without_drift_the_training_dag_has_neither(bag):
    assert not {"cool_down", "drift_baseline"} & set(bag.get_dag("churn_training").task_ids)


def test_the_endpoint_config_captures_inputs_and_outputs_to_the_capture_prefix_encrypted(config):
    from cdk_mwaa_mlops.deployment import endpoint_config_spec

    spec = endpoint_config_spec(config)
    assert spec["DataCaptureConfig"] == {
        "EnableCapture": True,
        "InitialSamplingPercentage": 50,
        "DestinationS3Uri": "s3://ml-data/capture/watch/",
        "KmsKeyId": KMS,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
    }
    without = parse_config("churn.json", {**watch_config(), "drift": None})
    assert "DataCaptureConfig" not in endpoint_config_spec(without)


def test_the_baseline_job_samples_the_training_split_into_the_run_s_artifacts(config):
    from cdk_mwaa_mlops.drift import baseline_job_config

    job = baseline_job_config(config)
    assert job["ProcessingJobName"] == pulled("resolve_run", "baseline_job_name")
    assert job["RoleArn"] == ROLE
    assert job["AppSpecification"] == {
        "ImageUri": IMAGE,
        "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/drift_check.py"],
        "ContainerArguments": [
            "baseline",
            "--train",
            "/opt/ml/processing/input/train",
            "--output",
            "/opt/ml/processing/output/baseline.csv",
            "--sample-rows",
            "5000",
        ],
    }
    inputs = {i["InputName"]: i["S3Input"] for i in job["ProcessingInputs"]}
    assert inputs["code"]["S3Uri"] == SCRIPT and inputs["code"]["LocalPath"] == "/opt/ml/processing/input/code"
    assert inputs["train"]["S3Uri"] == pulled("resolve_run", "processed_uri") + "train/"
    assert inputs["train"]["LocalPath"] == "/opt/ml/processing/input/train"
    (output,) = job["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["S3Uri"] == pulled("resolve_run", "baseline_output_uri")
    assert output["S3Output"]["LocalPath"] == "/opt/ml/processing/output"
    assert job["ProcessingOutputConfig"]["KmsKeyId"] == KMS
    assert job["ProcessingResources"]["ClusterConfig"] == {
        "InstanceCount": 1,
        "InstanceType": "ml.m5.xlarge",
        "VolumeSizeInGB": 30,
        "VolumeKmsKeyId": KMS,
    }
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}
    assert job["NetworkConfig"] == {"EnableNetworkIsolation": True}


def test_the_training_run_names_the_baseline_job_and_registration_records_the_baseline(config):
    from cdk_mwaa_mlops.training import registration_extras, resolve_training_run

    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/watch-model@sha256:" + "a" * 64
    resolved = resolve_training_run(config, {"image_uri": image, "image_tag": "c0ffee1"}, "watch_training", "run-1")
    artifacts = resolved["training_output_uri"].removesuffix("training/")
    assert resolved["baseline_job_name"] == "watch-base-" + resolved["training_job_name"].removeprefix("watch-train-")
    assert resolved["baseline_output_uri"] == f"{artifacts}drift/"
    assert resolved["drift_baseline_uri"] == f"{artifacts}drift/baseline.csv"
    properties = registration_extras(config)["CustomerMetadataProperties"]
    assert properties["drift_baseline_uri"] == pulled("resolve_run", "drift_baseline_uri")

    plain = parse_config("churn.json", {**watch_config(), "drift": None})
    assert "drift_baseline_uri" not in registration_extras(plain)["CustomerMetadataProperties"]
    assert "baseline_job_name" not in resolve_training_run(
        plain, {"image_uri": image, "image_tag": "c0ffee1"}, "watch_training", "run-1"
    )


def test_the_drift_check_job_compares_the_resolved_captures_with_the_baseline_and_publishes_metrics(config):
    from cdk_mwaa_mlops.drift import drift_check_job_config

    job = drift_check_job_config(config)
    assert job["ProcessingJobName"] == pulled("resolve_drift", "job_name")
    assert job["RoleArn"] == ROLE  # the pipeline's SageMaker role
    app = job["AppSpecification"]
    assert (app["ImageUri"], app["ContainerEntrypoint"]) == (IMAGE, ["python3", "/opt/ml/processing/input/code/drift_check.py"])
    assert app["ContainerArguments"] == [
        "check",
        "--since",
        pulled("resolve_drift", "since"),
        "--psi-threshold",
        "0.25",
        "--ks-alpha",
        "0.01",
        "--min-rows",
        "50",
        "--publish-metrics",
        "--metric-namespace",
        "CdkMwaaMlops/Drift/watch",
        "--dimension",
        "Pipeline=watch",
        "--dimension",
        "Endpoint=watch",
        "--region",
        pulled("resolve_drift", "region"),
    ]
    inputs = {i["InputName"]: (i["S3Input"]["S3Uri"], i["S3Input"]["LocalPath"]) for i in job["ProcessingInputs"]}
    assert inputs == {
        "code": (SCRIPT, "/opt/ml/processing/input/code"),
        "baseline": (pulled("resolve_drift", "baseline_uri"), "/opt/ml/processing/input/baseline"),
        "capture": (pulled("resolve_drift", "capture_uri"), "/opt/ml/processing/input/capture"),
    }
    (output,) = job["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["S3Uri"] == pulled("resolve_drift", "report_uri")
    assert "NetworkConfig" not in job  # PutMetricData needs the network
    assert {"Key": "cdk-mwaa-mlops:dag", "Value": "watch_drift"} in job["Tags"]


def test_a_run_the_alarm_did_not_start_goes_on_without_asking_sagemaker(config, monkeypatch):
    import cdk_mwaa_mlops.drift as drift

    monkeypatch.setattr(drift, "aws_client", lambda *a: pytest.fail("no AWS call for a run the alarm did not start"))
    for conf in (None, {}, {"source_kind": "ecr_image_push"}, {"source_kind": "schedule"}):
        go_on, reason = drift.cool_down_verdict(config, conf)
        assert go_on is True and "not started by the drift alarm" in reason
    off = parse_config("watch.json", watch_config(cool_down_seconds=0))
    assert drift.cool_down_verdict(off, {"source_kind": "cloudwatch_alarm"})[0] is True
