"""Drift detection on MWAA Serverless, run: a hand-written pipeline config with a `drift` section (as the construct
writes it), its training, deployment and drift definitions as definitions.ts writes them, loaded by dag-factory and
run with `dag.test()` against the moto stand-in (aws_stand_in.py), a run's parameters passed as the trigger's
OverrideParameters would set them.

The path: a drift check before anything is deployed skips; training writes the baseline beside training and records
it on the package; a retraining the drift alarm asks for inside the cool-down starts no job and names the training
job that holds it back; the deployment captures the endpoint's traffic; a check without captured traffic skips; a
check with traffic runs drift_check.py as a processing job against the deployed model's baseline, waited for by the
processing sensor.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_stand_in import AwsStandIn, Call
from dag_parsing import store_dag
from workflows import load_workflow, pipeline_inputs, violations, with_drift, write_definitions

pytestmark = pytest.mark.e2e

ACCOUNT, REGION = "123456789012", "eu-west-1"
COMMIT = "feedc0de"
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "pipelines" / "churn.json"
NAME = "churnd"
ENDPOINT = "churnd-endpoint"


def config() -> dict[str, Any]:
    """churn's fixture as the construct writes it for MWAA Serverless (no topic: failures reach it through the service's
    events), approved by a person (the deployment run names the package), with drift detection."""
    document = json.loads(FIXTURE.read_text())
    document.pop("notification_topic_arn")
    document.update(pipeline_name=NAME, retries=0, poll_interval_seconds=1)
    document["training"] = {**document["training"], "image_repository_name": f"{NAME}-model"}
    document["preprocessing"] = {"glue_job_name": f"{NAME}-preprocess", "script_prefix": "s3://ml-code/preprocessing/"}
    document["registry"] = {"model_package_group_name": f"{NAME}-models", "auto_approve": False}
    document["deployment"] = {
        **document["deployment"],
        "endpoint_name": ENDPOINT,
        "traffic_shifting": {"type": "ALL_AT_ONCE", "wait_seconds": 0},
        "termination_wait_seconds": 0,
    }
    return with_drift(document)


@pytest.fixture(scope="module")
def definitions() -> dict[str, dict[str, Any]]:
    (written,) = write_definitions([pipeline_inputs(NAME, config(), ACCOUNT, REGION)])
    return {kind: written[kind] for kind in ("training", "deployment", "drift")}


@pytest.fixture(scope="module")
def workflows(definitions, airflow_db, tmp_path_factory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("definitions")
    found = {}
    for kind, definition in definitions.items():
        found[kind] = dag = load_workflow(definition, directory)
        store_dag(dag)
    return found


@pytest.fixture(scope="module")
def aws(workflows) -> Iterator[AwsStandIn]:
    stand_in = AwsStandIn()
    stand_in.start()
    # moto's backends live in this process: start from an empty AWS when other proofs ran before in this session.
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    os.environ["AWS_ENDPOINT_URL"] = stand_in.endpoint_url
    settings = config()
    location = {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
    s3 = boto3.client("s3")
    for bucket in ("ml-data", "ml-code"):
        s3.create_bucket(Bucket=bucket, **location)
    s3.put_object(Bucket="ml-code", Key=f"preprocessing/{COMMIT}/preprocess.py", Body=b"# staged")
    s3.put_object(Bucket="ml-data", Key="raw/sample.csv", Body=b"id,x\n1,2\n")
    ecr = boto3.client("ecr")
    ecr.create_repository(repositoryName=f"{NAME}-model")
    from test_workflow_e2e import _manifest

    pushed = ecr.put_image(repositoryName=f"{NAME}-model", imageManifest=_manifest(NAME), imageTag=COMMIT)
    stand_in.digest = pushed["image"]["imageId"]["imageDigest"]
    boto3.client("glue").create_job(
        Name=settings["preprocessing"]["glue_job_name"],
        Role=f"arn:aws:iam::{ACCOUNT}:role/glue",
        GlueVersion="5.0",
        Command={"Name": "glueetl", "ScriptLocation": "s3://assets/run_preprocessing.py", "PythonVersion": "3"},
    )
    boto3.client("sagemaker").create_model_package_group(ModelPackageGroupName=f"{NAME}-models")
    yield stand_in
    os.environ.pop("AWS_ENDPOINT_URL", None)
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    stand_in.stop()


@dataclass
class Run:
    state: str
    tasks: dict[str, str]
    calls: list[Call]
    log: list[str] = field(default_factory=list)

    def actions(self) -> list[str]:
        return [c.action for c in self.calls]

    def params(self, action: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.action == action]


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")


def run(dag: Any, definition: dict[str, Any], stand_in: AwsStandIn, parameters: dict[str, Any]) -> Run:
    """One workflow run, its parameters as StartWorkflowRun's OverrideParameters set them; its calls and the package's
    log lines (the task log, on the service)."""
    (declared,) = [set(d["params"]) for d in definition.values()]
    assert set(parameters) <= declared, "the service would not pass an undeclared parameter to the tasks"
    stand_in.calls.clear()
    handler = _Capture()
    package_log = logging.getLogger("cdk_mwaa_mlops")
    package_log.addHandler(handler)
    try:
        dag_run = dag.test(run_conf=parameters)
    finally:
        package_log.removeHandler(handler)
    tasks = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    return Run(str(dag_run.state), tasks, list(stand_in.calls), handler.lines)


def image_push(stand_in: AwsStandIn) -> dict[str, Any]:
    """What the trigger sends for an image push (dag-run-request.ts)."""
    return {
        "trigger_conf_version": 1,
        "source_kind": "ecr_image_push",
        "event_id": "0f0e0d0c-0000-4000-8000-000000000001",
        "event_time": "2026-12-05T09:00:00Z",
        "account": ACCOUNT,
        "region": REGION,
        "repository_name": f"{NAME}-model",
        "image_digest": stand_in.digest,
        "image_uri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{NAME}-model@{stand_in.digest}",
        "image_tag": COMMIT,
    }


def alarm(stand_in: AwsStandIn) -> dict[str, Any]:
    """What the trigger sends for the drift alarm's change to ALARM, with an image to train (as a person would add)."""
    image = image_push(stand_in)
    return {
        "trigger_conf_version": 1,
        "source_kind": "cloudwatch_alarm",
        "event_id": "0f0e0d0c-0000-4000-8000-000000000002",
        "event_time": "2026-12-05T10:00:00Z",
        "event_source": "aws.cloudwatch",
        "event_detail_type": "CloudWatch Alarm State Change",
        "account": ACCOUNT,
        "region": REGION,
        "alarm_name": f"{NAME}-data-drift",
        "alarm_arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{NAME}-data-drift",
        "alarm_state": "ALARM",
        "alarm_previous_state": "OK",
        "alarm_reason": "Threshold Crossed: 1 datapoint [0.5] was greater than or equal to the threshold (0.3).",
        "alarm_state_time": "2026-12-05T10:00:00.000+0000",
        "image_uri": image["image_uri"],
        "image_tag": image["image_tag"],
    }


