"""Promotion through stages: the steps of a deployment run when the pipeline's config has `stages`.

A run deploys one package to one stage: the first stage when the run's conf names none (the registry's approval, or
the training DAG), else the stage the conf names, which must be the package's current model registry lifecycle stage
with status `Approved` (a person, a CI job or an automatic gate set it). The stage's endpoint is in the stage's account:
the run assumes the stage's deploy role there (created by PromotionTarget) and creates the model (from the package in
the pipeline's account, as the stage's model role), the endpoint config (storage encrypted with the stage's key) and
the endpoint, then runs the stage's checks: up to `sample_rows` rows of the package's test split, each sent to the
endpoint, the error rate and the average latency against the stage's thresholds.

A stage that passes moves the package on in the registry: to the next stage, `Approved` after an automatic gate (that
event starts the next deployment through the trigger) or `PendingApproval` after a manual one; the last stage becomes
`Deployed`. A stage that fails is rolled back to the endpoint config it served before the run (or its endpoint is
deleted when the run created it), the package is `Rejected` at that stage with the reason, and the run fails (the
pipeline's failure notifications say why). Setting an older package's stage `Approved` again redeploys it: that is
how a stage is rolled back.

Model registry lifecycle stages (`ModelLifeCycle {Stage, StageStatus, StageDescription}` on UpdateModelPackage,
returned by DescribeModelPackage, in the package's state-change events):
https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-staging-construct.html

Why an explicit AssumeRole and not the Amazon provider's connection `role_arn`: the provider assumes the role a
connection names, so each stage would need a connection created in the environment by hand (or in its secrets
backend); the stage's role is in the pipeline config the construct writes. Each step that works in the stage's account
assumes the role from the pipeline's connection itself, for that step only: the temporary credentials never leave the
task (not in XCom, not in the metadata database), and the session name carries the run key, so CloudTrail in the
stage's account names the run.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from typing import Any

from cdk_mwaa_mlops.common import aws_client
from cdk_mwaa_mlops.config import PipelineConfig, Stage
from cdk_mwaa_mlops.naming import resource_name, run_key

log = logging.getLogger(__name__)

STAGE_PARAM = "model_package_stage"
STATUS_PARAM = "model_package_stage_status"
#: XCom key under which a failing stage step leaves its reason (the rejection's StageDescription)
FAILURE = "failure"
#: endpoint statuses that still change on their own
SETTLING = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")
#: the most characters of a reason kept in StageDescription
DESCRIPTION_MAX = 1024


class StageCheckFailed(Exception):
    """The stage's endpoint did not pass its checks (the message says which threshold)."""


def fail(ti: Any, reason: str) -> None:
    """Fail the task with `reason`, left in XCom for the rejection."""
    from cdk_mwaa_mlops.compat import AirflowFailException

    ti.xcom_push(key=FAILURE, value=reason)
    raise AirflowFailException(reason)


# ---- resolve -------------------------------------------------------------------------------------------------------
def resolve_stage_deployment(config: PipelineConfig, params: dict[str, Any], dag_id: str, run_id: str) -> dict[str, Any]:
    """The approved package, the stage this run deploys it to (refusing a stage that is unknown, or that is not the
    package's current lifecycle stage with status Approved) and the names of what the run creates."""
    from cdk_mwaa_mlops.compat import AirflowFailException
    from cdk_mwaa_mlops.deployment import approved_package

    stage_name, status = params.get(STAGE_PARAM), params.get(STATUS_PARAM)
    if stage_name is None:
        stage = config.stages[0]
    else:
        stage = config.stage(stage_name)
        if stage is None:
            known = [s.name for s in config.stages]
            raise AirflowFailException(
                f"{STAGE_PARAM} '{stage_name}' is not a stage of pipeline '{config.pipeline_name}' {known}"
            )
        if status not in (None, "Approved"):
            raise AirflowFailException(f"{STATUS_PARAM} is '{status}': a stage deploys when its status is Approved")
    package_arn, package = approved_package(config, params.get("model_package_arn"))
    if stage_name is not None:
        lifecycle = package.get("ModelLifeCycle") or {}
        current = (lifecycle.get("Stage"), lifecycle.get("StageStatus"))
        if current != (stage.name, "Approved"):
            raise AirflowFailException(
                f"{package_arn} is at lifecycle stage {current[0]!r} with status {current[1]!r}, not {stage.name!r} "
                "Approved: the run's conf is stale or not from the registry; nothing is deployed"
            )
    processed = (package.get("CustomerMetadataProperties") or {}).get("processed_data_uri")
    key = run_key(dag_id, run_id)
    prefix = f"{config.pipeline_name}--{stage.name}"
    return {
        "model_package_arn": package_arn,
        "model_package_version": package.get("ModelPackageVersion"),
        "stage": stage.name,
        "session_name": f"{config.pipeline_name}-{stage.name}-{key}",
        "test_data_uri": f"{processed.rstrip('/')}/test/" if processed else None,
        "model_name": resource_name(prefix, "model", key),
        "endpoint_config_name": resource_name(prefix, "config", key),
    }


