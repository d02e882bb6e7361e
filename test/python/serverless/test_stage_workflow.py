"""The MWAA Serverless deployment workflow of a pipeline with stages (test/python/dags/staged_config.py), as
definitions.ts writes it, loaded by dag-factory and run with `dag.test()` against the moto stand-in, two moto accounts
apart: the same steps as the provisioned DAG (promotion_steps.py), the endpoint waited for in a step (the allowlisted
sensor cannot assume the stage's role), and a failing check rejecting the stage within its task."""

from __future__ import annotations

import os
import urllib.request
from itertools import pairwise

import boto3
import pytest
from aws_stand_in import AwsStandIn
from dag_parsing import store_dag
from staged_config import DEV, PIPELINE_ACCOUNT, PROD, REGION, STAGE_ACCOUNT, staged
from workflows import load_workflow, pipeline_inputs, violations, write_definitions

pytestmark = pytest.mark.e2e

GROUP = "demo-models"
PROCESSED = "s3://ml-data/processed/demo/run-1/"
STEPS = [
    "resolve_package",
    "inspect_stage",
    "create_model",
    "create_endpoint_config",
    "deploy_endpoint",
    "wait_for_endpoint",
    "verify_endpoint",
    "check_stage",
    "promote",
]


@pytest.fixture(scope="module")
def definition() -> dict:
    config = staged()
    config["retries"] = 0
    (written,) = write_definitions([pipeline_inputs("demo", config)])
    return written["deployment"]


@pytest.fixture(scope="module")
def workflow(definition, airflow_db, tmp_path_factory):
    dag = load_workflow(definition, tmp_path_factory.mktemp("definitions"))
    store_dag(dag)
    return dag


@pytest.fixture(scope="module")
def aws(workflow):
    stand_in = AwsStandIn()
    stand_in.start()
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    os.environ["AWS_ENDPOINT_URL"] = stand_in.endpoint_url
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="ml-data", CreateBucketConfiguration={"LocationConstraint": REGION})
    rows = b"".join(f"{i % 2},{i}.5\n".encode() for i in range(8))
    s3.put_object(Bucket="ml-data", Key="processed/demo/run-1/test/part-00000.csv", Body=rows)
    boto3.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
    yield stand_in
    os.environ.pop("AWS_ENDPOINT_URL", None)
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    stand_in.stop()


def new_package() -> str:
    return boto3.client("sagemaker").create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": f"{PIPELINE_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/demo@sha256:{'b' * 64}"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        CustomerMetadataProperties={"processed_data_uri": PROCESSED},
    )["ModelPackageArn"]


def run(workflow, **parameters):
    conf = {"model_package_arn": None, "model_package_stage": None, "model_package_stage_status": None, **parameters}
    dag_run = workflow.test(run_conf=conf)
    return dag_run, {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def lifecycle(package: str) -> dict:
    return boto3.client("sagemaker").describe_model_package(ModelPackageName=package)["ModelLifeCycle"]


def test_the_stage_workflow_keeps_the_service_s_rules_and_runs_the_promotion_steps_in_order(definition):
    assert violations(definition) == []
    (dag,) = definition.values()
    assert list(dag["tasks"]) == STEPS
    assert {"model_package_stage", "model_package_stage_status"} <= set(dag["params"])
    for earlier, later in pairwise(STEPS):
        assert dag["tasks"][later]["dependencies"] == [earlier]
    assert {t["python_callable"] for t in dag["tasks"].values()} == {f"cdk_mwaa_mlops.serverless.{s}" for s in STEPS}
    assert dag["tasks"]["wait_for_endpoint"]["retries"] == 3


def test_both_stages_deploy_in_their_accounts_and_the_package_ends_deployed(workflow, aws):
    package = new_package()
    dag_run, states = run(workflow, model_package_arn=package)
    assert dag_run.state == "success", states
    assert lifecycle(package) == {"Stage": "prod", "StageStatus": "Approved", "StageDescription": "passed dev (automatic gate)"}
    aws.calls.clear()
    dag_run, states = run(workflow, model_package_arn=package, model_package_stage="prod", model_package_stage_status="Approved")
    assert dag_run.state == "success", states
    created = {(c.action, c.account, c.role_arn) for c in aws.calls if c.action.startswith("Create")}
    assert created == {(a, STAGE_ACCOUNT, PROD["role_arn"]) for a in ("CreateModel", "CreateEndpointConfig", "CreateEndpoint")}
    assert lifecycle(package)["StageStatus"] == "Deployed"
    invocations = {(c.account, c.role_arn) for c in aws.calls if c.action == "InvokeEndpoint"}
    assert invocations == {(STAGE_ACCOUNT, PROD["role_arn"])}


def test_a_failing_check_rejects_the_stage_in_its_task_and_rolls_it_back(workflow, aws):
    package = new_package()
    aws.failing_endpoints.add("demo--dev")
    try:
        dag_run, states = run(workflow, model_package_arn=package)
    finally:
        aws.failing_endpoints.clear()
    assert dag_run.state == "failed"
    assert (states["check_stage"], states["promote"]) == ("failed", "upstream_failed"), states
    rejected = lifecycle(package)
    assert (rejected["Stage"], rejected["StageStatus"]) == ("dev", "Rejected")
    assert "5 of 5 invocations of demo--dev failed" in rejected["StageDescription"]
    assert "rolled back to demo--dev-config-" in rejected["StageDescription"]
    dev = [c for c in aws.calls if c.action == "UpdateEndpoint" and c.role_arn == DEV["role_arn"]]
    assert dev[-1].params["EndpointConfigName"].startswith("demo--dev-config-")


def test_a_stage_whose_blue_green_rollout_outlasts_the_wait_budget_is_refused_naming_the_stage():
    import subprocess

    config = staged()
    config["stages"][1]["deployment"]["traffic_shifting"] = {"type": "LINEAR", "step_percent": 10, "wait_seconds": 3600}
    with pytest.raises(subprocess.CalledProcessError) as refused:
        write_definitions([pipeline_inputs("demo", config)])
    assert "stages[1].deployment trafficShifting and terminationWait" in refused.value.stderr