def schedule() -> dict[str, Any]:
    """What the trigger sends when the drift schedule's rule fires."""
    return {
        "trigger_conf_version": 1,
        "source_kind": "schedule",
        "event_id": "0f0e0d0c-0000-4000-8000-000000000003",
        "event_time": "2026-12-05T11:00:00Z",
        "event_source": "aws.events",
        "event_detail_type": "Scheduled Event",
        "account": ACCOUNT,
        "region": REGION,
        "schedule_rule_arn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{NAME}-drift-schedule",
        "scheduled_time": "2026-12-05T11:00:00Z",
    }


@dataclass
class Runs:
    before_deployment: Run
    training: Run
    cooled_down: Run
    deployment: Run
    no_traffic: Run
    check: Run
    package: str


@pytest.fixture(scope="module")
def runs(aws, workflows, definitions) -> Runs:
    def go(kind: str, parameters: dict[str, Any]) -> Run:
        return run(workflows[kind], definitions[kind], aws, parameters)

    before_deployment = go("drift", schedule())
    training = go("training", image_push(aws))
    assert training.state == "success", training.tasks
    cooled_down = go("training", alarm(aws))
    sagemaker = boto3.client("sagemaker")
    (summary,) = sagemaker.list_model_packages(ModelPackageGroupName=f"{NAME}-models")["ModelPackageSummaryList"]
    package = summary["ModelPackageArn"]
    sagemaker.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved")
    deployment = go("deployment", {"model_package_arn": package})
    assert deployment.state == "success", deployment.tasks
    no_traffic = go("drift", schedule())
    # one record, where SageMaker writes the variant's captures: <capture prefix><endpoint>/<variant>/yyyy/mm/dd/hh/
    capture = f"{config()['drift']['capture_prefix']}{ENDPOINT}/AllTraffic/2026/12/05/10/capture-0.jsonl"
    boto3.client("s3").put_object(Bucket="ml-data", Key=capture, Body=b"{}\n")
    check = go("drift", schedule())
    return Runs(before_deployment, training, cooled_down, deployment, no_traffic, check, package)


def test_the_drift_definitions_keep_the_service_s_rules(definitions):
    for kind, definition in definitions.items():
        assert violations(definition) == [], kind
    (drift,) = definitions["drift"].values()
    assert list(drift["tasks"]) == ["resolve_drift", "drift_check", "wait_for_drift_check"]


def test_a_check_before_anything_is_deployed_skips_and_starts_no_job(runs):
    before = runs.before_deployment
    assert before.state == "success"
    assert before.tasks == {"resolve_drift": "skipped", "drift_check": "skipped", "wait_for_drift_check": "skipped"}
    assert "CreateProcessingJob" not in before.actions()
    assert any(f"endpoint {ENDPOINT} does not exist" in line for line in before.log), before.log