# ---- the stage's account -------------------------------------------------------------------------------------------
def stage_session(config: PipelineConfig, stage: Stage, session_name: str):
    """A boto3 session in the stage's account and region, as the stage's deploy role (for one step)."""
    import boto3

    credentials = aws_client(config, "sts").assume_role(RoleArn=stage.role_arn, RoleSessionName=session_name)["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=stage.region,
    )


def describe_endpoint(sagemaker: Any, name: str) -> dict[str, Any] | None:
    try:
        return sagemaker.describe_endpoint(EndpointName=name)
    except sagemaker.exceptions.ClientError as error:
        # SageMaker answers `ValidationException: Could not find endpoint "<arn>".` for an endpoint that does not exist.
        message = error.response["Error"].get("Message", "").lower()
        if error.response["Error"]["Code"] == "ValidationException" and "could not find endpoint" in message:
            return None
        raise


def inspect_stage(sagemaker: Any, view: PipelineConfig) -> dict[str, Any]:
    """What the stage's endpoint serves before the run (what a failed stage rolls back to)."""
    endpoint = describe_endpoint(sagemaker, view.endpoint_name)
    if endpoint is not None and endpoint["EndpointStatus"] in SETTLING:
        from cdk_mwaa_mlops.compat import AirflowFailException

        raise AirflowFailException(
            f"endpoint {view.endpoint_name} is {endpoint['EndpointStatus']}: another change is under way; "
            "try again when it settles"
        )
    return {"previous_endpoint_config": endpoint["EndpointConfigName"] if endpoint else None}


