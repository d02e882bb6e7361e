"""Drift detection's DAG runs with `dag.test()` in a real Airflow 3 against the moto stand-in (aws_stand_in.py), for
a pipeline with drift (drift_config.py: `watch`, real-time, auto-approved): a drift alarm's training run trains and
writes the model's baseline, which registration records on the package; a second alarm inside the cool-down trains
nothing; the deployment captures the endpoint's traffic; the drift DAG resolves the deployed package's baseline and
submits the check with the right arguments, and skips, saying why, when there is nothing to check.

moto's CreateProcessingJob runs nothing: what drift_check.py does with the inputs is proven in test/python/drift/."""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from aws_stand_in import AwsStandIn
from dag_parsing import bundle_dag_bag, store_dag, sync_to_db
from drift_config import IMAGE, SCRIPT, watch_config
from test_dag_runs import COMMIT, REGION, SAMPLE, manifest

pytestmark = pytest.mark.e2e

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/watch-sagemaker"
GROUP = "watch-models"
CAPTURE = "capture/watch/watch/AllTraffic/"
ALARM_CONF = {
    "trigger_conf_version": 1,
    "source_kind": "cloudwatch_alarm",
    "alarm_name": "watch-data-drift",
    "alarm_arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:watch-data-drift",
    "alarm_state": "ALARM",
    "alarm_previous_state": "OK",
    "alarm_reason": "Threshold Crossed: 1 datapoint [0.5] was greater than or equal to the threshold (0.3).",
    "alarm_state_time": "2026-12-05T10:00:00.000+0000",
}
CAPTURED = {
    "captureData": {
        "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "0.5,0.1\n", "encoding": "CSV"},
        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.9\n", "encoding": "CSV"},
    },
    "eventMetadata": {"eventId": "e-1", "inferenceTime": "2026-12-05T11:00:00Z"},
    "eventVersion": "0",
}


@pytest.fixture(scope="module")
def dagbag(airflow_db):
    path = airflow_db / "cdk_mwaa_mlops_pipelines" / "watch.json"
    path.write_text(json.dumps(watch_config()))
    bag = bundle_dag_bag(airflow_db, airflow_db)
    sync_to_db(bag)  # the training DAG's TriggerDagRunOperator needs watch_deployment stored (Airflow 3.0)
    yield bag
    path.unlink()


@pytest.fixture(scope="module")
def aws(dagbag):
    stand_in = AwsStandIn()
    stand_in.start()
    # moto's backends live in this process: start from an empty AWS, and leave one (other proofs use the same names).
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    os.environ["AWS_ENDPOINT_URL"] = stand_in.endpoint_url
    s3, ecr, glue, sm = (boto3.client(s) for s in ("s3", "ecr", "glue", "sagemaker"))
    for bucket in ("ml-data", "ml-code"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="ml-data", Key="raw/sample.csv", Body=SAMPLE)
    s3.put_object(Bucket="ml-code", Key=f"preprocessing/{COMMIT}/preprocess.py", Body=b"# staged by the build pipeline")
    s3.put_object(Bucket="ml-data", Key=SCRIPT.removeprefix("s3://ml-data/"), Body=b"# drift_check.py, staged by the CDK")
    ecr.create_repository(repositoryName="watch-model")
    ecr.put_image(repositoryName="watch-model", imageManifest=manifest("d"), imageTag=COMMIT)
    glue.create_job(
        Name="watch-preprocess",
        Role=f"arn:aws:iam::{ACCOUNT}:role/glue",
        GlueVersion="5.0",
        Command={"Name": "glueetl", "ScriptLocation": "s3://ml-code/run_preprocessing.py", "PythonVersion": "3"},
    )
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    boto3.client("sns").create_topic(Name="mlops-alerts")
    yield stand_in
    os.environ.pop("AWS_ENDPOINT_URL", None)
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    stand_in.stop()


@pytest.fixture
def calls(aws):
    aws.calls.clear()
    aws.job_describes.clear()
    return aws


def config(**drift):
    from cdk_mwaa_mlops.config import parse_config

    return parse_config("watch.json", watch_config(**drift))