def test_training_writes_the_baseline_beside_training_and_records_it_on_the_package(runs):
    training = runs.training
    assert set(training.tasks.values()) == {"success"}, training.tasks
    (baseline,) = [p for p in training.params("CreateProcessingJob") if p["ProcessingJobName"].startswith(f"{NAME}-base-")]
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in baseline["ProcessingInputs"]}
    assert inputs["code"] == config()["drift"]["script_uri"]
    assert inputs["train"].startswith(f"s3://ml-data/processed/{NAME}/") and inputs["train"].endswith("/train/")
    output = baseline["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert output.startswith(f"s3://ml-data/artifacts/{NAME}/") and output.endswith("/drift/")
    assert baseline["AppSpecification"]["ContainerArguments"][0] == "baseline"
    assert baseline["RoleArn"] == config()["training"]["role_arn"]
    (package,) = training.params("CreateModelPackage")
    assert package["CustomerMetadataProperties"]["drift_baseline_uri"] == f"{output}baseline.csv"
    # the baseline waited for beside training, registration after both
    actions = training.actions()
    assert actions.index("StartJobRun") < actions.index("CreateTrainingJob")
    assert actions.index("StartJobRun") < actions.index("CreateProcessingJob")
    assert max(i for i, a in enumerate(actions) if a == "DescribeProcessingJob") < actions.index("CreateModelPackage")


def test_the_cool_down_applies_only_to_the_alarm_s_runs(runs):
    assert "ListTrainingJobs" not in runs.training.actions()  # an image push is never held back
    assert any("not started by the drift alarm" in line for line in runs.training.log), runs.training.log


def test_a_retraining_the_alarm_asks_for_inside_the_cool_down_starts_nothing(runs):
    cooled = runs.cooled_down
    assert cooled.state == "failed"
    assert cooled.tasks["cool_down"] == "failed"
    assert {state for task, state in cooled.tasks.items() if task != "cool_down"} == {"upstream_failed"}, cooled.tasks
    assert cooled.actions() == ["ListTrainingJobs"]
    (listed,) = cooled.params("ListTrainingJobs")
    assert listed["NameContains"] == f"{NAME}-train-"
    (job,) = runs.training.params("CreateTrainingJob")
    (verdict,) = [line for line in cooled.log if line.startswith("ERROR CoolDownActive:")]
    assert f"started by {NAME}-data-drift" in verdict and job["TrainingJobName"] in verdict, verdict


def test_the_deployment_captures_the_endpoint_s_traffic(runs):
    (endpoint_config,) = runs.deployment.params("CreateEndpointConfig")
    assert endpoint_config["DataCaptureConfig"] == {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://ml-data/capture/{NAME}/",
        "KmsKeyId": config()["data"]["kms_key_arn"],
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
    }


def test_a_check_without_captured_traffic_skips(runs):
    assert runs.no_traffic.state == "success"
    assert runs.no_traffic.tasks["resolve_drift"] == "skipped"
    assert "CreateProcessingJob" not in runs.no_traffic.actions()


def test_a_check_runs_drift_check_against_the_deployed_model_s_baseline_and_waits_for_it(runs, aws):
    check = runs.check
    assert check.state == "success" and set(check.tasks.values()) == {"success"}, check.tasks
    (job,) = check.params("CreateProcessingJob")
    assert job["ProcessingJobName"].startswith(f"{NAME}-drift-")
    baseline = boto3.client("sagemaker").describe_model_package(ModelPackageName=runs.package)["CustomerMetadataProperties"][
        "drift_baseline_uri"
    ]
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in job["ProcessingInputs"]}
    assert inputs == {
        "code": config()["drift"]["script_uri"],
        "baseline": baseline,
        "capture": f"s3://ml-data/capture/{NAME}/{ENDPOINT}/AllTraffic/",
    }
    arguments = job["AppSpecification"]["ContainerArguments"]
    assert arguments[0] == "check" and "--publish-metrics" in arguments
    since = arguments[arguments.index("--since") + 1]
    endpoint = boto3.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert since == endpoint["LastModifiedTime"].isoformat().replace("+00:00", "Z")
    dimensions = [arguments[i + 1] for i, a in enumerate(arguments) if a == "--dimension"]
    assert dimensions == [f"Pipeline={NAME}", f"Endpoint={ENDPOINT}"]
    output = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert output.startswith(baseline.rsplit("/", 1)[0] + "/checks/")
    assert job["RoleArn"] == config()["training"]["role_arn"]
    # the processing sensor polled the job while it ran, with botocore (not deferred), until it completed
    polled = [status for name, status, client in aws.job_describes if name == job["ProcessingJobName"]]
    assert polled[0] == "InProgress" and polled[-1] == "Completed"
    assert {client for name, _, client in aws.job_describes if name == job["ProcessingJobName"]} == {"botocore"}
