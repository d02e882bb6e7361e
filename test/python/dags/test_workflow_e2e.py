"""ModelWorkflow's config is the config the DAGs run on, and its grants allow what the runs do, and no more.

A CDK app (test/ml/apps/workflow-e2e-app.ts: one environment, a real-time and a serverless pipeline) is synthesized;
the configs are taken out of the cloud assembly with every deploy-time value resolved (cloud_assembly.py), loaded by
the shipped DAG file in a real Airflow 3 and run end to end against a moto server. Every AWS call of those runs is
recorded, mapped to its IAM request (iam_requests.py) and evaluated against the synthesized policies with a real IAM
policy evaluator (@cloud-copilot/iam-simulate): allowed for the execution role and for a role holding only that
pipeline's grants, denied for the role holding only the other pipeline's grants.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import boto3
import jsonschema
import pytest
from aws_stand_in import AwsStandIn
from cdk_mwaa_mlops.compat import GLUE_RESUMES_ON_RETRY
from cloud_assembly import ROOT, Stack, synthesize
from dag_parsing import bundle_dag_bag, sync_to_db
from iam_requests import Call, Request, container_requests_for, evaluate, requests_for
from server_log import ServerLog

# On every Airflow version the DAGs support: each provider version makes its own calls (.projenrc.ts).
pytestmark = pytest.mark.e2e

ACCOUNT, REGION = "123456789012", "eu-west-1"
COMMIT = "feedc0de"
SCHEMA = json.loads((ROOT / "assets" / "dags" / "cdk_mwaa_mlops" / "pipeline_config.schema.json").read_text())


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    outdir = synthesize("test/ml/apps/workflow-e2e-app.ts", tmp_path_factory.mktemp("workflow-e2e.out"))
    return Stack(outdir, "WorkflowE2E", ACCOUNT, REGION)


@pytest.fixture(scope="module")
def pipelines(stack) -> dict[str, dict]:
    found = {}
    for output in ("RetentionDags", "PaymentsDags"):
        info = json.loads(stack.output(output))
        info["config"] = json.loads(stack.dag_file(f"cdk_mwaa_mlops_pipelines/{info['pipeline']}.json"))
        found[info["pipeline"]] = info
    return found


@pytest.fixture(scope="module")
def dagbag(airflow_db, pipelines):
    """The shipped DAG folder of the test Airflow (conftest.py) with these two configs beside the fixture ones: dag.test()
    syncs the DAGs of the configured bundle, so the configs must live in it (removed again afterwards)."""
    written = []
    for name, info in pipelines.items():
        path = airflow_db / "cdk_mwaa_mlops_pipelines" / f"{name}.json"
        path.write_text(json.dumps(info["config"]))
        written.append(path)
    bag = bundle_dag_bag(airflow_db, airflow_db)
    sync_to_db(bag)  # as the DAG processor stores them (on Airflow 3.0 a TriggerDagRunOperator's target must be stored)
    yield bag
    for path in written:
        path.unlink()


def test_the_written_configs_follow_the_schema(pipelines):
    for info in pipelines.values():
        jsonschema.validate(info["config"], SCHEMA)
    assert pipelines["retention"]["config"]["training"]["spot"] == {"max_wait_seconds": 7200}
    assert pipelines["payments"]["config"]["deployment"]["mode"] == "serverless"


def test_the_dag_file_loads_the_written_configs_with_the_construct_s_dag_ids(dagbag, pipelines):
    assert dagbag.import_errors == {}
    expected = {info[kind] for info in pipelines.values() for kind in ("training", "deployment")}
    assert expected <= set(dagbag.dag_ids)
    assert {d for d in dagbag.dag_ids if d.startswith(("retention", "payments"))} == expected


class Recorder:
    """Records the AWS calls a DAG run makes, at the client (botocore and aiobotocore, which the deferred tasks'
    triggers use), in every thread of the process: the operation and its parameters, as the role would be asked to
    authorize them. A call made while the stand-in serves a request (inside moto's Flask request) is the stand-in
    playing AWS's side (a Glue job run writing its output), kept apart in `emulated`. The server's own log of what it
    answered meanwhile (`answered`, server_log.py) is what both are reconciled with."""

    def __init__(self, server_log: ServerLog):
        self.calls: list[Call] = []
        self.emulated: list[Call] = []
        self.answered: list[Call] = []
        self.server_log = server_log
        self.recording = False

    @contextmanager
    def run(self) -> Iterator[None]:
        with self.server_log.recording() as answered:
            self.recording = True
            try:
                yield
            finally:
                self.recording = False
        self.answered += answered

    def clear(self) -> None:
        self.calls.clear()
        self.emulated.clear()
        self.answered.clear()

    def start(self):
        from aiobotocore.client import AioBaseClient
        from botocore.client import BaseClient
        from flask import has_request_context

        recorder = self
        sync_call, async_call = BaseClient._make_api_call, AioBaseClient._make_api_call

        def note(client, operation, params):
            if recorder.recording:
                calls = recorder.emulated if has_request_context() else recorder.calls
                calls.append(Call(client.meta.service_model.service_name, operation, dict(params)))

        def recording_sync(client, operation, params):
            note(client, operation, params)
            return sync_call(client, operation, params)

        async def recording_async(client, operation, params):
            note(client, operation, params)
            return await async_call(client, operation, params)

        BaseClient._make_api_call, AioBaseClient._make_api_call = recording_sync, recording_async
        self._originals = (BaseClient, AioBaseClient, sync_call, async_call)

    def stop(self):
        sync_client, async_client, sync_call, async_call = self._originals
        sync_client._make_api_call, async_client._make_api_call = sync_call, async_call


@pytest.fixture(scope="module")
def aws(dagbag, pipelines, tmp_path_factory):
    server_log = ServerLog(tmp_path_factory.mktemp("moto") / "requests.jsonl")
    server_log.install()
    stand_in = AwsStandIn()
    stand_in.start()
    recorder = Recorder(server_log)
    recorder.start()
    os.environ["AWS_ENDPOINT_URL"] = stand_in.endpoint_url
    s3, ecr, glue, sm = (boto3.client(s) for s in ("s3", "ecr", "glue", "sagemaker"))
    location = {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
    created_buckets = set()
    for name, info in pipelines.items():
        config = info["config"]
        for bucket in (config["data"]["bucket"], config["preprocessing"]["script_prefix"][5:].split("/", 1)[0]):
            if bucket not in created_buckets:
                s3.create_bucket(Bucket=bucket, **location)
                created_buckets.add(bucket)
        code_bucket, code_prefix = config["preprocessing"]["script_prefix"][5:].split("/", 1)
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
        if "notification_topic_arn" in config:
            boto3.client("sns").create_topic(Name=config["notification_topic_arn"].rsplit(":", 1)[1])
    recorder.clear()
    yield recorder
    recorder.stop()
    os.environ.pop("AWS_ENDPOINT_URL", None)
    stand_in.stop()
    server_log.uninstall()


def _manifest(seed: str) -> str:
    layer = "sha256:" + (seed * 64)[:64].encode().hex()[:64]
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": "sha256:" + "c" * 64},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1, "digest": layer}],
        }
    )


def _run(dagbag, dag_id: str, conf: dict, recorder: Recorder):
    with recorder.run():
        dag_run = dagbag.get_dag(dag_id).test(run_conf=conf)
    return dag_run, {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def _image_conf(info: dict) -> dict:
    repository = info["config"]["training"]["image_repository_name"]
    return {
        "image_uri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{repository}@{info['digest']}",
        "image_tag": COMMIT,
    }


@pytest.fixture(scope="module")
def runs(aws, dagbag, pipelines) -> dict[str, Recording]:
    """The calls each pipeline's runs made, over the paths a pipeline takes: retention trains the image its conf names
    (auto-approved), deploys it and updates the endpoint blue/green, and notifies its topic when a run fails; payments
    trains the newest image of its repository, a person approves the package, and the deployment finds the newest
    approved package, then updates the serverless endpoint."""
    recorded: dict[str, Recording] = {}
    sagemaker = boto3.client("sagemaker")

    def succeed(dag_id: str, conf: dict) -> None:
        dag_run, states = _run(dagbag, dag_id, conf, aws)
        assert dag_run.state == "success", states

    retention, payments = pipelines["retention"], pipelines["payments"]
    aws.clear()
    succeed(retention["training"], _image_conf(retention))
    package = _newest_package(retention)
    succeed(retention["deployment"], {"model_package_arn": package})
    succeed(retention["deployment"], {"model_package_arn": package})
    wrong_image = {**_image_conf(retention), "image_uri": _image_conf(payments)["image_uri"]}
    failed, _ = _run(dagbag, retention["training"], wrong_image, aws)
    assert failed.state == "failed"
    recorded["retention"] = Recording(list(aws.calls), list(aws.emulated), list(aws.answered))

    aws.clear()
    succeed(payments["training"], {})
    sagemaker.update_model_package(ModelPackageArn=_newest_package(payments), ModelApprovalStatus="Approved")
    succeed(payments["deployment"], {})
    succeed(payments["deployment"], {"model_package_arn": _newest_package(payments)})
    recorded["payments"] = Recording(list(aws.calls), list(aws.emulated), list(aws.answered))
    return recorded


@dataclass
class Recording:
    #: the calls the DAG runs made (the IAM proof evaluates these)
    calls: list[Call]
    #: the calls the stand-in made as AWS's side of a job (not the caller's)
    emulated: list[Call]
    #: what the moto server answered while the runs ran
    answered: list[Call]


def _newest_package(info: dict) -> str:
    group = info["config"]["registry"]["model_package_group_name"]
    listed = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName=group, SortOrder="Descending")
    return listed["ModelPackageSummaryList"][0]["ModelPackageArn"]


def test_both_pipelines_train_register_and_deploy_on_the_written_configs(runs, pipelines):
    retention, payments = runs["retention"], runs["payments"]
    (training,) = [c.params for c in retention.calls if c.action == "CreateTrainingJob"]
    assert training["EnableManagedSpotTraining"] is True and training["StoppingCondition"]["MaxWaitTimeInSeconds"] == 7200
    assert training["CheckpointConfig"]["S3Uri"].startswith(
        f"s3://{pipelines['retention']['config']['data']['bucket']}/checkpoints/retention/"
    )
    assert training["RoleArn"] == pipelines["retention"]["config"]["training"]["role_arn"]
    update = [c.params for c in retention.calls if c.action == "UpdateEndpoint"][-1]
    alarms = pipelines["retention"]["config"]["deployment"]["rollback_alarm_names"]
    assert update["DeploymentConfig"]["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": a} for a in alarms]}
    assert update["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "LINEAR"
    (config,) = [c.params for c in payments.calls if c.action == "CreateEndpointConfig"][:1]
    assert config["ProductionVariants"][0]["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 5}
    assert "DeploymentConfig" not in [c.params for c in payments.calls if c.action == "UpdateEndpoint"][-1]


def _keys(pipelines: dict) -> dict[str, str]:
    return {info["config"]["data"]["bucket"]: info["config"]["data"]["kms_key_arn"] for info in pipelines.values()}


def _iam_requests(calls: list[Call], pipelines: dict) -> list[Request]:
    unique: dict[Request, None] = {}
    for call in calls:
        for request in requests_for(call, ACCOUNT, REGION, _keys(pipelines)):
            unique[request] = None
    return list(unique)


def _role_arn(logical_id: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{logical_id}"


def _unreconciled(recording: Recording, pipelines: dict) -> tuple[Counter, Counter]:
    """(answered by the server but not recorded at the client, recorded but not answered), each call as its service,
    operation and IAM requests: a call the proof did not evaluate shows up in the first."""

    def signature(call: Call) -> tuple:
        requests = {(r.action, r.resource) for r in requests_for(call, ACCOUNT, REGION, _keys(pipelines))}
        return call.service, call.action, tuple(sorted(requests))

    answered = Counter(map(signature, recording.answered))
    made = Counter(map(signature, recording.calls + recording.emulated))
    return answered - made, made - answered


def test_every_call_the_stand_in_answered_was_recorded_and_so_evaluated(runs, pipelines):
    for name, recording in runs.items():
        not_recorded, not_answered = _unreconciled(recording, pipelines)
        assert not_recorded == Counter(), f"the stand-in answered calls of {name}'s runs that were not evaluated"
        assert not_answered == Counter(), f"calls of {name}'s runs never reached the stand-in"
        assert len(recording.answered) == len(recording.calls) + len(recording.emulated) > 40


def test_a_call_the_client_side_recorder_cannot_see_is_found_by_the_reconciliation(runs, aws, pipelines):
    """A call from another process (on MWAA the triggerer is one) reaches the stand-in, not the recorder."""
    group = pipelines["payments"]["config"]["registry"]["model_package_group_name"]
    script = f"import boto3; boto3.client('sagemaker').list_model_packages(ModelPackageGroupName={group!r})"
    aws.clear()
    with aws.run():
        boto3.client("sagemaker").describe_model_package_group(ModelPackageGroupName=group)  # seen by both
        subprocess.run([sys.executable, "-c", script], check=True, env=os.environ.copy())
    not_recorded, not_answered = _unreconciled(Recording(list(aws.calls), [], list(aws.answered)), pipelines)
    assert not_recorded == Counter({("sagemaker", "ListModelPackages", (("sagemaker:ListModelPackages", "*"),)): 1})
    assert not_answered == Counter()


#: Per Airflow version: per pipeline, its distinct IAM requests (action, resource) and how many of them the other
#: pipeline's grants allow (those IAM cannot scope to a resource: `*`). Poll counts do not change these.
EXPECTED_REQUESTS = {
    "3.0.6": {"retention": (40, 0), "payments": (42, 1)},
    "3.2.1": {"retention": (41, 0), "payments": (43, 1)},
    "3.3.1": {"retention": (41, 0), "payments": (43, 1)},
}


def test_every_recorded_call_is_allowed_to_its_pipeline_and_denied_to_the_other(runs, stack, pipelines, record_property):
    from airflow import __version__ as airflow_version

    execution_role = stack.output("ExecutionRole")
    summary = {"airflow": airflow_version}
    for name, info in pipelines.items():
        other = next(o for o in pipelines.values() if o is not info)
        requests = _iam_requests(runs[name].calls, pipelines)
        distinct = list(dict.fromkeys((r.action, r.resource) for r in requests))
        decided = {}
        for role in (execution_role, info["onlyRole"], other["onlyRole"]):
            decisions = evaluate(requests, stack.role_policies(role), ACCOUNT, _role_arn(role), stack.resource_policies())
            decided[role] = {(r.action, r.resource) for r, d in zip(requests, decisions, strict=True) if d == "Allowed"}
        for role in (execution_role, info["onlyRole"]):
            refused = [pair for pair in distinct if pair not in decided[role]]
            assert refused == [], f"{role} refuses {name}'s calls: {json.dumps(refused, indent=0)}"
        crossing = [pair for pair in distinct if pair in decided[other["onlyRole"]] and pair[1] != "*"]
        assert crossing == [], f"{other['pipeline']}'s grants reach {name}'s resources"
        allowed_to_other = len(decided[other["onlyRole"]])
        summary[name] = {
            "calls": len(runs[name].calls),
            "answered_by_the_stand_in": len(runs[name].answered),
            "distinct_requests": len(distinct),
            "allowed_to_execution_role": len(decided[execution_role]),
            "allowed_to_own_role": len(decided[info["onlyRole"]]),
            "allowed_to_other_pipeline": allowed_to_other,
            "denied_to_other_pipeline": len(distinct) - allowed_to_other,
            "by_action": dict(Counter(a for a, _ in distinct)),
        }
    record_property("iam_summary", json.dumps(summary))
    print("IAM proof:", json.dumps(summary))
    counts = {n: (s["distinct_requests"], s["allowed_to_other_pipeline"]) for n, s in summary.items() if n in pipelines}
    assert counts == EXPECTED_REQUESTS[airflow_version], summary


def _granted(policies: list[dict]) -> list[tuple[str, str]]:
    """Every (action, resource) an Allow statement grants, as written (patterns; a NotResource as `not <pattern>`)."""
    pairs = []
    for document in policies:
        for statement in document["policy"]["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            actions = statement["Action"]
            resources = statement.get("Resource") or [f"not {r}" for r in _listed(statement["NotResource"])]
            pairs += [(action, resource) for action in _listed(actions) for resource in _listed(resources)]
    return list(dict.fromkeys(pairs))


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _not_exercised(policies: list[dict], requests: list[Request], principal: str, pipelines: dict) -> set[tuple[str, str]]:
    """The granted (action, resource pattern) pairs, named as `_named` names them, that no recorded request of either
    pipeline (named the same way) falls under. A pair IAM never applies (an action on another resource type, which a
    statement listing several of each grants) is left out: the evaluator says which, by refusing a request of that
    action on a resource of that pattern."""
    granted = _granted(policies)
    concrete = [(a, p) for a, p in granted if "*" not in a and not p.startswith("not ")]
    probes = [Request(a, p if p == "*" else p.replace("*", "x")) for a, p in concrete]
    decisions = evaluate(probes, policies, ACCOUNT, principal, errors=True)
    applicable = set(granted) - {pair for pair, d in zip(concrete, decisions, strict=True) if d == "Error"}
    called = _named({(r.action, r.resource) for r in requests}, pipelines)
    return {
        (action, pattern)
        for action, pattern in _named(applicable, pipelines)
        if not any(fnmatchcase(a, action) and fnmatchcase(r, pattern) for a, r in called)
    }


def _named(pairs: set[tuple[str, str]], pipelines: dict) -> set[tuple[str, str]]:
    """Each resource with the names of a pipeline's config replaced by `<pipeline>`-relative placeholders."""
    names = {}
    for info in pipelines.values():
        config, pipeline = info["config"], info["pipeline"]
        names[config["preprocessing"]["glue_job_name"]] = "<glue job>"
        names[config["data"]["kms_key_arn"]] = "<pipeline key>"
        names[config["data"]["bucket"]] = "<data bucket>"
        names[config["training"]["image_repository_name"]] = "<image repository>"
        names.update({alarm: "<rollback alarm>" for alarm in config["deployment"].get("rollback_alarm_names", [])})
        names[f"/{pipeline}-"], names[f"/{pipeline}/"] = "/<pipeline>-", "/<pipeline>/"
    named = set()
    for action, resource in pairs:
        for value, placeholder in names.items():
            resource = resource.replace(value, placeholder)
        named.add((action, resource.replace(f"{REGION}:{ACCOUNT}", "<here>")))
    return named


#: Granted, applicable, and called on no path these runs take (reviewed), per pipeline:
NOT_CALLED_BY_THESE_RUNS = {
    ("glue:BatchStopJobRun", "arn:aws:glue:<here>:job/<glue job>"),  # a killed preprocess task stops its job run
    ("sagemaker:StopTrainingJob", "arn:aws:sagemaker:<here>:training-job/<pipeline>-train-*"),  # a killed train task
    ("sagemaker:StopProcessingJob", "arn:aws:sagemaker:<here>:processing-job/<pipeline>-eval-*"),  # a killed evaluate
    # SageMaker acts on these with the caller's permissions (not observable against moto; see the README):
    ("cloudwatch:DescribeAlarms", "arn:aws:cloudwatch:<here>:alarm:<rollback alarm>"),  # the update's rollback alarms
    ("kms:DescribeKey", "<pipeline key>"),  # the key a create call names
    # Not needed: the provider creates a missing group without tags (src/ml/private/dag-grants.ts can drop it).
    ("sagemaker:AddTags", "arn:aws:sagemaker:<here>:model-package-group/<pipeline>-models"),
}


def _not_called_by_these_runs() -> set[tuple[str, str]]:
    if GLUE_RESUMES_ON_RETRY:
        return NOT_CALLED_BY_THESE_RUNS
    # Provider 9.12.0 (Airflow 3.0.6): only a retried preprocess task looks for its earlier run (compat.py).
    return NOT_CALLED_BY_THESE_RUNS | {("glue:GetJobRuns", "arn:aws:glue:<here>:job/<glue job>")}


def test_what_the_grants_allow_beyond_the_recorded_calls_is_listed(runs, stack, pipelines):
    """'And no more', on every role the proof covers, by action and resource."""
    every_request = [r for recording in runs.values() for r in _iam_requests(recording.calls, pipelines)]
    for info in pipelines.values():
        role = info["onlyRole"]
        unused = _not_exercised(stack.role_policies(role), every_request, _role_arn(role), pipelines)
        expected = {(a, r) for a, r in _not_called_by_these_runs() if "alarm" not in r or info["pipeline"] == "retention"}
        assert unused == expected, (sorted(unused - expected), sorted(expected - unused))
    execution_role = stack.output("ExecutionRole")
    unused = _not_exercised(stack.role_policies(execution_role), every_request, _role_arn(execution_role), pipelines)
    environment_own = unused - _not_called_by_these_runs()
    # The environment's own grants (MWAA's scheduler, workers and web server use them, not the DAGs' tasks):
    assert {a for a, _ in environment_own} == MWAA_OWN_ACTIONS, sorted(environment_own)
    assert all(":<pipeline>" not in r and "<data bucket>" not in r for _, r in environment_own), sorted(environment_own)


MWAA_OWN_ACTIONS = {
    *("s3:GetObject*", "s3:GetBucket*", "s3:List*"),  # the DAG folder, requirements and plugins
    "airflow:PublishMetrics",
    # (its log-stream actions, CreateLogStream, PutLogEvents and GetLogEvents, are left out as inapplicable: the probe
    # names a log group)
    *("logs:CreateLogGroup", "logs:GetLogRecord", "logs:GetLogGroupFields", "logs:GetQueryResults", "logs:DescribeLogGroups"),
    "s3:GetAccountPublicAccessBlock",
    "cloudwatch:PutMetricData",
    *("sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"),
    *("sqs:ReceiveMessage", "sqs:SendMessage"),
    *("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"),  # the Celery queue's AWS-owned key
}


def test_what_the_jobs_and_the_models_do_as_the_sagemaker_role_is_allowed_to_it_and_denied_to_the_other_s(
    runs, aws, stack, pipelines
):
    """The SageMaker role, against what the recorded create calls make SageMaker do as it (container_requests_for):
    the image pull, the inputs read, the outputs and checkpoints written, with the pipeline key."""
    s3 = boto3.client("s3")

    def objects(bucket: str, prefix: str) -> list[str]:
        return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]

    def package_containers(arn: str) -> list[dict]:
        return boto3.client("sagemaker").describe_model_package(ModelPackageName=arn)["InferenceSpecification"]["Containers"]

    summary = {}
    for name, info in pipelines.items():
        other = next(o for o in pipelines.values() if o is not info)
        role, other_role = (p["config"]["training"]["role_arn"] for p in (info, other))
        creates = [c for c in runs[name].calls if c.action in ("CreateTrainingJob", "CreateProcessingJob", "CreateModel")]
        assert {c.action for c in creates} == {"CreateTrainingJob", "CreateProcessingJob", "CreateModel"}
        assert {c.params.get("RoleArn") or c.params.get("ExecutionRoleArn") for c in creates} == {role}
        implied = (container_requests_for(c, ACCOUNT, REGION, _keys(pipelines), objects, package_containers) for c in creates)
        requests = list(dict.fromkeys(r for found in implied for r in found))
        decisions = {
            arn: evaluate(requests, stack.role_policies(arn.rsplit("/", 1)[1]), ACCOUNT, arn, stack.resource_policies())
            for arn in (role, other_role)
        }
        refused = [(r.action, r.resource) for r, d in zip(requests, decisions[role], strict=True) if d != "Allowed"]
        assert refused == [], f"{name}'s SageMaker role refuses what its jobs do: {refused}"
        crossing = [(r.action, r.resource) for r, d in zip(requests, decisions[other_role], strict=True) if d == "Allowed"]
        assert all(resource == "*" for _, resource in crossing), f"{other['pipeline']}'s SageMaker role reaches {crossing}"
        distinct = {(r.action, r.resource) for r in requests}
        summary[name] = {"requests": len(distinct), "allowed": len(distinct), "allowed_to_other": len(set(crossing))}
        summary[name]["by_action"] = dict(Counter(action for action, _ in distinct))
    print("SageMaker role proof:", json.dumps(summary))
    pulls = {f"ecr:{a}" for a in ("GetAuthorizationToken", "BatchCheckLayerAvailability", "GetDownloadUrlForLayer")}
    pulls.add("ecr:BatchGetImage")
    s3_and_kms = {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "kms:Decrypt", "kms:GenerateDataKey"}
    for name, found in summary.items():
        assert set(found["by_action"]) == pulls | s3_and_kms and found["allowed_to_other"] == 1, (name, found)


