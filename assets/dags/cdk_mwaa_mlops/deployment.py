"""The deployment DAG: an approved model package -> model -> endpoint config -> the pipeline's endpoint.

Run conf: `model_package_arn` (from the trigger Lambda on approval, from the training DAG, or by hand); without
it, the newest approved package of the pipeline's group. A package that is not approved, or that belongs to
another group, is refused: the run fails and nothing is created.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.operators.sagemaker import (
    SageMakerEndpointConfigOperator,
    SageMakerEndpointOperator,
    SageMakerModelOperator,
)
from airflow.sdk import DAG, Param, chain, task

from cdk_mwaa_mlops.common import aws_client, dag_arguments, pulled, tags
from cdk_mwaa_mlops.config import PipelineConfig
from cdk_mwaa_mlops.naming import resource_name, run_key

PACKAGE_ARN = r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[^/]+/\d+$"
RESOLVE = "resolve_package"
# A retried task creates its own model/config (names are create-only): the try number keeps them apart.
TRY = "-t{{ ti.try_number }}"
#: The endpoint operator's operation: `create` updates the endpoint when it exists.
DEPLOY_OPERATION = "create"


def build_deployment_dag(config: PipelineConfig) -> DAG:
    if config.stages:
        from cdk_mwaa_mlops.promotion_dag import build_promotion_dag

        return build_promotion_dag(config)
    with DAG(
        dag_id=config.deployment_dag_id,
        description=f"cdk-mwaa-mlops {config.pipeline_name}: deploy an approved model package to {config.endpoint_name}",
        # One deployment at a time: an endpoint that is updating refuses another update.
        max_active_runs=1,
        **dag_arguments(config, "deployment"),
        params={
            "model_package_arn": Param(
                None,
                type=["null", "string"],
                pattern=PACKAGE_ARN,
                description="The package to deploy; default: the newest approved one",
            ),
        },
        doc_md=__doc__,
    ) as dag:

        @task(task_id=RESOLVE)
        def resolve_package(**context: Any) -> dict[str, Any]:
            return resolve_deployment(
                config, context["params"].get("model_package_arn"), context["dag"].dag_id, context["run_id"]
            )

        resolved = resolve_package()

        model = SageMakerModelOperator(task_id="create_model", config=model_spec(config))

        endpoint_config = SageMakerEndpointConfigOperator(task_id="create_endpoint_config", config=endpoint_config_spec(config))

        deploy = SageMakerEndpointOperator(
            task_id="deploy_endpoint",
            config=endpoint_spec(config),
            operation=DEPLOY_OPERATION,
            wait_for_completion=True,
            deferrable=True,
            check_interval=config.poll_interval_seconds,
        )

        @task(task_id="verify_endpoint")
        def verify_endpoint(**context: Any) -> str:
            expected = context["ti"].xcom_pull(task_ids="create_endpoint_config")["EndpointConfig"]["EndpointConfigName"]
            return check_endpoint(config, expected)

        chain(resolved, model, endpoint_config, deploy, verify_endpoint())
    return dag


def resolve_deployment(config: PipelineConfig, package_arn: str | None, dag_id: str, run_id: str) -> dict[str, Any]:
    package_arn, package = approved_package(config, package_arn)
    key = run_key(dag_id, run_id)
    return {
        "model_package_arn": package_arn,
        "model_package_version": package.get("ModelPackageVersion"),
        "model_name": resource_name(config.pipeline_name, "model", key),
        "endpoint_config_name": resource_name(config.pipeline_name, "config", key),
    }


def approved_package(config: PipelineConfig, package_arn: str | None) -> tuple[str, dict[str, Any]]:
    """The package (default: the group's newest approved one) and its description; refuses a package of another
    group or one that is not approved."""
    from cdk_mwaa_mlops.compat import AirflowFailException

    sagemaker = aws_client(config, "sagemaker")
    if not package_arn:
        listed = sagemaker.list_model_packages(
            ModelPackageGroupName=config.model_package_group_name,
            ModelApprovalStatus="Approved",
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=1,
        )["ModelPackageSummaryList"]
        if not listed:
            raise AirflowFailException(
                f"model package group '{config.model_package_group_name}' has no approved package to deploy"
            )
        package_arn = listed[0]["ModelPackageArn"]
    package = sagemaker.describe_model_package(ModelPackageName=package_arn)
    group, status = package.get("ModelPackageGroupName"), package["ModelApprovalStatus"]
    if group != config.model_package_group_name:
        raise AirflowFailException(
            f"{package_arn} belongs to group '{group}'; this pipeline deploys packages of '{config.model_package_group_name}'"
        )
    if status != "Approved":
        raise AirflowFailException(
            f"{package_arn} is {status}: only approved packages are deployed; approve it in the model registry"
        )
    return package_arn, package


def model_spec(config: PipelineConfig) -> dict[str, Any]:
    return {
        "ModelName": pulled(RESOLVE, "model_name") + TRY,
        "PrimaryContainer": {"ModelPackageName": pulled(RESOLVE, "model_package_arn")},
        "ExecutionRoleArn": config.role_arn,
        "EnableNetworkIsolation": True,
        "Tags": tags(config, config.deployment_dag_id),
    }


def endpoint_config_spec(config: PipelineConfig) -> dict[str, Any]:
    variant: dict[str, Any] = {
        "VariantName": "AllTraffic",
        "ModelName": pulled("create_model", "Model", "ModelName"),
    }
    if config.mode == "serverless":
        variant["ServerlessConfig"] = {
            "MemorySizeInMB": config.serverless_memory_mb,
            "MaxConcurrency": config.serverless_max_concurrency,
        }
    else:
        variant.update(InstanceType=config.instance_type, InitialInstanceCount=config.initial_instance_count)
    spec: dict[str, Any] = {
        "EndpointConfigName": pulled(RESOLVE, "endpoint_config_name") + TRY,
        "ProductionVariants": [variant],
        "Tags": tags(config, config.deployment_dag_id),
    }
    if config.kms_key_arn and config.mode != "serverless":  # serverless endpoints take no storage key
        spec["KmsKeyId"] = config.kms_key_arn
    if config.drift:  # only real-time endpoints capture (config.py refuses drift with another mode)
        from cdk_mwaa_mlops.drift import drift_capture_config

        spec["DataCaptureConfig"] = drift_capture_config(config)
    return spec


def endpoint_spec(config: PipelineConfig) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "EndpointName": config.endpoint_name,
        "EndpointConfigName": pulled("create_endpoint_config", "EndpointConfig", "EndpointConfigName"),
        "Tags": tags(config, config.deployment_dag_id),
    }
    deployment = deployment_config(config)
    if deployment:
        spec["DeploymentConfig"] = deployment
    return spec


def deployment_config(config: PipelineConfig) -> dict[str, Any] | None:
    """Blue/green with canary or linear traffic shifting and alarm-based rollback (real-time endpoints only:
    SageMaker's deployment guardrails do not cover serverless endpoints, which it updates all at once)."""
    if config.mode == "serverless":
        return None
    shifting = config.traffic_shifting
    routing: dict[str, Any] = {"Type": shifting.type, "WaitIntervalInSeconds": shifting.wait_seconds}
    if shifting.type == "CANARY":
        routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": shifting.step_percent}
    elif shifting.type == "LINEAR":
        routing["LinearStepSize"] = {"Type": "CAPACITY_PERCENT", "Value": shifting.step_percent}
    deployment: dict[str, Any] = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": config.termination_wait_seconds,
        }
    }
    if config.rollback_alarm_names:
        deployment["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": name} for name in config.rollback_alarm_names]}
    return deployment


def check_endpoint(config: PipelineConfig, expected_config: str, sagemaker: Any = None) -> str:
    """After the update: the endpoint serves the new config, or the blue/green deployment rolled back. `sagemaker`:
    a client in the endpoint's account (a stage's), default the pipeline's connection."""
    from cdk_mwaa_mlops.compat import AirflowFailException

    sagemaker = sagemaker or aws_client(config, "sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName=config.endpoint_name)
    status, serving = endpoint["EndpointStatus"], endpoint["EndpointConfigName"]
    if status != "InService" or serving != expected_config:
        reason = endpoint.get("FailureReason") or "an alarm of the deployment's auto-rollback went off, or the update failed"
        raise AirflowFailException(
            f"endpoint {config.endpoint_name} is {status} with config {serving}, not {expected_config}: {reason}"
        )
    return endpoint["EndpointArn"]
