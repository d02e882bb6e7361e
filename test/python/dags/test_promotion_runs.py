"""The deployment DAG of a pipeline with stages (staged_config.py: `dev` in the pipeline's account, serverless, automatic
gate; `prod` in a second account, real-time) runs with `dag.test()` in a real Airflow 3 against the moto stand-in,
two moto accounts apart: each stage's resources are created in its account by its deploy role, the checks invoke the
stage's endpoint, a passing stage promotes the package in the registry, a failing one is rolled back and the package
Rejected, a stale or unknown stage is refused, and approving an older package again redeploys it."""

from __future__ import annotations

import json
import os
import urllib.request

import boto3
import pytest
from aws_stand_in import AwsStandIn
from dag_parsing import bundle_dag_bag, sync_to_db
from staged_config import DEV, PIPELINE_ACCOUNT, PROD, REGION, STAGE_ACCOUNT, staged

pytestmark = pytest.mark.e2e

DAG_ID = "demo_deployment"
GROUP = "demo-models"
TOPIC = f"arn:aws:sns:{REGION}:{PIPELINE_ACCOUNT}:mlops-alerts"
PROCESSED = "s3://ml-data/processed/demo/run-1/"
TEST_ROWS = b"".join(f"{i % 2},{i}.5,{i}.25\n".encode() for i in range(8))


def demo_config() -> dict:
    config = staged()
    config["notification_topic_arn"] = TOPIC
    config["retries"] = 0  # a failed step fails at once (the runs here fail on purpose)
    return config


@pytest.fixture(scope="module")
def dagbag(airflow_db):
    path = airflow_db / "cdk_mwaa_mlops_pipelines" / "demo.json"
    path.write_text(json.dumps(demo_config()))
    bag = bundle_dag_bag(airflow_db, airflow_db)
    sync_to_db(bag)
    yield bag
    path.unlink()


@pytest.fixture(scope="module")
def aws(dagbag):
    stand_in = AwsStandIn()
    stand_in.start()
    # moto's backends live in this process: start from an empty AWS, and leave one (the other proofs name the same
    # buckets and groups).
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    os.environ["AWS_ENDPOINT_URL"] = stand_in.endpoint_url
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="ml-data", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="ml-data", Key="processed/demo/run-1/test/part-00000.csv", Body=TEST_ROWS)
    s3.put_object(Bucket="ml-data", Key="processed/demo/run-1/test/_SUCCESS", Body=b"")
    boto3.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
    boto3.client("sns").create_topic(Name="mlops-alerts")
    yield stand_in
    os.environ.pop("AWS_ENDPOINT_URL", None)
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    stand_in.stop()


@pytest.fixture
def calls(aws):
    aws.calls.clear()
    aws.lifecycles.clear()
    aws.failing_endpoints.clear()
    return aws


def new_package() -> str:
    return boto3.client("sagemaker").create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": f"{PIPELINE_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/demo-model@sha256:{'a' * 64}"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        CustomerMetadataProperties={"processed_data_uri": PROCESSED},
    )["ModelPackageArn"]


def set_stage(package: str, stage: str, status: str = "Approved") -> None:
    """What a person or a CI job does to promote (or roll back) a stage."""
    boto3.client("sagemaker").update_model_package(
        ModelPackageArn=package, ModelLifeCycle={"Stage": stage, "StageStatus": status}
    )


def lifecycle(package: str) -> dict | None:
    return boto3.client("sagemaker").describe_model_package(ModelPackageName=package).get("ModelLifeCycle")