@pytest.mark.newest_only  # PySpark is in the tool venv only; the script does not depend on the Airflow version
def test_what_the_glue_script_reads_and_writes_is_allowed_to_the_glue_role_and_denied_to_the_other_s(
    runs, stack, pipelines, tmp_path
):
    """The Glue job role, against the S3 objects a run of the shipped Glue script reads and writes. The script runs
    on local Spark (as test_glue_entry.py runs it) on a sample of raw data at the paths the recorded StartJobRun
    names, mirrored into a folder; every file it read (the CSVs under `--input_uri`; and the script and the staged
    `--extra-py-files`, which Glue fetches) and every file it left under `--output_uri` is an S3 request of the role,
    with the KMS calls of SSE-KMS (the code bucket's key; the job's security configuration's key for its writes)."""
    starter = ROOT / "assets" / "starter"
    sys.path.insert(0, str(starter / "data"))
    try:
        from make_sample_data import write_sample
    finally:
        sys.path.pop(0)
    mirror = tmp_path / "s3"

    def local(uri: str) -> Path:
        return mirror / uri[5:]

    (start,) = [c.params for c in runs["retention"].calls if c.action == "StartJobRun"]
    arguments = start["Arguments"]
    write_sample(local(arguments["--input_uri"]) / "sample.csv")
    result = subprocess.run(
        [sys.executable, str(ROOT / "assets" / "glue" / "run_preprocessing.py")]
        + [
            v
            for k, value in arguments.items()
            for v in (k, str(local(value)) if value.startswith("s3://") else value)
            if k != "--extra-py-files"
        ],
        env={**os.environ, "PYTHONPATH": str(starter / "preprocessing")},  # what --extra-py-files does on Glue
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    def keys_under(uri: str) -> list[str]:
        root = local(uri)
        return sorted(f"{uri.rstrip('/')}/{p.relative_to(root)}" for p in root.rglob("*") if p.is_file() and ".crc" not in p.name)

    read, written = keys_under(arguments["--input_uri"]), keys_under(arguments["--output_uri"])
    assert len(read) == 1 and any("/train/" in k for k in written) and any("/summary/" in k for k in written), written
    summary = {}
    for name, info in pipelines.items():
        other = next(o for o in pipelines.values() if o is not info)
        requests = _glue_requests(stack, info, pipelines["retention"], read, written, arguments)
        role, other_role = (_glue_role(stack, p) for p in (info, other))
        own = evaluate(requests, stack.role_policies(role), ACCOUNT, _role_arn(role), stack.resource_policies())
        refused = [(r.action, r.resource) for r, d in zip(requests, own, strict=True) if d != "Allowed"]
        assert refused == [], f"{name}'s Glue role refuses what its job does: {refused}"
        foreign = evaluate(requests, stack.role_policies(other_role), ACCOUNT, _role_arn(other_role), stack.resource_policies())
        crossing = [(r.action, r.resource) for r, d in zip(requests, foreign, strict=True) if d == "Allowed"]
        distinct = {(r.action, r.resource) for r in requests}
        summary[name] = {"requests": len(distinct), "allowed": len(distinct), "allowed_to_other": len(set(crossing))}
        summary[name]["by_action"] = dict(Counter(action for action, _ in distinct))
        # Shared by both pipelines' jobs, so the only requests both roles may make: the Glue script asset, and the key
        # of this app's code bucket (one bucket for both; each role reads its own prefix only).
        code_bucket = info["config"]["preprocessing"]["script_prefix"][5:].split("/")[0]
        shared = {_script_location(stack, info)[1], _bucket_key(stack, code_bucket)}
        assert {resource for _, resource in crossing} == shared, crossing
    print("Glue role proof:", json.dumps(summary))


def _glue_role(stack: Stack, info: dict) -> str:
    job = stack.resources[info["config"]["preprocessing"]["glue_job_name"]]
    return job["Properties"]["Role"]["Fn::GetAtt"][0]


def _script_location(stack: Stack, info: dict) -> tuple[str, str]:
    script = stack.resolve(stack.resources[info["config"]["preprocessing"]["glue_job_name"]]["Properties"]["Command"])
    bucket, _, key = script["ScriptLocation"][5:].partition("/")
    return bucket, f"arn:aws:s3:::{bucket}/{key}"


def _glue_requests(stack, info, recorded, read, written, arguments) -> list[Request]:
    """The run's reads and writes, aimed at `info`'s pipeline: the recorded run's URIs with its prefixes replaced."""
    config, source = info["config"], recorded["config"]
    swap = [(source["data"]["bucket"], config["data"]["bucket"]), (f"/{recorded['pipeline']}/", f"/{info['pipeline']}/")]
    swap.append((source["preprocessing"]["script_prefix"], config["preprocessing"]["script_prefix"]))

    def aimed(uri: str) -> str:
        for before, after in swap:
            uri = uri.replace(before, after)
        return uri

    key_of = {config["data"]["bucket"]: config["data"]["kms_key_arn"]}
    code_bucket = config["preprocessing"]["script_prefix"][5:].split("/", 1)[0]
    key_of[code_bucket] = _bucket_key(stack, code_bucket)
    requests = [Request("s3:GetObject", _script_location(stack, info)[1])]

    def request(action: str, uri: str, kms: str) -> None:
        bucket, _, key = aimed(uri)[5:].partition("/")
        if action == "s3:ListBucket":
            requests.append(Request(action, f"arn:aws:s3:::{bucket}", (("s3:prefix", key),)))
            return
        requests.append(Request(action, f"arn:aws:s3:::{bucket}/{key}"))
        if bucket in key_of:
            requests.append(Request(kms, key_of[bucket], (), f"{action} on an SSE-KMS object"))

    request("s3:GetObject", arguments["--extra-py-files"], "kms:Decrypt")
    request("s3:ListBucket", arguments["--input_uri"], "")
    for uri in read:
        request("s3:GetObject", uri, "kms:Decrypt")
    request("s3:ListBucket", arguments["--output_uri"], "")
    for uri in written:
        request("s3:PutObject", uri, "kms:GenerateDataKey")
    return list(dict.fromkeys(requests))


def _bucket_key(stack: Stack, bucket: str) -> str:
    for logical_id, resource in stack.resources.items():
        if resource["Type"] == "AWS::S3::Bucket" and stack.name_of(logical_id) == bucket:
            rule = resource["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            return stack.resolve(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"])
    raise KeyError(bucket)


