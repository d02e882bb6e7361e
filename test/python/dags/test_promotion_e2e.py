"""Promotion end to end (issue 20): the app of test/ml/apps/promotion-e2e-app.ts (a pipeline account with churn [dev:
serverless, automatic gate; prod: in a second account] and fraud [qa]; the production account with churn's prod
PromotionTarget) is synthesized, its configs drive the shipped DAGs in a real Airflow 3, and every AWS call goes to
the moto stand-in, two moto accounts apart (moto keeps each account's state apart and answers AssumeRole across them).

Paths: churn trains, a person approves, the approval deploys dev, dev's checks pass and its automatic gate approves
prod, the prod run deploys in the production account and the package ends Deployed; a second package passes dev but
fails prod's checks: prod is rolled back, the package Rejected there and the failure notified; approving the first
package for prod again redeploys it; fraud deploys its only stage. Then IAM, by evaluation: every call the runs made
is allowed to the role that made it (the execution role, or a stage's deploy role it assumed) by identity policy,
trust policy and resource policies (model package group, keys, buckets) together, and the calls aimed at one stage or
pipeline are denied to the others' roles."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import jsonschema
import pytest
from aws_stand_in import AwsStandIn
from cloud_assembly import ROOT, Stack, synthesize
from dag_parsing import bundle_dag_bag, sync_to_db
from iam_requests import Call, Request, evaluate, requests_for
from test_workflow_e2e import _manifest

pytestmark = pytest.mark.e2e

PIPELINE_ACCOUNT, PRODUCTION_ACCOUNT, REGION = "123456789012", "210987654321", "eu-west-1"
COMMIT = "feedc0de"
SCHEMA = json.loads((ROOT / "assets" / "dags" / "cdk_mwaa_mlops" / "pipeline_config.schema.json").read_text())


@pytest.fixture(scope="module")
def stacks(tmp_path_factory) -> dict[str, Stack]:
    outdir = synthesize("test/ml/apps/promotion-e2e-app.ts", tmp_path_factory.mktemp("promotion-e2e.out"))
    return {
        PIPELINE_ACCOUNT: Stack(outdir, "PromotionPipeline", PIPELINE_ACCOUNT, REGION),
        PRODUCTION_ACCOUNT: Stack(outdir, "PromotionProd", PRODUCTION_ACCOUNT, REGION),
    }


@pytest.fixture(scope="module")
def pipelines(stacks) -> dict[str, dict]:
    stack = stacks[PIPELINE_ACCOUNT]
    found = {}
    for output in ("ChurnDags", "FraudDags"):
        info = json.loads(stack.output(output))
        info["config"] = json.loads(stack.dag_file(f"cdk_mwaa_mlops_pipelines/{info['pipeline']}.json"))
        found[info["pipeline"]] = info
    return found


@pytest.fixture(scope="module")
def dagbag(airflow_db, pipelines):
    written = []
    for name, info in pipelines.items():
        path = airflow_db / "cdk_mwaa_mlops_pipelines" / f"{name}.json"
        path.write_text(json.dumps(info["config"]))
        written.append(path)
    bag = bundle_dag_bag(airflow_db, airflow_db)
    sync_to_db(bag)
    from cdk_mwaa_mlops.config import parse_config

    bag.pipeline_configs = [parse_config(f"{name}.json", info["config"]) for name, info in pipelines.items()]
    yield bag
    for path in written:
        path.unlink()


def test_the_written_stage_configs_follow_the_schema_and_load_with_the_construct_s_dag_ids(dagbag, pipelines):
    from cdk_mwaa_mlops.config import parse_config

    for name, info in pipelines.items():
        assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(info["config"])) == []
        config = parse_config(f"{name}.json", info["config"])
        assert (config.training_dag_id, config.deployment_dag_id) == (info["training"], info["deployment"])
        assert info["deployment"] in dagbag.dag_ids
    assert [s.name for s in parse_config("c", pipelines["churn"]["config"]).stages] == ["dev", "prod"]


@dataclass
class Made:
    """A call as the caller made it, with the account and role of the credentials that signed it."""

    call: Call
    account: str
    role: str


@dataclass
class CallRecorder:
    """Every AWS call made in this process (botocore and aiobotocore), with who made it: the access key that signs it
    names its account and, for assumed credentials, the role (moto's IAM backend knows them: same process)."""

    made: list[Made] = field(default_factory=list)
    #: only while a DAG runs: the test's own calls (a person approving, its look into the accounts) are not the runs'
    active: bool = False

    def start(self) -> None:
        from aiobotocore.client import AioBaseClient
        from botocore.client import BaseClient
        from flask import has_request_context
        from moto.iam.models import get_account_id_from, iam_backends

        sync_call, async_call = BaseClient._make_api_call, AioBaseClient._make_api_call
        recorder = self

        def note(client, operation, params):
            if not recorder.active or has_request_context():  # the test's own calls; the stand-in playing AWS's side
                return
            credentials = client._request_signer._credentials
            key = getattr(credentials, "access_key", None) or ""
            account = get_account_id_from(key)
            entry = iam_backends[account]["aws"].access_keys.get(key)
            role = (entry.role_arn or "") if entry is not None else ""
            recorder.made.append(Made(Call(client.meta.service_model.service_name, operation, dict(params)), account, role))

        def recording_sync(client, operation, params):
            note(client, operation, params)
            return sync_call(client, operation, params)

        async def recording_async(client, operation, params):
            note(client, operation, params)
            return await async_call(client, operation, params)

        BaseClient._make_api_call, AioBaseClient._make_api_call = recording_sync, recording_async
        self._originals = (BaseClient, AioBaseClient, sync_call, async_call)

    def stop(self) -> None:
        sync_client, async_client, sync_call, async_call = self._originals
        sync_client._make_api_call, async_client._make_api_call = sync_call, async_call


@dataclass
class World:
    stand_in: AwsStandIn
    recorder: CallRecorder


@pytest.fixture(scope="module")
def aws(dagbag, pipelines) -> Iterator[World]:
    stand_in = AwsStandIn()
    stand_in.start()
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    os.environ["AWS_ENDPOINT_URL"] = stand_in.endpoint_url
    s3, ecr, glue, sm = (boto3.client(s) for s in ("s3", "ecr", "glue", "sagemaker"))
    buckets = set()
    for name, info in pipelines.items():
        config = info["config"]
        code_bucket, code_prefix = config["preprocessing"]["script_prefix"][5:].split("/", 1)
        for bucket in (config["data"]["bucket"], code_bucket):
            if bucket not in buckets:
                s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
                buckets.add(bucket)
        s3.put_object(Bucket=code_bucket, Key=f"{code_prefix}{COMMIT}/preprocess.py", Body=b"# staged")
        s3.put_object(Bucket=config["data"]["bucket"], Key=f"{config['data']['raw_prefix']}sample.csv", Body=b"id,x\n1,2\n")
        repository = config["training"]["image_repository_name"]
        ecr.create_repository(repositoryName=repository)
        pushed = ecr.put_image(repositoryName=repository, imageManifest=_manifest(name), imageTag=COMMIT)
        info["digest"] = pushed["image"]["imageId"]["imageDigest"]
        glue.create_job(
            Name=config["preprocessing"]["glue_job_name"],
            Role=f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/glue",
            GlueVersion="5.0",
            Command={"Name": "glueetl", "ScriptLocation": "s3://assets/run_preprocessing.py", "PythonVersion": "3"},
        )
        sm.create_model_package_group(ModelPackageGroupName=config["registry"]["model_package_group_name"])
        if "notification_topic_arn" in config:
            boto3.client("sns").create_topic(Name=config["notification_topic_arn"].rsplit(":", 1)[1])
    recorder = CallRecorder()
    recorder.start()
    yield World(stand_in, recorder)
    recorder.stop()
    os.environ.pop("AWS_ENDPOINT_URL", None)
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    stand_in.stop()


def run(dagbag, dag_id: str, conf: dict, recorder: CallRecorder):
    """One run of the DAG built anew from the config the DAG file read (dag.test() runs every task in this process: a
    DAG that ran before keeps its notifier's rendered message and AWS client, which Airflow 3.0 cannot copy)."""
    from cdk_mwaa_mlops.guard import build_dags
    from dag_parsing import store_dag

    config = next(c for c in dagbag.pipeline_configs if dag_id in (c.training_dag_id, c.deployment_dag_id))
    dag = build_dags(config)[dag_id]
    store_dag(dag)
    recorder.active = True
    try:
        dag_run = dag.test(run_conf=conf)
    finally:
        recorder.active = False
    return dag_run, {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def newest_package(info: dict) -> str:
    group = info["config"]["registry"]["model_package_group_name"]
    listed = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName=group, SortOrder="Descending")
    return listed["ModelPackageSummaryList"][0]["ModelPackageArn"]


def lifecycle(package: str) -> dict:
    return boto3.client("sagemaker").describe_model_package(ModelPackageName=package).get("ModelLifeCycle", {})


def deployment_conf(package: str, stage: str | None = None) -> dict:
    """The conf the trigger Lambda sends (dag-run-request.ts): an approval, or a lifecycle change to `stage` Approved."""
    described = boto3.client("sagemaker").describe_model_package(ModelPackageName=package)
    conf = {
        "trigger_conf_version": 1,
        "source_kind": "model_package_state_change",
        "model_package_arn": package,
        "model_package_group_name": described["ModelPackageGroupName"],
        "model_package_version": described["ModelPackageVersion"],
        "model_approval_status": described["ModelApprovalStatus"],
        "model_package_stage": None,
        "model_package_stage_status": None,
    }
    if stage:
        conf.update(model_package_stage=stage, model_package_stage_status="Approved")
    return conf


def in_production(service: str):
    credentials = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{PRODUCTION_ACCOUNT}:role/inspector", RoleSessionName="inspector"
    )["Credentials"]
    return boto3.client(
        service,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def prod_package() -> str:
    sagemaker = in_production("sagemaker")
    serving = sagemaker.describe_endpoint(EndpointName="churn--prod")["EndpointConfigName"]
    model = sagemaker.describe_endpoint_config(EndpointConfigName=serving)["ProductionVariants"][0]["ModelName"]
    return sagemaker.describe_model(ModelName=model)["PrimaryContainer"]["ModelPackageName"]


@dataclass
class Outcome:
    made: list[Made]
    first: str = ""
    second: str = ""
    states: dict[str, dict] = field(default_factory=dict)


@pytest.fixture(scope="module")
def outcome(aws, dagbag, pipelines) -> Outcome:
    churn, fraud = pipelines["churn"], pipelines["fraud"]
    sagemaker = boto3.client("sagemaker")
    result = Outcome(aws.recorder.made)

    def succeed(dag_id: str, conf: dict, label: str) -> None:
        dag_run, states = run(dagbag, dag_id, conf, aws.recorder)
        result.states[label] = states
        assert dag_run.state == "success", (label, states)

    def train_and_approve(info: dict) -> str:
        image = f"{PIPELINE_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{info['config']['training']['image_repository_name']}"
        succeed(info["training"], {"image_uri": f"{image}@{info['digest']}", "image_tag": COMMIT}, f"{info['pipeline']} training")
        package = newest_package(info)
        sagemaker.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved")  # a person approves
        return package

    result.first = train_and_approve(churn)
    succeed(churn["deployment"], deployment_conf(result.first), "first to dev")
    succeed(churn["deployment"], deployment_conf(result.first, "prod"), "first to prod")

    result.second = train_and_approve(churn)
    succeed(churn["deployment"], deployment_conf(result.second), "second to dev")
    aws.stand_in.failing_endpoints.add("churn--prod")
    dag_run, result.states["second to prod"] = run(
        dagbag, churn["deployment"], deployment_conf(result.second, "prod"), aws.recorder
    )
    aws.stand_in.failing_endpoints.clear()
    assert dag_run.state == "failed", result.states["second to prod"]

    sagemaker.update_model_package(ModelPackageArn=result.first, ModelLifeCycle={"Stage": "prod", "StageStatus": "Approved"})
    succeed(churn["deployment"], deployment_conf(result.first, "prod"), "first again to prod")

    fraud_package = train_and_approve(fraud)
    succeed(fraud["deployment"], deployment_conf(fraud_package), "fraud to qa")
    assert lifecycle(fraud_package)["StageStatus"] == "Deployed"
    return result


def test_approval_deploys_dev_whose_gate_approves_prod_which_deploys_in_its_account(outcome):
    assert outcome.states["first to dev"]["promote"] == "success"
    prod = [m for m in outcome.made if m.role.endswith("mlops-churn--prod-deploy")]
    created = {m.call.action for m in prod if m.call.action.startswith("Create")}
    assert created >= {"CreateModel", "CreateEndpointConfig"}
    assert {m.account for m in prod} == {PRODUCTION_ACCOUNT}
    invoked = [m for m in prod if m.call.action == "InvokeEndpoint"]
    assert invoked and {m.call.params["EndpointName"] for m in invoked} == {"churn--prod"}


def test_a_failing_prod_check_rolls_prod_back_and_rejects_the_package_there(outcome):
    states = outcome.states["second to prod"]
    assert (states["check_stage"], states["reject"], states["promote"]) == ("failed", "failed", "upstream_failed")
    rejected = lifecycle(outcome.second)
    assert (rejected["Stage"], rejected["StageStatus"]) == ("prod", "Rejected")
    assert "invocations of churn--prod failed" in rejected["StageDescription"]
    publishes = [m for m in outcome.made if m.call.action == "Publish"]
    assert publishes, "the failure was not notified"


def test_approving_the_first_package_for_prod_again_redeploys_it(outcome):
    assert prod_package() == outcome.first
    assert lifecycle(outcome.first)["StageStatus"] == "Deployed"


# ---- IAM, by evaluation across the two accounts --------------------------------------------------------------------
@dataclass
class Roles:
    """Every role the proofs evaluate as: its ARN -> (the stack that defines it, its logical id)."""

    stacks: dict[str, Stack]
    by_arn: dict[str, tuple[Stack, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for stack in self.stacks.values():
            for logical_id, resource in stack.resources.items():
                if resource["Type"] == "AWS::IAM::Role":
                    self.by_arn[stack.get_att(logical_id, "Arn")] = (stack, logical_id)

    def named(self, name: str) -> str:
        (arn,) = [arn for arn in self.by_arn if arn.endswith(f":role/{name}")]
        return arn

    def policies(self, arn: str) -> list[dict]:
        stack, logical_id = self.by_arn[arn]
        return stack.role_policies(logical_id)

    def trust(self, arn: str) -> dict:
        stack, logical_id = self.by_arn[arn]
        return stack.resolve(stack.resources[logical_id]["Properties"]["AssumeRolePolicyDocument"])


def resource_policies(stacks: dict[str, Stack]) -> dict[str, Any]:
    """Keys, buckets, topics of both stacks; each model package group's policy under its packages' ARN prefix."""
    policies: dict[str, Any] = {}
    for stack in stacks.values():
        policies.update(stack.resource_policies())
        for resource in stack.resources.values():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::SageMaker::ModelPackageGroup" and "ModelPackageGroupPolicy" in props:
                group = props["ModelPackageGroupName"]
                policies[f"arn:aws:sagemaker:{REGION}:{stack.account}:model-package/{group}/"] = stack.resolve(
                    props["ModelPackageGroupPolicy"]
                )
    return policies


def key_aliases(stacks: dict[str, Stack]) -> dict[str, str]:
    """Alias ARN -> key ARN: KMS authorizes a call that names an alias on the key it points to."""
    aliases = {}
    for stack in stacks.values():
        for resource in stack.resources.values():
            if resource["Type"] == "AWS::KMS::Alias":
                props = resource["Properties"]
                alias = f"arn:aws:kms:{REGION}:{stack.account}:{props['AliasName']}"
                aliases[alias] = stack.resolve(props["TargetKeyId"])
    return aliases


def account_of(resource: str, default: str) -> str:
    parts = resource.split(":")
    return parts[4] if len(parts) > 4 and parts[4] else default


def decide(requests: list[Request], principal: str, account: str, roles: Roles, stacks: dict[str, Stack]) -> list[str]:
    """Each request as `principal` would be decided: its identity policies, the resource's policy (a role's trust for
    AssumeRole, a package's group policy), evaluated in the resource's account."""
    owned = resource_policies(stacks)
    decisions: dict[int, str] = {}
    by_account: dict[str, list[int]] = {}
    for index, request in enumerate(requests):
        by_account.setdefault(account_of(request.resource, account), []).append(index)
    for resource_account, indexes in by_account.items():
        # AWS sets aws:PrincipalArn on every request (the trust and group policies condition on it); the evaluator
        # takes it from the request's context.
        chosen = [
            Request(requests[i].action, requests[i].resource, (*requests[i].context, ("aws:PrincipalArn", principal)))
            for i in indexes
        ]
        policies: dict[str, Any] = {}
        for request in chosen:
            if request.action == "sts:AssumeRole":
                policies[request.resource] = roles.trust(request.resource)
            elif ":model-package/" in request.resource:
                prefix = request.resource.rsplit("/", 1)[0] + "/"
                if prefix in owned:
                    policies[request.resource] = owned[prefix]
            elif request.resource in owned or request.resource.split("/", 1)[0] in owned:
                policies[request.resource] = owned.get(request.resource) or owned[request.resource.split("/", 1)[0]]
        answers = evaluate(chosen, roles.policies(principal), resource_account, principal, policies)
        decisions.update(zip(indexes, answers, strict=True))
    return [decisions[i] for i in range(len(requests))]


def requests_of(made: list[Made], pipelines: dict, aliases: dict[str, str]) -> dict[str, list[Request]]:
    """The IAM requests of the recorded calls, by the role that made them ("" = the pipeline's default credentials)."""
    keys = {info["config"]["data"]["bucket"]: info["config"]["data"]["kms_key_arn"] for info in pipelines.values()}
    found: dict[str, dict[Request, None]] = {}
    for entry in made:
        if entry.call.service in ("sns", "sqs") and entry.call.action != "Publish":
            continue
        for request in requests_for(entry.call, entry.account, REGION, keys):
            resource = aliases.get(request.resource, request.resource)
            found.setdefault(entry.role, {})[Request(request.action, resource, request.context, request.implied_by)] = None
    return {role: list(requests) for role, requests in found.items()}


def test_every_call_is_allowed_to_the_role_that_made_it_across_both_accounts(outcome, stacks, pipelines):
    roles = Roles(stacks)
    execution_role = stacks[PIPELINE_ACCOUNT].get_att(stacks[PIPELINE_ACCOUNT].output("ExecutionRole"), "Arn")
    by_role = requests_of(outcome.made, pipelines, key_aliases(stacks))
    assert set(by_role) >= {
        "",
        roles.named("mlops-churn--dev-deploy"),
        roles.named("mlops-churn--prod-deploy"),
        roles.named("mlops-fraud--qa-deploy"),
    }
    refused = {}
    for role, requests in by_role.items():
        principal = role or execution_role
        account = principal.split(":")[4]
        decisions = decide(requests, principal, account, roles, stacks)
        refused[principal] = [
            (r.action, r.resource, dict(r.context)) for r, d in zip(requests, decisions, strict=True) if d != "Allowed"
        ]
    assert all(not r for r in refused.values()), json.dumps(refused, indent=1)


def test_calls_aimed_at_one_stage_or_pipeline_are_denied_to_the_others_roles(outcome, stacks, pipelines):
    roles = Roles(stacks)
    by_role = requests_of(outcome.made, pipelines, key_aliases(stacks))
    churn_dev, churn_prod = roles.named("mlops-churn--dev-deploy"), roles.named("mlops-churn--prod-deploy")
    fraud_qa = roles.named("mlops-fraud--qa-deploy")
    own_sagemaker = {  # what only the stage's role may do: its models, configs and endpoint
        role: [r for r in by_role[role] if r.action.startswith("sagemaker:") and f":{role.split(':')[4]}:" in r.resource]
        for role in (churn_dev, churn_prod, fraud_qa)
    }
    for owner, other in ((churn_dev, fraud_qa), (fraud_qa, churn_dev), (churn_prod, churn_dev), (churn_dev, churn_prod)):
        requests = [r for r in own_sagemaker[owner] if "model-package" not in r.resource]
        assert requests, owner
        decisions = decide(requests, other, other.split(":")[4], roles, stacks)
        allowed = [(r.action, r.resource) for r, d in zip(requests, decisions, strict=True) if d == "Allowed"]
        assert allowed == [], f"{other} may act on {owner}'s stage: {allowed}"


def test_the_run_role_sets_only_the_lifecycle_statuses_the_runs_set(outcome, stacks):
    roles = Roles(stacks)
    execution_role = stacks[PIPELINE_ACCOUNT].get_att(stacks[PIPELINE_ACCOUNT].output("ExecutionRole"), "Arn")
    package = outcome.first

    def update(stage: str, status: str) -> Request:
        context = (("sagemaker:ModelLifeCycle:stage", stage), ("sagemaker:ModelLifeCycle:stageStatus", status))
        return Request("sagemaker:UpdateModelPackage", package, context)

    allowed = [update("prod", "Approved"), update("prod", "Deployed"), update("prod", "Rejected"), update("dev", "Rejected")]
    forged = [update("dev", "Approved"), update("dev", "Deployed"), update("prod", "InProgress"), update("qa", "Approved")]
    decisions = decide(allowed + forged, execution_role, PIPELINE_ACCOUNT, roles, stacks)
    assert decisions[: len(allowed)] == ["Allowed"] * len(allowed)
    assert "Allowed" not in decisions[len(allowed) :], decisions


def lifecycle_event(package: str, stage: str, status: str) -> dict:
    """The registry's event for a change of the package's lifecycle (UpdatedModelPackageFields names ModelLifeCycle:
    https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html#eventbridge-model-package)."""
    from test_dag_runs import registry_event

    event = registry_event(boto3.client("sagemaker").describe_model_package(ModelPackageName=package))
    event.update(account=PIPELINE_ACCOUNT, region=REGION)
    event["detail"].update(UpdatedModelPackageFields=["ModelLifeCycle"], ModelLifeCycle={"Stage": stage, "StageStatus": status})
    return event


def test_a_redelivered_lifecycle_event_starts_no_second_run(outcome, pipelines):
    """The gate's Approved event for prod, delivered twice to the bundled trigger handler, which calls this Airflow's
    API server: the first starts the prod deployment with the stage in its conf, the second gets 409."""
    from airflow.models.dagrun import DagRun
    from airflow_api import airflow_api_server, send_trigger_event
    from cdk_mwaa_mlops.naming import model_package_run_id

    churn = pipelines["churn"]
    package = outcome.second
    boto3.client("sagemaker").update_model_package(
        ModelPackageArn=package, ModelLifeCycle={"Stage": "prod", "StageStatus": "Approved"}
    )
    event = lifecycle_event(package, "prod", "Approved")
    before = {r.run_id for r in DagRun.find(dag_id=churn["deployment"])}
    with airflow_api_server() as url:
        first = send_trigger_event(url, churn["deployment"], event)
        again = send_trigger_event(url, churn["deployment"], event)
    assert (first["result"]["outcome"], again["result"]["outcome"]) == ("triggered", "already_triggered")
    (started,) = [r for r in DagRun.find(dag_id=churn["deployment"]) if r.run_id not in before]
    detail = event["detail"]
    assert started.run_id == model_package_run_id(
        package,
        detail["ModelPackageGroupName"],
        detail["ModelPackageVersion"],
        "Approved",
        detail.get("LastModifiedTime") or detail["CreationTime"],
        "prod",
        "Approved",
    )
    assert (started.conf["model_package_stage"], started.conf["model_package_stage_status"]) == ("prod", "Approved")
