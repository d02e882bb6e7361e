"""Drift detection's serverless workflows against the IAM the construct writes: the app drift-e2e-app.ts (one pipeline,
real-time, drift on) synthesized; its training, deployment and drift definitions as deployed (read from the
definitions' assets, deploy-time values resolved), loaded by dag-factory and run with `dag.test()` against the moto
stand-in; every AWS call of a workflow's runs, recorded at the client, mapped to the IAM requests AWS would authorize
(iam_requests.py) and evaluated (@cloud-copilot/iam-simulate) against the synthesized policies of that workflow's
role: all allowed. And the drift role allows none of what only training or deployment does.

The runs: a check before anything is deployed (skips); training from an image push (baseline beside training); the
drift alarm's retraining inside the cool-down (lists training jobs, starts nothing); a person approves; the deployment
(capture on); a check with captured traffic (resolves the package's baseline, runs and waits for the check job).
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_stand_in import AwsStandIn
from cloud_assembly import Stack, synthesize
from dag_parsing import store_dag
from iam_requests import Request, evaluate, requests_for
from server_log import ServerLog
from test_workflow_e2e import Recorder, _manifest
from test_workflow_runs import SOURCE_OBJECT, deployed_definition
from workflows import load_workflow, violations

pytestmark = pytest.mark.e2e

ACCOUNT, REGION = "123456789012", "eu-west-1"
COMMIT = "feedc0de"
KINDS = ("training", "deployment", "drift")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    outdir = synthesize("test/python/serverless/drift-e2e-app.ts", tmp_path_factory.mktemp("drift-e2e.out"))
    return Stack(outdir, "ServerlessDriftE2E", ACCOUNT, REGION)


@pytest.fixture(scope="module")
def info(stack) -> dict[str, Any]:
    found = json.loads(stack.output("WatchWorkflows"))
    found["definitions"] = {kind: deployed_definition(stack, found[kind]) for kind in KINDS}
    (training,) = found["definitions"]["training"].values()
    found["config"] = training["tasks"]["resolve_run"]["op_kwargs"]["config"]
    return found


@pytest.fixture(scope="module")
def workflows(info, airflow_db, tmp_path_factory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("definitions")
    found = {}
    for kind in KINDS:
        found[kind] = dag = load_workflow(info["definitions"][kind], directory)
        store_dag(dag)
    return found


@pytest.fixture(scope="module")
def aws(info, workflows, tmp_path_factory) -> Iterator[tuple[AwsStandIn, Recorder]]:
    server_log = ServerLog(tmp_path_factory.mktemp("moto") / "requests.jsonl")
    server_log.install()
    stand_in = AwsStandIn()
    stand_in.start()
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    recorder = Recorder(server_log)
    recorder.start()
    os.environ["AWS_ENDPOINT_URL"] = stand_in.endpoint_url
    config = info["config"]
    s3 = boto3.client("s3")
    code_bucket, code_prefix = config["preprocessing"]["script_prefix"][5:].split("/", 1)
    for bucket in (config["data"]["bucket"], code_bucket):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=code_bucket, Key=f"{code_prefix}{COMMIT}/preprocess.py", Body=b"# staged")
    s3.put_object(Bucket=config["data"]["bucket"], Key=f"{config['data']['raw_prefix']}sample.csv", Body=b"id,x\n1,2\n")
    repository = config["training"]["image_repository_name"]
    boto3.client("ecr").create_repository(repositoryName=repository)
    pushed = boto3.client("ecr").put_image(repositoryName=repository, imageManifest=_manifest("watch"), imageTag=COMMIT)
    info["image_uri"] = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{repository}@{pushed['image']['imageId']['imageDigest']}"
    boto3.client("glue").create_job(
        Name=config["preprocessing"]["glue_job_name"],
        Role=f"arn:aws:iam::{ACCOUNT}:role/glue",
        GlueVersion="5.0",
        Command={"Name": "glueetl", "ScriptLocation": "s3://assets/run_preprocessing.py", "PythonVersion": "3"},
    )
    boto3.client("sagemaker").create_model_package_group(ModelPackageGroupName=config["registry"]["model_package_group_name"])
    recorder.clear()
    yield stand_in, recorder
    recorder.stop()
    os.environ.pop("AWS_ENDPOINT_URL", None)
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    stand_in.stop()
    server_log.uninstall()


@pytest.fixture(scope="module")
def calls(aws, workflows, info) -> dict[str, list[Any]]:
    """Each workflow's recorded calls over the runs (module docstring), and each run's final state."""
    _, recorder = aws
    config = info["config"]
    recorded: dict[str, list[Any]] = {kind: [] for kind in KINDS}
    states: list[tuple[str, str, dict[str, str]]] = []

    def go(kind: str, parameters: dict[str, Any]) -> str:
        (declared,) = [set(d["params"]) for d in info["definitions"][kind].values()]
        assert set(parameters) <= declared
        recorder.clear()
        with recorder.run():
            dag_run = workflows[kind].test(run_conf=parameters)
        recorded[kind] += recorder.calls
        states.append((kind, str(dag_run.state), {ti.task_id: ti.state for ti in dag_run.get_task_instances()}))
        return str(dag_run.state)

    schedule = {"trigger_conf_version": 1, "source_kind": "schedule", "scheduled_time": "2026-12-05T11:00:00Z"}
    image = {"source_kind": "ecr_image_push", "image_uri": info["image_uri"], "image_tag": COMMIT}
    alarm = {**image, "source_kind": "cloudwatch_alarm", "alarm_name": "watch-data-drift", "alarm_state": "ALARM"}
    assert go("drift", schedule) == "success"
    assert go("training", image) == "success", states[-1]
    assert go("training", alarm) == "failed", states[-1]
    sagemaker = boto3.client("sagemaker")
    group = config["registry"]["model_package_group_name"]
    (package,) = sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    sagemaker.update_model_package(ModelPackageArn=package["ModelPackageArn"], ModelApprovalStatus="Approved")
    assert go("deployment", {"model_package_arn": package["ModelPackageArn"]}) == "success", states[-1]
    endpoint = config["deployment"]["endpoint_name"]
    capture = f"{config['drift']['capture_prefix']}{endpoint}/AllTraffic/2026/12/05/10/capture-0.jsonl"
    boto3.client("s3").put_object(Bucket=config["data"]["bucket"], Key=capture, Body=b"{}\n")
    assert go("drift", schedule) == "success", states[-1]
    assert states[-1][2] == {"resolve_drift": "success", "drift_check": "success", "wait_for_drift_check": "success"}
    assert states[0][2]["resolve_drift"] == "skipped" and states[2][2]["cool_down"] == "failed"
    return recorded


def iam_requests(calls: list[Any], config: dict[str, Any]) -> list[Request]:
    keys = {config["data"]["bucket"]: config["data"]["kms_key_arn"]}
    unique: dict[Request, None] = {}
    for call in calls:
        for request in requests_for(call, ACCOUNT, REGION, keys):
            unique[request] = None
    return list(unique)


def test_the_deployed_definitions_keep_the_service_s_rules(info):
    for kind, definition in info["definitions"].items():
        assert violations(definition) == [], kind
    (drift,) = info["definitions"]["drift"].values()
    assert drift["dag_id"].endswith("-drift")
    assert list(drift["tasks"]) == ["resolve_drift", "drift_check", "wait_for_drift_check"]


def test_each_workflow_role_allows_every_call_of_its_runs(calls, info, stack, record_property):
    resource_policies = stack.resource_policies()
    summary = {}
    for kind in KINDS:
        role = info[f"{kind}Role"]
        requests = iam_requests(calls[kind], info["config"])
        principal = f"arn:aws:iam::{ACCOUNT}:role/{stack.name_of(role)}"
        decisions = evaluate(requests, stack.role_policies(role), ACCOUNT, principal, resource_policies)
        refused = [(r.action, r.resource) for r, d in zip(requests, decisions, strict=True) if d != "Allowed"]
        assert refused == [], f"{kind}'s role refuses its own calls: {json.dumps(refused, indent=0)}"
        summary[kind] = {"calls": len(calls[kind]), "distinct_requests": len(requests)}
    distinct = {kind: {r.action for r in iam_requests(calls[kind], info["config"])} for kind in KINDS}
    assert {"sagemaker:ListTrainingJobs", "sagemaker:CreateProcessingJob", "iam:PassRole"} <= distinct["training"]
    assert {
        "sagemaker:DescribeEndpoint",
        "sagemaker:DescribeEndpointConfig",
        "sagemaker:DescribeModel",
        "sagemaker:DescribeModelPackage",
        "s3:ListBucket",
        "sagemaker:CreateProcessingJob",
        "sagemaker:DescribeProcessingJob",
        "iam:PassRole",
    } <= distinct["drift"]
    record_property("serverless_drift_iam_summary", json.dumps(summary))
    print("serverless drift IAM proof:", json.dumps(summary))


def test_the_drift_role_allows_nothing_only_training_or_deployment_does(calls, info, stack):
    role = info["driftRole"]
    principal = f"arn:aws:iam::{ACCOUNT}:role/{stack.name_of(role)}"
    others = iam_requests(calls["training"] + calls["deployment"], info["config"])
    own = set(iam_requests(calls["drift"], info["config"]))
    theirs = [r for r in others if r not in own]
    decisions = evaluate(theirs, stack.role_policies(role), ACCOUNT, principal, stack.resource_policies())
    allowed = {(r.action, r.resource) for r, d in zip(theirs, decisions, strict=True) if d == "Allowed"}
    mutating = {
        "glue:StartJobRun",
        "sagemaker:CreateTrainingJob",
        "sagemaker:CreateModelPackage",
        "sagemaker:CreateModel",
        "sagemaker:CreateEndpointConfig",
        "sagemaker:CreateEndpoint",
        "sagemaker:UpdateEndpoint",
        "sagemaker:ListTrainingJobs",
    }
    assert {action for action, _ in allowed} & mutating == set(), sorted(allowed)
    baseline_jobs = {resource for action, resource in allowed if action == "sagemaker:CreateProcessingJob"}
    assert baseline_jobs == set(), "the drift role may start the training run's processing jobs"


#: Reviewed: what the drift workflow's role is granted and no call of its runs here made.
NOT_CALLED_BY_THE_DRIFT_RUNS = {
    # Who reads the definition and the code package, the service or the role, is not documented (as for the others).
    *{
        (action, resource)
        for action in ("s3:GetObject", "s3:GetObjectVersion")
        for resource in (
            "arn:aws:s3:::<data bucket>/workflows/<pipeline>/<source>",
            f"arn:aws:s3:::cdk-hnb659fds-assets-{ACCOUNT}-{REGION}/<source>",
        )
    },
    # a killed drift_check task stops its job
    ("sagemaker:StopProcessingJob", "arn:aws:sagemaker:<here>:processing-job/<pipeline>-drift-*"),
    # SageMaker uses the pipeline key with the caller's permissions for the job's volume and output (not observable on moto)
    ("kms:Decrypt", "<pipeline key>"),
    ("kms:DescribeKey", "<pipeline key>"),
    ("kms:GenerateDataKey", "<pipeline key>"),
}


def test_what_the_drift_role_is_granted_beyond_its_runs_calls_is_listed(calls, info, stack):
    """'And no more', for the drift workflow's role, as test_workflow_runs.py reviews the training and deployment roles."""
    from test_workflow_e2e import _not_exercised

    role = info["driftRole"]
    principal = f"arn:aws:iam::{ACCOUNT}:role/{stack.name_of(role)}"
    pipelines = {"watch": {"config": info["config"], "pipeline": info["pipeline"]}}
    found = _not_exercised(stack.role_policies(role), iam_requests(calls["drift"], info["config"]), principal, pipelines)
    named = {(action, SOURCE_OBJECT.sub(r"\1<source>", resource)) for action, resource in found}
    assert named == NOT_CALLED_BY_THE_DRIFT_RUNS, (
        sorted(named - NOT_CALLED_BY_THE_DRIFT_RUNS),
        sorted(NOT_CALLED_BY_THE_DRIFT_RUNS - named),
    )