def _translate(calls: list[Call], source: dict, target: dict) -> list[Call]:
    """The same calls aimed at another pipeline: every name, ARN and prefix of `source`'s config replaced by `target`'s
    (the DAGs derive every name they use from their config, so this is what that pipeline's runs call)."""

    def values(config: dict, prefix: str = "") -> dict[str, str]:
        found = {}
        for key, value in config.items():
            if isinstance(value, dict):
                found.update(values(value, f"{prefix}{key}."))
            elif isinstance(value, str) and len(value) > 3 and not value.endswith("/") and "." not in value[:3]:
                found[prefix + key] = value
        return found

    old, new = values(source), values(target)
    pairs = sorted(((old[k], new[k]) for k in old if k in new and old[k] != new[k]), key=lambda p: -len(p[0]))
    pairs.append((f"{source['pipeline_name']}-", f"{target['pipeline_name']}-"))  # SageMaker names <pipeline>-<stage>-...
    pairs.append((f"/{source['pipeline_name']}/", f"/{target['pipeline_name']}/"))  # prefixes <prefix><pipeline>/...
    translated = []
    for call in calls:
        text = json.dumps(call.params)
        for before, after in pairs:
            text = text.replace(before, after)
        translated.append(Call(call.service, call.action, json.loads(text)))
    return translated


