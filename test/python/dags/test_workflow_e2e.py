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
from collections import Counter

import boto3
import jsonschema
import pytest
from aws_stand_in import AwsStandIn
from cloud_assembly import ROOT, Stack, synthesize
from iam_requests import Call, Request, evaluate, requests_for

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
    from dag_parsing import bundle_dag_bag, sync_to_db

    bag = bundle_dag_bag(airflow_db, airflow_db)
    sync_to_db(bag)  # on Airflow 3.0, the deployment DAG a training run starts must be stored
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
    triggers use): the operation and its parameters, as the role would be asked to authorize them. Only calls made
    while a run executes on the test's thread count; the stand-in's own writes (moto server threads) and the test's
    setup do not."""

    def __init__(self):
        self.calls: list[Call] = []
        self.recording = False

    def start(self):
        import threading

        from aiobotocore.client import AioBaseClient
        from botocore.client import BaseClient

        recorder, main = self, threading.main_thread()
        sync_call, async_call = BaseClient._make_api_call, AioBaseClient._make_api_call

        def note(client, operation, params):
            if recorder.recording and threading.current_thread() is main:
                recorder.calls.append(Call(client.meta.service_model.service_name, operation, dict(params)))

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
def aws(dagbag, pipelines):
    stand_in = AwsStandIn()
    stand_in.start()
    recorder = Recorder()
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
    recorder.calls.clear()
    yield recorder
    recorder.stop()
    os.environ.pop("AWS_ENDPOINT_URL", None)
    stand_in.stop()


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


def _run(dagbag, dag_id: str, conf: dict, recorder: Recorder | None = None):
    if recorder:
        recorder.recording = True
    try:
        dag_run = dagbag.get_dag(dag_id).test(run_conf=conf)
    finally:
        if recorder:
            recorder.recording = False
    return dag_run, {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def _image_conf(info: dict) -> dict:
    repository = info["config"]["training"]["image_repository_name"]
    return {
        "image_uri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{repository}@{info['digest']}",
        "image_tag": COMMIT,
    }


@pytest.fixture(scope="module")
def runs(aws, dagbag, pipelines) -> dict[str, list[Call]]:
    """The calls each pipeline's runs made, over the paths a pipeline takes: retention trains the image its conf names
    (auto-approved), deploys it and updates the endpoint blue/green, and notifies its topic when a run fails; payments
    trains the newest image of its repository, a person approves the package, and the deployment finds the newest
    approved package, then updates the serverless endpoint."""
    recorded: dict[str, list[Call]] = {}
    sagemaker = boto3.client("sagemaker")

    def succeed(dag_id: str, conf: dict) -> None:
        dag_run, states = _run(dagbag, dag_id, conf, aws)
        assert dag_run.state == "success", states

    retention, payments = pipelines["retention"], pipelines["payments"]
    aws.calls.clear()
    succeed(retention["training"], _image_conf(retention))
    package = _newest_package(retention)
    succeed(retention["deployment"], {"model_package_arn": package})
    succeed(retention["deployment"], {"model_package_arn": package})
    wrong_image = {**_image_conf(retention), "image_uri": _image_conf(payments)["image_uri"]}
    failed, _ = _run(dagbag, retention["training"], wrong_image, aws)
    assert failed.state == "failed"
    recorded["retention"] = list(aws.calls)

    aws.calls.clear()
    succeed(payments["training"], {})
    sagemaker.update_model_package(ModelPackageArn=_newest_package(payments), ModelApprovalStatus="Approved")
    succeed(payments["deployment"], {})
    succeed(payments["deployment"], {"model_package_arn": _newest_package(payments)})
    recorded["payments"] = list(aws.calls)
    return recorded


def _newest_package(info: dict) -> str:
    group = info["config"]["registry"]["model_package_group_name"]
    listed = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName=group, SortOrder="Descending")
    return listed["ModelPackageSummaryList"][0]["ModelPackageArn"]


def test_both_pipelines_train_register_and_deploy_on_the_written_configs(runs, pipelines):
    retention, payments = runs["retention"], runs["payments"]
    (training,) = [c.params for c in retention if c.action == "CreateTrainingJob"]
    assert training["EnableManagedSpotTraining"] is True and training["StoppingCondition"]["MaxWaitTimeInSeconds"] == 7200
    assert training["CheckpointConfig"]["S3Uri"].startswith(
        f"s3://{pipelines['retention']['config']['data']['bucket']}/checkpoints/retention/"
    )
    assert training["RoleArn"] == pipelines["retention"]["config"]["training"]["role_arn"]
    update = [c.params for c in retention if c.action == "UpdateEndpoint"][-1]
    alarms = pipelines["retention"]["config"]["deployment"]["rollback_alarm_names"]
    assert update["DeploymentConfig"]["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": a} for a in alarms]}
    assert update["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "LINEAR"
    (config,) = [c.params for c in payments if c.action == "CreateEndpointConfig"][:1]
    assert config["ProductionVariants"][0]["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 5}
    assert "DeploymentConfig" not in [c.params for c in payments if c.action == "UpdateEndpoint"][-1]


def _iam_requests(calls: list[Call], stack: Stack, pipelines: dict) -> list[Request]:
    keys = {info["config"]["data"]["bucket"]: info["config"]["data"]["kms_key_arn"] for info in pipelines.values()}
    unique: dict[Request, None] = {}
    for call in calls:
        for request in requests_for(call, ACCOUNT, REGION, keys):
            unique[request] = None
    return list(unique)


def _role_arn(logical_id: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{logical_id}"


def test_every_recorded_call_is_allowed_to_its_pipeline_and_denied_to_the_other(runs, stack, pipelines, record_property):
    execution_role = stack.output("ExecutionRole")
    execution_policies = stack.role_policies(execution_role)
    summary = {}
    for name, info in pipelines.items():
        other = next(o for o in pipelines.values() if o is not info)
        requests = _iam_requests(runs[name], stack, pipelines)
        assert len(requests) > 20
        for role, expected in ((execution_role, "Allowed"), (info["onlyRole"], "Allowed")):
            policies = execution_policies if role == execution_role else stack.role_policies(role)
            decisions = evaluate(requests, policies, ACCOUNT, _role_arn(role), stack.resource_policies())
            refused = [(r.action, r.resource, d) for r, d in zip(requests, decisions, strict=True) if d != expected]
            assert refused == [], f"{role} refuses {name}'s calls: {json.dumps(refused, indent=0)}"
        # The other pipeline's role: everything on this pipeline's resources is denied; only the calls IAM cannot
        # scope to a resource (ListModelPackages on *) are allowed to both.
        decisions = evaluate(
            requests, stack.role_policies(other["onlyRole"]), ACCOUNT, _role_arn(other["onlyRole"]), stack.resource_policies()
        )
        allowed = [r for r, d in zip(requests, decisions, strict=True) if d == "Allowed"]
        crossing = [(r.action, r.resource) for r in allowed if r.resource != "*"]
        assert crossing == [], f"{other['pipeline']}'s grants reach {name}'s resources"
        summary[name] = {
            "calls": len(runs[name]),
            "requests": len(requests),
            "allowed_to_execution_role": len(requests),
            "denied_to_other_pipeline": sum(d != "Allowed" for d in decisions),
            "by_action": dict(Counter(r.action for r in requests)),
            "s3": sorted(
                {f"{c.action} {c.params.get('Key') or c.params.get('Prefix', '')}" for c in runs[name] if c.service == "s3"}
            )[:20],
        }
    record_property("iam_summary", json.dumps(summary))
    print("IAM proof:", json.dumps(summary))


def test_what_the_grants_allow_beyond_the_recorded_calls_is_listed(runs, stack, pipelines):
    """'And no more': every granted action is either exercised by a recorded call or on this reviewed list."""
    exercised = {r.action for name in runs for r in _iam_requests(runs[name], stack, pipelines)}
    granted = set()
    for document in stack.role_policies(pipelines["retention"]["onlyRole"]):
        for statement in document["policy"]["Statement"]:
            granted.update([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    not_exercised = granted - exercised
    # Reviewed: each is called only on a path these runs do not take.
    assert not_exercised == {
        "glue:BatchStopJobRun",  # a killed preprocess task stops its job run
        "sagemaker:StopTrainingJob",  # a killed train task stops its job
        "sagemaker:StopProcessingJob",  # a killed evaluate task stops its job
        # SageMaker acts on these with the caller's permissions (not observable against moto; see the README):
        "cloudwatch:DescribeAlarms",  # the auto-rollback alarms an endpoint update names
        "kms:DescribeKey",  # the key a create call names for volumes and outputs
    }, sorted(not_exercised)


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
            calls = _translate(runs[source["pipeline"]], source["config"], config)
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