def create_model(sagemaker: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """CreateModel (the provider operator's XCom shape, `{"Model": ...}`); a retried try has its own name."""
    created = sagemaker.create_model(**spec)
    return {"Model": {"ModelName": spec["ModelName"], "ModelArn": created["ModelArn"]}}


def create_endpoint_config(sagemaker: Any, spec: dict[str, Any]) -> dict[str, Any]:
    created = sagemaker.create_endpoint_config(**spec)
    return {
        "EndpointConfig": {"EndpointConfigName": spec["EndpointConfigName"], "EndpointConfigArn": created["EndpointConfigArn"]}
    }


def deploy_endpoint(sagemaker: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """Create the endpoint, or update it to the new config (blue/green for real-time endpoints); a retry after the
    call went through changes nothing."""
    name, config_name = spec["EndpointName"], spec["EndpointConfigName"]
    endpoint = describe_endpoint(sagemaker, name)
    if endpoint is None:
        arn = sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config_name, Tags=spec["Tags"])["EndpointArn"]
    elif endpoint["EndpointConfigName"] == config_name or endpoint["EndpointStatus"] in SETTLING:
        arn = endpoint["EndpointArn"]
    else:
        update = {"EndpointName": name, "EndpointConfigName": config_name}
        if "DeploymentConfig" in spec:
            update["DeploymentConfig"] = spec["DeploymentConfig"]
        arn = sagemaker.update_endpoint(**update)["EndpointArn"]
    return {"EndpointName": name, "EndpointArn": arn, "EndpointConfigName": config_name}


def endpoint_settled(sagemaker: Any, name: str) -> bool:
    endpoint = describe_endpoint(sagemaker, name)
    return endpoint is None or endpoint["EndpointStatus"] not in SETTLING


class EndpointNotSettled(Exception):
    """The endpoint is still changing when a try's polling budget ends (retried: the next try polls on)."""


def wait_for_endpoint(sagemaker: Any, name: str, poll_seconds: int, budget_seconds: float) -> None:
    """Poll until the endpoint settles, for at most `budget_seconds` (MWAA Serverless: no deferral, 3600 s a try)."""
    deadline = time.monotonic() + budget_seconds
    while not endpoint_settled(sagemaker, name):
        if time.monotonic() + poll_seconds > deadline:
            raise EndpointNotSettled(f"endpoint {name} has not settled within {budget_seconds:.0f} s; the next try waits on")
        time.sleep(poll_seconds)


# ---- checks --------------------------------------------------------------------------------------------------------
def read_test_rows(s3: Any, uri: str, limit: int) -> list[str]:
    """Up to `limit` rows of the test split (headerless CSV, label first: preprocessing/preprocess.py), as the
    features the endpoint takes (CSV without the label)."""
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", []) if item["Key"].endswith(".csv")]
    rows: list[str] = []
    for key in sorted(keys):
        text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        for record in csv.reader(io.StringIO(text)):
            if record:
                buffer = io.StringIO()
                csv.writer(buffer, lineterminator="").writerow(record[1:])
                rows.append(buffer.getvalue())
            if len(rows) == limit:
                return rows
    return rows


def run_checks(runtime: Any, endpoint_name: str, rows: list[str], stage: Stage) -> dict[str, Any]:
    """Send each row to the endpoint; the error rate and average latency against the stage's thresholds. Raises
    StageCheckFailed naming the threshold missed."""
    if not rows:
        raise StageCheckFailed("the package's test split has no rows to check the endpoint with")
    errors, latencies = 0, []
    for row in rows:
        started = time.monotonic()
        try:
            runtime.invoke_endpoint(EndpointName=endpoint_name, ContentType="text/csv", Body=row.encode())
        except runtime.exceptions.ClientError as error:
            errors += 1
            log.warning("invocation %d of %s failed: %s", len(latencies) + 1, endpoint_name, error)
        latencies.append((time.monotonic() - started) * 1000)
    result = {
        "rows": len(rows),
        "error_rate": errors / len(rows),
        "average_latency_ms": round(sum(latencies) / len(latencies), 1),
        "max_error_rate": stage.max_error_rate,
        "max_latency_ms": stage.max_latency_ms,
    }
    log.info("checks of stage %s: %s", stage.name, result)
    if result["error_rate"] > stage.max_error_rate:
        raise StageCheckFailed(
            f"stage {stage.name} checks failed: {errors} of {len(rows)} invocations of {endpoint_name} failed "
            f"(error rate {result['error_rate']:.3f}, allowed {stage.max_error_rate})"
        )
    if result["average_latency_ms"] > stage.max_latency_ms:
        raise StageCheckFailed(
            f"stage {stage.name} checks failed: average latency {result['average_latency_ms']} ms over {len(rows)} "
            f"invocations of {endpoint_name}, allowed {stage.max_latency_ms} ms"
        )
    return result


# ---- the registry --------------------------------------------------------------------------------------------------
def promotion(config: PipelineConfig, stage: Stage) -> dict[str, str]:
    """The lifecycle a package that passed `stage` moves to (the statuses the run roles may set: dag-grants.ts)."""
    following = config.next_stage(stage)
    if following is None:
        return {"Stage": stage.name, "StageStatus": "Deployed", "StageDescription": f"deployed to {stage.name}, checks passed"}
    status = "Approved" if stage.gate == "automatic" else "PendingApproval"
    return {
        "Stage": following.name,
        "StageStatus": status,
        "StageDescription": f"passed {stage.name} ({stage.gate} gate)",
    }


def set_lifecycle(config: PipelineConfig, package_arn: str, lifecycle: dict[str, str]) -> None:
    aws_client(config, "sagemaker").update_model_package(ModelPackageArn=package_arn, ModelLifeCycle=lifecycle)
    log.info("%s: ModelLifeCycle %s", package_arn, lifecycle)


def roll_back(sagemaker: Any, endpoint_name: str, previous_config: str | None, run_config_prefix: str) -> str:
    """Put the stage's endpoint back as it was before the run; says what was done."""
    endpoint = describe_endpoint(sagemaker, endpoint_name)
    if endpoint is None:
        return f"endpoint {endpoint_name} does not exist; nothing to roll back"
    serving = endpoint["EndpointConfigName"]
    if previous_config is None:
        if not serving.startswith(run_config_prefix):
            return f"endpoint {endpoint_name} serves {serving}, which this run did not create; left as it is"
        sagemaker.delete_endpoint(EndpointName=endpoint_name)
        return f"endpoint {endpoint_name}, which this run created, deleted"
    if serving == previous_config:
        return f"endpoint {endpoint_name} serves {previous_config} as before the run"
    if endpoint["EndpointStatus"] in SETTLING:
        return f"endpoint {endpoint_name} is {endpoint['EndpointStatus']}; roll it back to {previous_config} when it settles"
    sagemaker.update_endpoint(EndpointName=endpoint_name, EndpointConfigName=previous_config)
    return f"endpoint {endpoint_name} rolled back to {previous_config}"