@pytest.mark.newest_only  # its calls are the newest Airflow's, translated (not recorded on the example's configs)
def test_on_the_full_example_each_pipeline_s_calls_are_allowed_by_its_own_stack_and_denied_by_the_other(
    runs, pipelines, example_assembly
):
    """The example app (examples/app.ts): the bare stack's pipeline and the shared stack's two. Each pipeline's calls (the
    recorded runs, aimed at its resources) are allowed by its environment's execution role and denied by the other
    stack's; the two pipelines of the shared stack share one execution role (MWAA runs every DAG of an environment as
    that role), so between them IAM cannot separate, as the README's security notes say."""
    stacks = {name: Stack(example_assembly, name, ACCOUNT, REGION) for name in ("MwaaMlopsExample", "MwaaMlopsSharedExample")}
    source_of = {"real_time": pipelines["retention"], "serverless": pipelines["payments"]}
    checked = {}
    for stack_name, stack in stacks.items():
        other = stacks[next(n for n in stacks if n != stack_name)]
        roles = {name: _execution_role(s) for name, s in stacks.items()}
        for path in stack.dag_files("cdk_mwaa_mlops_pipelines"):
            config = json.loads(stack.dag_file(path))
            source = source_of[config["deployment"]["mode"]]
            calls = _translate(runs[source["pipeline"]].calls, source["config"], config)
            keys = {config["data"]["bucket"]: config["data"]["kms_key_arn"]}
            requests = list(dict.fromkeys(r for c in calls for r in requests_for(c, ACCOUNT, REGION, keys)))
            own = evaluate(
                requests, stack.role_policies(roles[stack_name]), ACCOUNT, _role_arn(roles[stack_name]), stack.resource_policies()
            )
            refused = [(r.action, r.resource) for r, d in zip(requests, own, strict=True) if d != "Allowed"]
            assert refused == [], f"{stack_name}'s execution role refuses {config['pipeline_name']}'s calls: {refused}"
            foreign = evaluate(
                requests, other.role_policies(roles[other.name]), ACCOUNT, _role_arn(roles[other.name]), stack.resource_policies()
            )
            crossing = [
                (r.action, r.resource) for r, d in zip(requests, foreign, strict=True) if d == "Allowed" and r.resource != "*"
            ]
            assert crossing == [], f"{other.name}'s execution role reaches {config['pipeline_name']}'s resources: {crossing}"
            checked[config["pipeline_name"]] = (len(requests), sum(d != "Allowed" for d in foreign))
    assert sorted(checked) == ["churn", "demand", "fraud"]
    print("IAM proof on the example:", json.dumps(checked))