def in_account(account: str, service: str):
    credentials = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/test-inspector", RoleSessionName="test")[
        "Credentials"
    ]
    return boto3.client(
        service,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def run(dagbag, conf: dict):
    """One run of a DAG built for it (dag.test() runs every task in this process: a DAG that ran before keeps its
    notifier's rendered message and AWS client, which Airflow 3.0 cannot copy); every param is given."""
    conf = {"model_package_arn": None, "model_package_stage": None, "model_package_stage_status": None, **conf}
    dag_run = fresh_dag().test(run_conf=conf)
    return dag_run, {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def stage_conf(package: str, stage: str, status: str = "Approved") -> dict:
    return {"model_package_arn": package, "model_package_stage": stage, "model_package_stage_status": status}


def stage_calls(aws: AwsStandIn, service: str = "sagemaker") -> list[tuple[str, str, str]]:
    """(action, account, role) of the calls made with a stage's deploy role."""
    return [(c.action, c.account, c.role_arn) for c in aws.calls if c.service == service and c.role_arn.endswith("-deploy")]


def serving(account: str, endpoint: str) -> str:
    return in_account(account, "sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]


def model_package_of(account: str, config_name: str) -> str:
    sagemaker = in_account(account, "sagemaker")
    model = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"][0]["ModelName"]
    return sagemaker.describe_model(ModelName=model)["PrimaryContainer"]["ModelPackageName"]


def test_approval_deploys_to_the_first_stage_checks_it_and_promotes_past_its_automatic_gate(dagbag, calls):
    package = new_package()
    dag_run, states = run(dagbag, {"model_package_arn": package})
    assert dag_run.state == "success", states
    assert states["reject"] == "skipped"

    dev_role = DEV["role_arn"]
    assert {(action, account, role) for action, account, role in stage_calls(calls)} >= {
        ("CreateModel", PIPELINE_ACCOUNT, dev_role),
        ("CreateEndpointConfig", PIPELINE_ACCOUNT, dev_role),
        ("CreateEndpoint", PIPELINE_ACCOUNT, dev_role),
    }
    (model,) = calls.params("CreateModel")
    assert model["ModelName"].startswith("demo--dev-model-") and model["ModelName"].endswith("-t1")
    assert model["PrimaryContainer"] == {"ModelPackageName": package}
    assert (model["ExecutionRoleArn"], model["EnableNetworkIsolation"]) == (DEV["model_role_arn"], True)
    (endpoint_config,) = calls.params("CreateEndpointConfig")
    assert "KmsKeyId" not in endpoint_config  # serverless endpoints take no storage key
    assert endpoint_config["ProductionVariants"][0]["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    (assumed,) = {c.params["RoleSessionName"][0] for c in calls.calls if c.action == "AssumeRole"}
    assert assumed.startswith("demo-dev-")

    invocations = [c for c in calls.calls if c.action == "InvokeEndpoint"]
    assert len(invocations) == DEV["checks"]["sample_rows"] == 5
    assert {(c.account, c.role_arn) for c in invocations} == {(PIPELINE_ACCOUNT, dev_role)}
    assert calls.lifecycles == [
        (package, {"Stage": "prod", "StageStatus": "Approved", "StageDescription": "passed dev (automatic gate)"})
    ]


def test_the_approved_next_stage_deploys_in_its_own_account_and_the_last_stage_ends_deployed(dagbag, calls):
    package = new_package()
    assert run(dagbag, {"model_package_arn": package})[0].state == "success"
    calls.calls.clear()
    calls.lifecycles.clear()

    dag_run, states = run(dagbag, stage_conf(package, "prod"))
    assert dag_run.state == "success", states
    prod_role = PROD["role_arn"]
    actions = stage_calls(calls)
    assert {account for _, account, _ in actions} == {STAGE_ACCOUNT}
    assert {role for _, _, role in actions} == {prod_role}
    (model,) = calls.params("CreateModel")
    assert model["ModelName"].startswith("demo--prod-model-") and model["ExecutionRoleArn"] == PROD["model_role_arn"]
    (endpoint_config,) = calls.params("CreateEndpointConfig")
    assert endpoint_config["KmsKeyId"] == PROD["kms_key_id"]
    assert endpoint_config["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"
    assert lifecycle(package)["StageStatus"] == "Deployed"
    assert calls.lifecycles[-1][1]["Stage"] == "prod"
    assert model_package_of(STAGE_ACCOUNT, serving(STAGE_ACCOUNT, "demo--prod")) == package


def test_a_stale_stage_an_unknown_stage_or_a_status_that_is_not_approved_is_refused_and_nothing_is_created(dagbag, calls):
    package = new_package()  # at no lifecycle stage yet
    for conf, message in [
        (stage_conf(package, "prod"), "not 'prod' Approved"),
        (stage_conf(package, "qa"), "is not a stage of pipeline 'demo'"),
        (stage_conf(package, "prod", "PendingApproval"), "a stage deploys when its status is Approved"),
    ]:
        calls.calls.clear()
        dag_run, states = run(dagbag, conf)
        assert dag_run.state == "failed"
        assert states["resolve_package"] == "failed" and states["reject"] == "skipped", states
        assert not [c for c in calls.calls if c.action.startswith(("Create", "Update", "AssumeRole"))], message
    assert calls.lifecycles == []


def test_a_failing_check_rolls_the_stage_back_rejects_the_package_there_and_notifies(dagbag, calls):
    before = new_package()
    for conf in ({"model_package_arn": before}, stage_conf(before, "prod")):
        dag_run, states = run(dagbag, conf)
        assert dag_run.state == "success", states
    previous = serving(STAGE_ACCOUNT, "demo--prod")

    package = new_package()
    set_stage(package, "prod")
    calls.calls.clear()
    calls.lifecycles.clear()
    calls.failing_endpoints.add("demo--prod")
    dag_run, states = run(dagbag, stage_conf(package, "prod"))
    assert dag_run.state == "failed"
    assert (states["check_stage"], states["reject"], states["promote"]) == ("failed", "failed", "upstream_failed"), states

    assert serving(STAGE_ACCOUNT, "demo--prod") == previous  # rolled back to what it served before the run
    rollback = calls.params("UpdateEndpoint")[-1]
    assert rollback["EndpointConfigName"] == previous and "DeploymentConfig" not in rollback
    rejected = lifecycle(package)
    assert (rejected["Stage"], rejected["StageStatus"]) == ("prod", "Rejected")
    assert "5 of 5 invocations of demo--prod failed" in rejected["StageDescription"]
    assert f"rolled back to {previous}" in rejected["StageDescription"]
    assert lifecycle(before)["StageStatus"] == "Deployed"  # the package the stage still serves
    # Both failed tasks notify. (dag.test() runs every task in this process with one notifier, which keeps the message
    # it rendered first; a worker parses the DAG file for each task, so there each message names its task.)
    published = [c.params["Message"][0] for c in calls.calls if c.action == "Publish"]
    assert len(published) == 2
    assert f"Task check_stage of DAG {DAG_ID} failed in run {dag_run.run_id}" in published[0]
    assert "5 of 5 invocations of demo--prod failed" in published[0] or failure_reason_missing()


def fresh_dag():
    from cdk_mwaa_mlops.config import parse_config
    from cdk_mwaa_mlops.deployment import build_deployment_dag
    from dag_parsing import store_dag

    dag = build_deployment_dag(parse_config("demo.json", demo_config()))
    store_dag(dag)
    return dag


def failure_reason_missing() -> bool:
    """Airflow 3.0.6 and 3.2.1 give failure callbacks no exception (common.NO_EXCEPTION): the message cannot say why."""
    from importlib.metadata import version

    return version("apache-airflow").startswith(("3.0.", "3.2."))


def test_a_failing_first_deployment_of_a_stage_deletes_the_endpoint_it_created(dagbag, calls):
    dev = in_account(PIPELINE_ACCOUNT, "sagemaker")
    dev.delete_endpoint(EndpointName="demo--dev")
    calls.calls.clear()
    calls.failing_endpoints.add("demo--dev")
    package = new_package()
    dag_run, states = run(dagbag, {"model_package_arn": package})
    assert dag_run.state == "failed", states
    deleted = [(c.params["EndpointName"], c.role_arn) for c in calls.calls if c.action == "DeleteEndpoint"]
    assert deleted == [("demo--dev", DEV["role_arn"])]
    assert (lifecycle(package)["Stage"], lifecycle(package)["StageStatus"]) == ("dev", "Rejected")
    assert "endpoint demo--dev, which this run created, deleted" in lifecycle(package)["StageDescription"]


def test_approving_an_older_package_for_a_stage_again_redeploys_it(dagbag, calls):
    older, newer = new_package(), new_package()
    for package in (older, newer):
        set_stage(package, "prod")
        assert run(dagbag, stage_conf(package, "prod"))[0].state == "success"
    assert model_package_of(STAGE_ACCOUNT, serving(STAGE_ACCOUNT, "demo--prod")) == newer

    set_stage(older, "prod")  # the rollback: approve the older package for the stage again
    dag_run, states = run(dagbag, stage_conf(older, "prod"))
    assert dag_run.state == "success", states
    assert model_package_of(STAGE_ACCOUNT, serving(STAGE_ACCOUNT, "demo--prod")) == older
    assert lifecycle(older)["StageStatus"] == "Deployed"