def run(kind: str, conf: dict | None = None):
    """One run of a DAG built for it (a DAG that ran before keeps its notifier's rendered message and AWS client, which
    Airflow 3.0 cannot copy)."""
    from cdk_mwaa_mlops.deployment import build_deployment_dag
    from cdk_mwaa_mlops.drift_dag import build_drift_dag
    from cdk_mwaa_mlops.training import build_training_dag

    build = {"training": build_training_dag, "deployment": build_deployment_dag, "drift": build_drift_dag}[kind]
    dag = build(config())
    store_dag(dag)
    dag_run = dag.test(run_conf=conf or {})
    return dag_run, {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def xcom(dag_run, task_id: str):
    (ti,) = [ti for ti in dag_run.get_task_instances() if ti.task_id == task_id]
    return ti.xcom_pull(task_ids=task_id)


def created(stand_in: AwsStandIn) -> list[str]:
    wanted = {"StartJobRun", "CreateTrainingJob", "CreateProcessingJob", "CreateModelPackage"}
    return [a for a in stand_in.actions() if a in wanted]


def newest_package() -> dict:
    sagemaker = boto3.client("sagemaker")
    listed = sagemaker.list_model_packages(ModelPackageGroupName=GROUP, SortOrder="Descending")["ModelPackageSummaryList"]
    return sagemaker.describe_model_package(ModelPackageName=listed[0]["ModelPackageArn"])


def test_a_drift_run_before_anything_is_deployed_skips_and_says_why(calls, caplog):
    caplog.set_level(logging.INFO, logger="cdk_mwaa_mlops")
    dag_run, states = run("drift")
    assert dag_run.state == "success", states
    assert states == {"resolve_drift": "skipped", "drift_check": "skipped"}
    assert "CreateProcessingJob" not in calls.actions()
    assert "no drift check in this run: endpoint watch does not exist" in caplog.text


def test_a_drift_alarm_with_no_recent_training_trains_and_registers_the_model_with_its_baseline(calls, caplog):
    caplog.set_level(logging.INFO, logger="cdk_mwaa_mlops")
    dag_run, states = run("training", ALARM_CONF)
    assert dag_run.state == "success", states
    assert set(states.values()) == {"success"}, states
    assert "cool-down: started by watch-data-drift; no training job of the pipeline was created after" in caplog.text

    (listed,) = calls.params("ListTrainingJobs")
    assert listed["NameContains"] == "watch-train-"
    window = datetime.now(UTC).timestamp() - listed["CreationTimeAfter"]
    assert 86400 <= window < 86400 + 600  # the cool-down's 86400 s before the run
    assert created(calls)[:1] == ["StartJobRun"] and created(calls)[-1] == "CreateModelPackage"
    assert sorted(created(calls)) == sorted(
        ["StartJobRun", "CreateTrainingJob", "CreateProcessingJob", "CreateProcessingJob", "CreateModelPackage"]
    )

    output = calls.params("StartJobRun")[0]["Arguments"]["--output_uri"]
    (training,) = calls.params("CreateTrainingJob")
    key = training["TrainingJobName"].removeprefix("watch-train-")
    (baseline,) = [p for p in calls.params("CreateProcessingJob") if p["ProcessingJobName"].startswith("watch-base-")]
    assert baseline["ProcessingJobName"] == f"watch-base-{key}"
    assert baseline["RoleArn"] == ROLE
    assert baseline["AppSpecification"] == {
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
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in baseline["ProcessingInputs"]}
    assert inputs == {"code": SCRIPT, "train": f"{output}train/"}
    # the Glue job wrote the training split there (the stand-in as preprocessing/preprocess.py does)
    assert boto3.client("s3").list_objects_v2(Bucket="ml-data", Prefix=inputs["train"].removeprefix("s3://ml-data/"))["KeyCount"]
    artifacts = training["OutputDataConfig"]["S3OutputPath"].removesuffix("training/")
    assert baseline["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == f"{artifacts}drift/"

    (package,) = calls.params("CreateModelPackage")
    assert package["CustomerMetadataProperties"]["drift_baseline_uri"] == f"{artifacts}drift/baseline.csv"
    assert newest_package()["CustomerMetadataProperties"]["drift_baseline_uri"] == f"{artifacts}drift/baseline.csv"


def test_a_second_drift_alarm_inside_the_cool_down_starts_no_training(calls, caplog):
    caplog.set_level(logging.INFO, logger="cdk_mwaa_mlops")
    (recent,) = boto3.client("sagemaker").list_training_jobs(NameContains="watch-train-")["TrainingJobSummaries"]
    dag_run, states = run("training", {**ALARM_CONF, "alarm_state_time": "2026-12-05T11:00:00.000+0000"})
    assert dag_run.state == "success", states
    assert states.pop("cool_down") == "success"
    assert set(states.values()) == {"skipped"}, states
    assert created(calls) == []
    assert not {"DescribeRepositories", "DescribeImages"} & set(calls.actions())  # resolve_run was skipped too
    assert f"training job {recent['TrainingJobName']}" in caplog.text
    assert "inside the cool-down of 86400 s" in caplog.text and "this run trains nothing" in caplog.text


def test_runs_the_alarm_did_not_start_ignore_the_cool_down_and_old_jobs_do_not_hold_an_alarm_back(calls):
    from cdk_mwaa_mlops.drift import cool_down_verdict

    go_on, reason = cool_down_verdict(config(), {"source_kind": "s3_object_created"})
    assert go_on and "ListTrainingJobs" not in calls.actions()
    # the same alarm a day and a minute after the recent job: the job is outside the cool-down
    later = datetime.now(UTC) + timedelta(seconds=86400 + 60)
    go_on, reason = cool_down_verdict(config(), ALARM_CONF, now=later)
    assert go_on, reason
    # NameContains also matches another pipeline's jobs (`watch-train-` contains `atch-train-`): they do not count
    from cdk_mwaa_mlops.config import parse_config

    other = watch_config()
    other.update(pipeline_name="atch")
    go_on, reason = cool_down_verdict(parse_config("atch.json", other), ALARM_CONF)
    assert go_on, reason


def test_the_deployment_captures_the_endpoint_s_inputs_and_outputs(calls):
    package = newest_package()["ModelPackageArn"]
    dag_run, states = run("deployment", {"model_package_arn": package})
    assert dag_run.state == "success", states
    (endpoint_config,) = calls.params("CreateEndpointConfig")
    assert endpoint_config["DataCaptureConfig"] == {
        "EnableCapture": True,
        "InitialSamplingPercentage": 50,
        "DestinationS3Uri": "s3://ml-data/capture/watch/",
        "KmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
    }
    described = boto3.client("sagemaker").describe_endpoint_config(EndpointConfigName=endpoint_config["EndpointConfigName"])
    assert described["DataCaptureConfig"]["DestinationS3Uri"] == "s3://ml-data/capture/watch/"


def test_a_drift_run_before_any_traffic_was_captured_skips_and_says_why(calls, caplog):
    caplog.set_level(logging.INFO, logger="cdk_mwaa_mlops")
    _, states = run("drift")
    assert states == {"resolve_drift": "skipped", "drift_check": "skipped"}, states
    assert "CreateProcessingJob" not in calls.actions()
    assert f"endpoint watch has captured no traffic yet (nothing under s3://ml-data/{CAPTURE})" in caplog.text


def test_a_drift_run_checks_the_deployed_model_s_captures_since_its_deployment_against_its_baseline(calls):
    capture = json.dumps(CAPTURED).encode()
    boto3.client("s3").put_object(Bucket="ml-data", Key=f"{CAPTURE}2026/12/05/11/capture.jsonl", Body=capture)
    sagemaker = boto3.client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName="watch")
    package = newest_package()
    baseline = package["CustomerMetadataProperties"]["drift_baseline_uri"]

    calls.calls.clear()
    dag_run, states = run("drift")
    assert dag_run.state == "success", states
    assert states == {"resolve_drift": "success", "drift_check": "success"}
    resolved = xcom(dag_run, "resolve_drift")
    assert resolved["model_package_arn"] == package["ModelPackageArn"]
    assert resolved["endpoint_config_name"] == endpoint["EndpointConfigName"]
    assert resolved["variant_name"] == "AllTraffic"

    (job,) = calls.params("CreateProcessingJob")
    key = job["ProcessingJobName"].removeprefix("watch-drift-")
    assert len(key) == 12 and job["RoleArn"] == ROLE
    since = endpoint["LastModifiedTime"].astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert job["AppSpecification"] == {
        "ImageUri": IMAGE,
        "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/drift_check.py"],
        "ContainerArguments": [
            "check",
            "--since",
            since,
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
            REGION,
        ],
    }
    inputs = {i["InputName"]: (i["S3Input"]["S3Uri"], i["S3Input"]["LocalPath"]) for i in job["ProcessingInputs"]}
    assert inputs == {
        "code": (SCRIPT, "/opt/ml/processing/input/code"),
        "baseline": (baseline, "/opt/ml/processing/input/baseline"),
        "capture": (f"s3://ml-data/{CAPTURE}", "/opt/ml/processing/input/capture"),
    }
    (output,) = job["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["S3Uri"] == baseline.removesuffix("baseline.csv") + f"checks/{key}/"
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}
    assert job["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.xlarge"
    # the check ran as a deferred task: its trigger polled the job until it completed
    polls = [status for name, status, client in calls.job_describes if name == job["ProcessingJobName"]]
    assert polls[0] == "InProgress" and polls[-1] == "Completed"
    assert calls.actions("sagemaker")[:4] == [
        "DescribeEndpoint",
        "DescribeEndpointConfig",
        "DescribeModel",
        "DescribeModelPackage",
    ]


def test_a_drift_run_skips_a_deployed_model_without_a_baseline_and_says_why(calls, caplog):
    caplog.set_level(logging.INFO, logger="cdk_mwaa_mlops")
    sagemaker = boto3.client("sagemaker")
    old = sagemaker.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/watch-model@sha256:{'e' * 64}"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        CustomerMetadataProperties={"commit": "0ld0ld0"},  # trained before drift detection was on
    )["ModelPackageArn"]
    deployed, states = run("deployment", {"model_package_arn": old})
    assert deployed.state == "success", states

    calls.calls.clear()
    dag_run, states = run("drift")
    assert dag_run.state == "success", states
    assert states == {"resolve_drift": "skipped", "drift_check": "skipped"}
    assert "CreateProcessingJob" not in calls.actions()
    assert f"model package {old} on endpoint watch has no drift_baseline_uri" in caplog.text