def _execution_role(stack: Stack) -> str:
    (role,) = [
        logical_id
        for logical_id, resource in stack.resources.items()
        if resource["Type"] == "AWS::IAM::Role"
        and "airflow-env.amazonaws.com" in json.dumps(resource["Properties"]["AssumeRolePolicyDocument"])
    ]
    return role


def _custom_resource_event(stack: Stack, logical_id: str, response_url: str) -> dict:
    """CloudFormation's Delete request to a custom resource of the stack, with its synthesized properties."""
    return {
        "RequestType": "Delete",
        "ResponseURL": response_url,
        "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack.name}/0e1f2a30-aaaa-11ef-8c5b-0affe1d2c3b4",
        "RequestId": "5f7ab1a6-1c62-4a3e-9d0b-8f6d4f1f2a10",
        "ResourceType": stack.resources[logical_id]["Type"],
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": f"{logical_id}/cleanup",
        "ResourceProperties": stack.resolve(stack.resources[logical_id]["Properties"]),
    }


@pytest.fixture
def cloudformation_response_url() -> Iterator[tuple[str, list[dict]]]:
    """A local stand-in for CloudFormation's pre-signed response URL: records each JSON body PUT to it."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    received: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_PUT(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/response", received
    finally:
        server.shutdown()
        server.server_close()


def test_the_endpoint_clean_up_deletes_what_the_runs_created_as_its_role_allows_and_the_other_s_denies(
    runs, aws, stack, pipelines, cloudformation_response_url, monkeypatch
):
    """Last in this module: it deletes what the runs deployed. The clean-up handler (assets/cleanup) runs CloudFormation's
    stack-delete request of each pipeline's clean-up against the stand-in the runs deployed to; its calls are
    recorded and reconciled as the runs' are, and evaluated against its synthesized role and the other pipeline's."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("endpoint_cleanup", ROOT / "assets" / "cleanup" / "endpoint_cleanup.py")
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    monkeypatch.setenv("POLL_SECONDS", "0.05")
    url, responses = cloudformation_response_url
    cleanups = {
        stack.resolve(r["Properties"]["PipelineName"]): logical_id
        for logical_id, r in stack.resources.items()
        if r["Type"] == "Custom::CdkMwaaMlopsEndpointCleanup"
    }
    functions = {name: stack.resources[cleanups[name]]["Properties"]["ServiceToken"]["Fn::GetAtt"][0] for name in cleanups}
    roles = {name: stack.resources[function]["Properties"]["Role"]["Fn::GetAtt"][0] for name, function in functions.items()}

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 900_000

    sagemaker = boto3.client("sagemaker")
    summary = {}
    for name, info in pipelines.items():
        other = next(o for o in pipelines.values() if o is not info)["pipeline"]
        aws.clear()
        with aws.run():
            handler.handler(_custom_resource_event(stack, cleanups[name], url), Context())
        assert responses[-1]["Status"] == "SUCCESS", responses[-1]
        assert responses[-1]["Data"]["Endpoint"].startswith("deleted"), responses[-1]
        not_recorded, not_answered = _unreconciled(Recording(list(aws.calls), [], list(aws.answered)), pipelines)
        assert not_recorded == not_answered == Counter()
        requests = _iam_requests(aws.calls, pipelines)
        decisions = {
            role: evaluate(requests, stack.role_policies(role), ACCOUNT, _role_arn(role), stack.resource_policies())
            for role in (roles[name], roles[other])
        }
        refused = [(r.action, r.resource) for r, d in zip(requests, decisions[roles[name]], strict=True) if d != "Allowed"]
        assert refused == [], f"{name}'s clean-up role refuses its calls: {refused}"
        crossing = [(r.action, r.resource) for r, d in zip(requests, decisions[roles[other]], strict=True) if d == "Allowed"]
        assert all(resource == "*" for _, resource in crossing), f"{other}'s clean-up role reaches {crossing}"
        summary[name] = {"calls": len(aws.calls), "requests": len(requests), "allowed_to_other": len(crossing)}
        summary[name]["by_action"] = dict(Counter(r.action for r in requests))
    left = {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]}
    assert left.isdisjoint(pipelines), left
    print("Clean-up role proof:", json.dumps(summary))
    assert {n: (s["requests"], s["allowed_to_other"]) for n, s in summary.items()} == EXPECTED_CLEANUP_REQUESTS, summary


#: per pipeline: the clean-up's distinct requests, and how many the other pipeline's clean-up role allows (the `*` lists)
EXPECTED_CLEANUP_REQUESTS = {"retention": (8, 2), "payments": (8, 2)}
