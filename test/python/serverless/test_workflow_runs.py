"""The MWAA Serverless workflows run end to end: each definition, as definitions.ts writes it for the configs a CDK app
writes (test/ml/apps/workflow-e2e-app.ts, resolved by cloud_assembly.py), loaded by dag-factory in a real Airflow 3
with the code package on `sys.path`, and run with `dag.test()` against the moto server stand-in of the provisioned
proofs (aws_stand_in.py). A run's parameters are passed as `OverrideParameters` would set them (run conf overrides
the declared params).

Paths: training with the auto-approval path (the deployment workflow started through `mwaa-serverless`
StartWorkflowRun with the trigger's run id as ClientToken; moto has no such service, so it is stood in at the
client, after botocore validates the request against the service model); a missed quality gate (nothing
registered, the gate's failure named as such); deployment that creates an endpoint and updates it blue/green;
manual approval and a serverless endpoint. Every AWS call is recorded per workflow (`recordings`): what each
workflow's execution role must allow (the IAM proof evaluates them once the constructs exist).
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_stand_in import AwsStandIn
from cloud_assembly import ROOT, Stack, synthesize
from dag_parsing import store_dag
from iam_requests import Call, Request, evaluate, requests_for
from server_log import ServerLog
from test_workflow_e2e import Recorder, _image_conf, _manifest, _newest_package
from workflows import load_workflow, violations

pytestmark = pytest.mark.e2e

ACCOUNT, REGION = "123456789012", "eu-west-1"
COMMIT = "feedc0de"


class WorkflowsStandIn:
    """MWAA Serverless's StartWorkflowRun, answered at the botocore client (moto has no mwaa-serverless backend): the
    request is validated against botocore's service model first, and a ClientToken seen before for the same workflow
    answers the run it started (the service's idempotency, as documented; its window is not)."""

    def __init__(self) -> None:
        self.started: list[dict[str, Any]] = []
        self.runs: dict[tuple[str, str], str] = {}

    def start(self) -> None:
        from botocore.client import BaseClient
        from botocore.validate import validate_parameters

        self._original = original = BaseClient._make_api_call
        stand_in = self

        def call(client, operation, params):
            if client.meta.service_model.service_name != "mwaa-serverless":
                return original(client, operation, params)
            shape = client.meta.service_model.operation_model(operation).input_shape
            validate_parameters(params, shape)  # types, required members, minimums
            for member, value in params.items():  # what botocore's validator leaves out: maximums and patterns
                rules = shape.members[member].metadata
                if isinstance(value, str):
                    assert len(value) <= rules.get("max", len(value)), f"{operation} {member}: longer than {rules['max']}"
                    assert re.fullmatch(rules.get("pattern", ".*"), value), f"{operation} {member}: {value!r} breaks its pattern"
            if operation != "StartWorkflowRun":
                raise NotImplementedError(f"mwaa-serverless {operation} is not stood in")
            key = (params["WorkflowArn"], params["ClientToken"])
            run_id = stand_in.runs.setdefault(key, f"run-{len(stand_in.runs) + 1:04d}")
            stand_in.started.append(dict(params))
            return {"RunId": run_id, "Status": "STARTING"}

        BaseClient._make_api_call = call

    def stop(self) -> None:
        from botocore.client import BaseClient

        BaseClient._make_api_call = self._original


@dataclass
class Workflow:
    pipeline: str
    kind: str
    arn: str
    dag: Any
    definition: dict[str, Any]
    #: the logical id of the workflow's execution role
    role: str
    #: every AWS call of this workflow's runs (what its execution role must allow)
    calls: list[Call] = field(default_factory=list)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    outdir = synthesize("test/ml/apps/serverless-e2e-app.ts", tmp_path_factory.mktemp("serverless-e2e.out"))
    return Stack(outdir, "ServerlessE2E", ACCOUNT, REGION)


def deployed_definition(stack: Stack, logical_id: str) -> dict[str, Any]:
    """The definition object the workflow names, as its BucketDeployment writes it (deploy-time values resolved)."""
    location = stack.resolve(stack.resources[logical_id]["Properties"]["DefinitionS3Location"])
    return json.loads(stack.dag_file(location["ObjectKey"]))


@pytest.fixture(scope="module")
def pipelines(stack) -> dict[str, dict]:
    """Per pipeline: its workflows' logical ids and roles (the app's outputs), and its config (in the definitions)."""
    found = {}
    for output in ("RetentionWorkflows", "PaymentsWorkflows"):
        info = json.loads(stack.output(output))
        info["definitions"] = {kind: deployed_definition(stack, info[kind]) for kind in ("training", "deployment")}
        (training,) = info["definitions"]["training"].values()
        info["config"] = training["tasks"]["resolve_run"]["op_kwargs"]["config"]
        found[info["pipeline"]] = info
    return found


@pytest.fixture(scope="module")
def workflows(stack, pipelines, airflow_db, tmp_path_factory) -> dict[tuple[str, str], Workflow]:
    directory = tmp_path_factory.mktemp("definitions")
    found = {}
    for name, info in pipelines.items():
        for kind in ("training", "deployment"):
            definition = info["definitions"][kind]
            dag = load_workflow(definition, directory)
            store_dag(dag)  # as the service's scheduler holds it (Airflow >= 3.2's dag.test() reads the stored DAG)
            arn = stack.get_att(info[kind], "WorkflowArn")
            found[name, kind] = Workflow(name, kind, arn, dag, definition, role=info[f"{kind}Role"])
    return found


@pytest.fixture(scope="module")
def aws(pipelines, workflows, tmp_path_factory) -> Iterator[tuple[AwsStandIn, WorkflowsStandIn, Recorder]]:
    server_log = ServerLog(tmp_path_factory.mktemp("moto") / "requests.jsonl")
    server_log.install()
    stand_in = AwsStandIn()
    stand_in.start()
    # moto's backends live in this process: the provisioned proof's app names the same buckets, repositories and jobs
    # (the same construct paths), so start from an empty AWS (moto's reset API) when both run in one session.
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    serverless = WorkflowsStandIn()
    serverless.start()  # before the recorder, which records the call and then hands it to the stand-in
    recorder = Recorder(server_log)
    recorder.start()
    os.environ["AWS_ENDPOINT_URL"] = stand_in.endpoint_url
    s3, ecr, glue, sm = (boto3.client(s) for s in ("s3", "ecr", "glue", "sagemaker"))
    location = {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
    buckets = set()
    for name, info in pipelines.items():
        config = info["config"]
        code_bucket, code_prefix = config["preprocessing"]["script_prefix"][5:].split("/", 1)
        for bucket in (config["data"]["bucket"], code_bucket):
            if bucket not in buckets:
                s3.create_bucket(Bucket=bucket, **location)
                buckets.add(bucket)
        s3.put_object(Bucket=code_bucket, Key=f"{code_prefix}{COMMIT}/preprocess.py", Body=b"# staged")
        s3.put_object(Bucket=config["data"]["bucket"], Key=f"{config['data']['raw_prefix']}sample.csv", Body=b"id,x\n1,2\n")
        repository = config["training"]["image_repository_name"]
        ecr.create_repository(repositoryName=repository)
        pushed = ecr.put_image(repositoryName=repository, imageManifest=_manifest(name), imageTag=COMMIT)
        info["digest"] = pushed["image"]["imageId"]["imageDigest"]
        glue.create_job(
            Name=config["preprocessing"]["glue_job_name"],
            Role=f"arn:aws:iam::{ACCOUNT}:role/glue",
            GlueVersion="5.0",
            Command={"Name": "glueetl", "ScriptLocation": "s3://assets/run_preprocessing.py", "PythonVersion": "3"},
        )
        sm.create_model_package_group(ModelPackageGroupName=config["registry"]["model_package_group_name"])
    recorder.clear()
    yield stand_in, serverless, recorder
    recorder.stop()
    serverless.stop()
    os.environ.pop("AWS_ENDPOINT_URL", None)
    stand_in.stop()
    server_log.uninstall()


def run(workflow: Workflow, recorder: Recorder, override_parameters: dict[str, Any]):
    """One workflow run, its parameters set as StartWorkflowRun's OverrideParameters set them; its calls recorded."""
    declared = set(workflow.definition[next(iter(workflow.definition))]["params"])
    assert set(override_parameters) <= declared, "the service would not pass an undeclared parameter to the tasks"
    recorder.clear()
    with recorder.run():
        dag_run = workflow.dag.test(run_conf=override_parameters)
    workflow.calls += recorder.calls
    return dag_run, {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def trigger_parameters(info: dict) -> dict[str, Any]:
    """What the trigger Lambda sends for an image push (dag-run-request.ts), as OverrideParameters."""
    repository = info["config"]["training"]["image_repository_name"]
    return {
        "trigger_conf_version": 1,
        "source_kind": "ecr_image_push",
        "event_id": "0f0e0d0c-0000-4000-8000-000000000001",
        "event_time": "2026-12-04T18:00:00Z",
        "event_source": "aws.ecr",
        "event_detail_type": "ECR Image Action",
        "account": ACCOUNT,
        "region": REGION,
        "repository_name": repository,
        "image_digest": info["digest"],
        **_image_conf(info),
    }


@dataclass
class Runs:
    states: dict[str, dict[str, str]]
    gate_log: str


@pytest.fixture(scope="module")
def runs(aws, workflows, pipelines) -> Runs:
    """retention: trained from a pushed image, auto-approved, its deployment started by the training workflow, the
    endpoint created then updated blue/green; then a model that misses the gate. payments: trained on the newest image,
    approved by a person, deployed to a serverless endpoint."""
    stand_in, serverless, recorder = aws
    retention, payments = pipelines["retention"], pipelines["payments"]
    states = {}

    def succeed(label: str, workflow: Workflow, parameters: dict[str, Any]) -> None:
        dag_run, states[label] = run(workflow, recorder, parameters)
        assert dag_run.state == "success", states[label]

    succeed("retention training", workflows["retention", "training"], trigger_parameters(retention))
    (started,) = serverless.started
    succeed("retention deployment (create)", workflows["retention", "deployment"], started["OverrideParameters"])
    succeed("retention deployment (update)", workflows["retention", "deployment"], started["OverrideParameters"])

    stand_in.evaluation = {"binary_classification_metrics": {"auc": {"value": 0.5}, "f1": {"value": 0.4}}}
    handler = _Capture()
    package_log = logging.getLogger("cdk_mwaa_mlops")  # what the steps log (the task log, on the service)
    package_log.addHandler(handler)
    try:
        failed, states["retention training (gate fails)"] = run(
            workflows["retention", "training"], recorder, trigger_parameters(retention)
        )
    finally:
        package_log.removeHandler(handler)
    assert failed.state == "failed"
    stand_in.evaluation = {"binary_classification_metrics": {"auc": {"value": 0.97}, "f1": {"value": 0.9}}}

    succeed("payments training", workflows["payments", "training"], {})
    boto3.client("sagemaker").update_model_package(ModelPackageArn=_newest_package(payments), ModelApprovalStatus="Approved")
    succeed("payments deployment", workflows["payments", "deployment"], {})
    succeed("payments deployment (update)", workflows["payments", "deployment"], {"model_package_arn": _newest_package(payments)})
    return Runs(states, "\n".join(handler.lines))


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")


def actions(workflow: Workflow) -> list[str]:
    return [c.action for c in workflow.calls]


def test_training_runs_every_step_and_waits_for_each_job_with_its_sensor(runs, workflows, aws):
    stand_in = aws[0]
    assert set(runs.states["retention training"].values()) == {"success"}
    training = workflows["retention", "training"]
    called = actions(training)
    for submitted, waited in (("StartJobRun", "GetJobRun"), ("CreateTrainingJob", "DescribeTrainingJob")):
        assert called.index(submitted) < len(called) - 1 - called[::-1].index(waited)  # waited for after it started
    # the sensors polled jobs that were still running (the stand-in answers InProgress first), with botocore, not deferred
    polled = [(status, client) for name, status, client in stand_in.job_describes if name.startswith("retention-")]
    assert ("InProgress", "botocore") in polled and ("Completed", "botocore") in polled
    assert all(client == "botocore" for _, client in polled)


def test_the_training_request_is_the_provisioned_dag_s(runs, workflows, pipelines):
    (job,) = [c.params for c in workflows["retention", "training"].calls if c.action == "CreateTrainingJob"][:1]
    config = pipelines["retention"]["config"]
    assert job["EnableManagedSpotTraining"] is True and job["StoppingCondition"]["MaxWaitTimeInSeconds"] == 7200
    assert job["RoleArn"] == config["training"]["role_arn"]
    assert job["AlgorithmSpecification"]["TrainingImage"] == _image_conf(pipelines["retention"])["image_uri"]
    (package,) = [c.params for c in workflows["retention", "training"].calls if c.action == "CreateModelPackage"][:1]
    assert package["ModelApprovalStatus"] == "Approved"
    dag_id = workflows["retention", "training"].dag.dag_id
    assert package["ModelPackageDescription"].startswith(f"retention: trained by {dag_id} run manual__")
    assert package["CustomerMetadataProperties"]["auc"] == "0.97"


def test_auto_approval_starts_the_deployment_workflow_with_the_trigger_s_run_id_as_client_token(runs, aws, workflows, pipelines):
    from cdk_mwaa_mlops.naming import model_package_run_id, state_change_millis, workflow_client_token

    serverless = aws[1]
    (started,) = serverless.started
    group = pipelines["retention"]["config"]["registry"]["model_package_group_name"]
    package = boto3.client("sagemaker").describe_model_package(
        ModelPackageName=started["OverrideParameters"]["model_package_arn"]
    )
    run_id = model_package_run_id(
        package["ModelPackageArn"], group, package["ModelPackageVersion"], "Approved", state_change_millis(package)
    )
    assert started["WorkflowArn"] == workflows["retention", "deployment"].arn
    assert started["ClientToken"] == workflow_client_token(run_id)
    assert started["OverrideParameters"] == {
        "trigger_conf_version": 1,
        "source_kind": "model_package_state_change",
        "model_package_arn": package["ModelPackageArn"],
        "model_package_group_name": group,
        "model_package_version": package["ModelPackageVersion"],
        "model_approval_status": "Approved",
    }
    (call,) = [c for c in workflows["retention", "training"].calls if c.service == "mwaa-serverless"]
    assert call.action == "StartWorkflowRun"


def test_deployment_creates_the_endpoint_then_updates_it_blue_green(runs, workflows, pipelines, aws):
    deployment = workflows["retention", "deployment"]
    assert actions(deployment).count("CreateEndpoint") == 2  # the second is refused: the endpoint exists
    (update,) = [c.params for c in deployment.calls if c.action == "UpdateEndpoint"]
    policy = update["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"]["Type"] == "LINEAR"
    alarms = pipelines["retention"]["config"]["deployment"]["rollback_alarm_names"]
    assert update["DeploymentConfig"]["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": a} for a in alarms]}
    (applied,) = [u for u in aws[0].endpoint_updates if u["EndpointName"] == update["EndpointName"]]
    assert applied["EndpointConfigName"] == update["EndpointConfigName"]
    for label in ("retention deployment (create)", "retention deployment (update)"):
        assert set(runs.states[label].values()) == {"success"}


def test_a_missed_quality_gate_registers_nothing_and_says_so(runs, workflows):
    states = runs.states["retention training (gate fails)"]
    assert states["quality_gate"] == "failed"
    assert states["register"] == states["start_deployment"] == "upstream_failed"
    assert {k: v for k, v in states.items() if k not in ("quality_gate", "register", "start_deployment")}.keys() == {
        "resolve_run",
        "preprocess",
        "wait_for_preprocessing",
        "start_training",
        "wait_for_training",
        "train",
        "evaluate",
        "wait_for_evaluation",
    }
    registrations = [c for c in workflows["retention", "training"].calls if c.action == "CreateModelPackage"]
    assert len(registrations) == 1  # the first (passing) run's only
    assert "ERROR QualityGateFailed: quality gate failed: auc = 0.5, required GreaterThanOrEqualTo 0.9" in runs.gate_log


def test_manual_approval_and_a_serverless_endpoint(runs, workflows, pipelines):
    assert "start_deployment" not in runs.states["payments training"]
    config, _ = [c.params for c in workflows["payments", "deployment"].calls if c.action == "CreateEndpointConfig"]
    assert config["ProductionVariants"][0]["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 5}
    create, refused = [c.params for c in workflows["payments", "deployment"].calls if c.action == "CreateEndpoint"]
    (update,) = [c.params for c in workflows["payments", "deployment"].calls if c.action == "UpdateEndpoint"]
    assert "DeploymentConfig" not in create and "DeploymentConfig" not in update  # SageMaker updates serverless at once
    assert refused["EndpointName"] == update["EndpointName"]
    assert create["EndpointName"] == pipelines["payments"]["config"]["deployment"]["endpoint_name"]


def iam_requests(workflow: Workflow, pipelines: dict) -> list[Request]:
    keys = {info["config"]["data"]["bucket"]: info["config"]["data"]["kms_key_arn"] for info in pipelines.values()}
    unique: dict[Request, None] = {}
    for call in workflow.calls:
        for request in requests_for(call, ACCOUNT, REGION, keys):
            unique[request] = None
    return list(unique)


def test_each_workflow_s_calls_map_to_the_iam_requests_its_role_must_allow(runs, workflows, pipelines, tmp_path_factory):
    """Exposed for the IAM proof against each workflow role (SERVERLESS_IAM_REQUESTS=<file> writes them)."""
    exposed = {}
    for (name, kind), workflow in workflows.items():
        requests = iam_requests(workflow, pipelines)
        exposed[f"{name}/{kind}"] = [r.as_json() for r in requests]
        distinct = {r.action for r in requests}
        if kind == "training":
            assert {
                "glue:StartJobRun",
                "glue:GetJobRun",
                "sagemaker:CreateTrainingJob",
                "sagemaker:CreateModelPackage",
            } <= distinct
            assert "iam:PassRole" in distinct
        else:
            assert {"sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpoint"} <= distinct
        crossing = [r for r in requests if f"/{'payments' if name == 'retention' else 'retention'}" in r.resource]
        assert crossing == [], f"{name}/{kind} touched the other pipeline's resources"
    starts = [
        r for r in iam_requests(workflows["retention", "training"], pipelines) if r.action.startswith("airflow-serverless:")
    ]
    assert starts == [Request("airflow-serverless:StartWorkflowRun", workflows["retention", "deployment"].arn)]
    target = os.environ.get("SERVERLESS_IAM_REQUESTS")
    path = Path(target) if target else tmp_path_factory.mktemp("iam") / "serverless-iam-requests.json"
    path.write_text(json.dumps(exposed, indent=1))


def test_the_deployed_definitions_keep_the_service_s_rules(pipelines):
    for name, info in pipelines.items():
        for kind, definition in info["definitions"].items():
            assert violations(definition) == [], f"{name}/{kind}"


def test_the_code_package_is_the_dags_python_package_at_its_root(stack):
    """What the workflows' Code names: the package the definitions' callables live in, byte for byte, with the
    .airflowignore that keeps a DAG processor from parsing its modules, and nothing a provisioned environment alone
    reads (the DAG file, the pipeline configs)."""
    shipped = ROOT / "assets" / "dags" / "cdk_mwaa_mlops"
    codes = {
        json.dumps(r["Properties"]["Code"]) for r in stack.resources.values() if r["Type"] == "AWS::MWAAServerless::Workflow"
    }
    (code,) = codes  # one package for every workflow
    package = stack.assembly / f"asset.{json.loads(code)['S3Location']['ObjectKey'].removesuffix('.zip')}"
    assert sorted(p.name for p in package.iterdir()) == [".airflowignore", "cdk_mwaa_mlops"]
    assert (package / ".airflowignore").read_text() == (ROOT / "assets" / "dags" / ".airflowignore").read_text()
    packaged = {p.relative_to(package / "cdk_mwaa_mlops") for p in (package / "cdk_mwaa_mlops").rglob("*") if p.is_file()}
    expected = {p.relative_to(shipped) for p in shipped.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert packaged == expected
    for path in expected:
        assert (package / "cdk_mwaa_mlops" / path).read_bytes() == (shipped / path).read_bytes(), path


def test_each_workflow_role_allows_its_runs_calls_and_reaches_nothing_of_the_other_pipeline(
    runs, stack, workflows, pipelines, record_property
):
    """Every recorded call of a workflow's runs, as IAM requests, evaluated (@cloud-copilot/iam-simulate) against the
    synthesized policies of its own execution role (all allowed) and of the other pipeline's workflow roles (none of
    this pipeline's resources allowed; only actions IAM cannot scope, on `*`)."""
    summary = {}
    policies = {w.role: stack.role_policies(w.role) for w in workflows.values()}
    resource_policies = stack.resource_policies()

    def decide(requests: list[Request], role: str) -> list[str]:
        principal = f"arn:aws:iam::{ACCOUNT}:role/{stack.name_of(role)}"
        return evaluate(requests, policies[role], ACCOUNT, principal, resource_policies)

    for (name, kind), workflow in workflows.items():
        requests = iam_requests(workflow, pipelines)
        own = decide(requests, workflow.role)
        refused = [(r.action, r.resource) for r, d in zip(requests, own, strict=True) if d != "Allowed"]
        assert refused == [], f"{name}/{kind}'s role refuses its own calls: {json.dumps(refused, indent=0)}"
        for other in (w for (n, _), w in workflows.items() if n != name):
            decided = decide(requests, other.role)
            crossing = [
                (r.action, r.resource) for r, d in zip(requests, decided, strict=True) if d == "Allowed" and r.resource != "*"
            ]
            assert crossing == [], f"{other.pipeline}/{other.kind}'s role reaches {name}/{kind}'s resources: {crossing}"
        summary[f"{name}/{kind}"] = {"calls": len(workflow.calls), "distinct_requests": len(requests)}
    record_property("serverless_iam_summary", json.dumps(summary))
    print("serverless IAM proof:", json.dumps(summary))


def test_a_wait_cut_at_the_task_limit_is_retried_and_finds_the_job_done(runs, aws, workflows, pipelines, tmp_path):
    """The long-training strategy: a sensor try that reaches `execution_timeout` (3600 s on the service; 3 s here) is
    retried and polls the same job, so a job may run as long as the sensor's tries allow (WAIT_BUDGET_SECONDS)."""
    stand_in, _, recorder = aws
    definition = json.loads(json.dumps(workflows["retention", "training"].definition))
    ((name, dag),) = definition.items()
    dag["dag_id"] = f"{name}-timeout-proof"
    dag["tasks"].pop("start_deployment")
    dag["tasks"]["wait_for_training"].update(execution_timeout={"__type__": "datetime.timedelta", "seconds": 3}, retry_delay=0)
    workflow = Workflow("retention", "training", "", load_workflow({f"{name}-timeout-proof": dag}, tmp_path), definition, "")
    store_dag(workflow.dag)
    stand_in.in_progress_describes = 5  # about 5 s of polls at 1 s: longer than a try
    try:
        dag_run, states = run(workflow, recorder, trigger_parameters(pipelines["retention"]))
    finally:
        stand_in.in_progress_describes = 2
    assert dag_run.state == "success", states
    # At least one try was cut (a loaded machine polls slower, so the 5 polls may take a third try); one job throughout.
    assert dag_run.get_task_instance("wait_for_training").try_number >= 2
    (job,) = [c.params["TrainingJobName"] for c in workflow.calls if c.action == "CreateTrainingJob"]
    polled = [status for name, status, _ in stand_in.job_describes if name == job]
    assert polled[:5] == ["InProgress"] * 5 and "Completed" in polled[5:]


def test_what_each_workflow_role_is_granted_beyond_its_runs_calls_is_listed(runs, stack, workflows, pipelines):
    """'And no more': per workflow role, the granted (action, resource) pairs no recorded call of its own workflow
    falls under (as the provisioned proof names them), each reviewed."""
    from test_workflow_e2e import _not_exercised

    unused = {}
    for (name, kind), workflow in workflows.items():
        principal = f"arn:aws:iam::{ACCOUNT}:role/{stack.name_of(workflow.role)}"
        found = _not_exercised(stack.role_policies(workflow.role), iam_requests(workflow, pipelines), principal, pipelines)
        unused[f"{name}/{kind}"] = {(action, SOURCE_OBJECT.sub(r"\1<source>", resource)) for action, resource in found}
    print("granted, not called:", json.dumps({k: sorted(v) for k, v in unused.items()}))
    for where, found in unused.items():
        name, kind = where.split("/")
        only = {"retention": NOT_CALLED_BY_RETENTION, "payments": NOT_CALLED_BY_PAYMENTS}[name]
        expected = NOT_CALLED_BY_THESE_RUNS[kind] | only[kind]
        assert found == expected, (where, sorted(found - expected), sorted(expected - found))


#: A definition's or the code package's object (content-hashed keys).
SOURCE_OBJECT = re.compile(r"(arn:aws:s3:::[^/]+/(?:workflows/<pipeline>/)?)[0-9a-f]{32,64}\.(?:yaml|zip)$")
_SOURCES = {
    (action, resource)
    for action in ("s3:GetObject", "s3:GetObjectVersion")
    for resource in (
        "arn:aws:s3:::<data bucket>/workflows/<pipeline>/<source>",  # its definition
        f"arn:aws:s3:::cdk-hnb659fds-assets-{ACCOUNT}-{REGION}/<source>",  # the code package
    )
}
#: Reviewed: granted to a workflow's role and called by none of its runs here, per workflow kind.
NOT_CALLED_BY_THESE_RUNS = {
    "training": {
        # Who reads the definition and the code package, the service or the role, is not documented (the lead's grant).
        *_SOURCES,
        ("glue:BatchStopJobRun", "arn:aws:glue:<here>:job/<glue job>"),  # a killed preprocess task stops its job run
        ("sagemaker:StopTrainingJob", "arn:aws:sagemaker:<here>:training-job/<pipeline>-train-*"),  # a killed start_training
        ("sagemaker:StopProcessingJob", "arn:aws:sagemaker:<here>:processing-job/<pipeline>-eval-*"),  # a killed evaluate
        # SageMaker uses the pipeline key with the caller's permissions for the jobs' outputs (not observable on moto)
        ("kms:DescribeKey", "<pipeline key>"),
        ("kms:GenerateDataKey", "<pipeline key>"),
        # as in the provisioned proof: the provider creates a missing group without tags
        ("sagemaker:AddTags", "arn:aws:sagemaker:<here>:model-package-group/<pipeline>-models"),
    },
    "deployment": {
        *_SOURCES,
        # SageMaker uses the pipeline key with the caller's permissions for the endpoint's storage (not observable on moto)
        ("kms:Decrypt", "<pipeline key>"),
        ("kms:DescribeKey", "<pipeline key>"),
        ("kms:GenerateDataKey", "<pipeline key>"),
    },
}
#: ... and for payments only: a person approves its packages (the training workflow describes none to start a
#: deployment), and its serverless endpoint's key grant is SageMaker's, with the caller's permissions.
NOT_CALLED_BY_PAYMENTS = {
    "training": {("sagemaker:DescribeModelPackage", "arn:aws:sagemaker:<here>:model-package/<pipeline>-models/*")},
    "deployment": {("kms:CreateGrant", "<pipeline key>")},
}
#: ... and for retention only: it trains the image its trigger names (no lookup of the newest), and its blue/green
#: update names rollback alarms SageMaker reads with the caller's permissions.
NOT_CALLED_BY_RETENTION = {
    "training": {
        ("ecr:DescribeImages", "arn:aws:ecr:<here>:repository/<image repository>"),
        ("ecr:DescribeRepositories", "arn:aws:ecr:<here>:repository/<image repository>"),
    },
    "deployment": {
        ("cloudwatch:DescribeAlarms", "arn:aws:cloudwatch:<here>:alarm:<rollback alarm>"),
        ("sagemaker:ListModelPackages", "*"),  # each of its deployments names its package
    },
}
