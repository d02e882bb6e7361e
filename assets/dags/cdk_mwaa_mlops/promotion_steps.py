"""The steps of a deployment run to a stage (promotion.py says what they do), each `(config, context)`: the
provisioned DAG (promotion_dag.py) and the MWAA Serverless workflow (serverless.py) run the very same functions.

The specs of what a step creates are deployment.py's (model_spec, endpoint_config_spec, endpoint_spec) for the stage's
view of the config, rendered in the step (their `ti.xcom_pull` expressions read this run's earlier steps)."""

from __future__ import annotations

from typing import Any

from cdk_mwaa_mlops import promotion
from cdk_mwaa_mlops.config import PipelineConfig, Stage

RESOLVE = "resolve_package"
INSPECT = "inspect_stage"
#: the steps after resolve, in order: a failure in any of them rejects the package at its stage
STAGE_STEPS = ("inspect_stage", "create_model", "create_endpoint_config", "deploy_endpoint", "wait_for_endpoint")
CHECKED_STEPS = ("verify_endpoint", "check_stage")


def _resolved(context: dict[str, Any]) -> dict[str, Any]:
    return context["ti"].xcom_pull(task_ids=RESOLVE)


def _stage(config: PipelineConfig, context: dict[str, Any]) -> tuple[dict[str, Any], Stage, PipelineConfig]:
    resolved = _resolved(context)
    stage = config.stage(resolved["stage"])
    return resolved, stage, config.for_stage(stage)


def _client(config: PipelineConfig, context: dict[str, Any], service: str = "sagemaker") -> Any:
    resolved, stage, _ = _stage(config, context)
    return promotion.stage_session(config, stage, resolved["session_name"]).client(service)


def _rendered(spec: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    return context["task"].render_template(spec, context)


def resolve(config: PipelineConfig, context: dict[str, Any]) -> dict[str, Any]:
    ti = context["ti"]
    return promotion.resolve_stage_deployment(config, context["params"], ti.dag_id, ti.run_id)


def inspect(config: PipelineConfig, context: dict[str, Any]) -> dict[str, Any]:
    return promotion.inspect_stage(_client(config, context), _stage(config, context)[2])


def create_model(config: PipelineConfig, context: dict[str, Any]) -> dict[str, Any]:
    from cdk_mwaa_mlops.deployment import model_spec

    view = _stage(config, context)[2]
    return promotion.create_model(_client(config, context), _rendered(model_spec(view), context))


def create_endpoint_config(config: PipelineConfig, context: dict[str, Any]) -> dict[str, Any]:
    from cdk_mwaa_mlops.deployment import endpoint_config_spec

    view = _stage(config, context)[2]
    return promotion.create_endpoint_config(_client(config, context), _rendered(endpoint_config_spec(view), context))


def deploy(config: PipelineConfig, context: dict[str, Any]) -> dict[str, Any]:
    from cdk_mwaa_mlops.deployment import endpoint_spec

    view = _stage(config, context)[2]
    return promotion.deploy_endpoint(_client(config, context), _rendered(endpoint_spec(view), context))


def settled(config: PipelineConfig, context: dict[str, Any]) -> bool:
    return promotion.endpoint_settled(_client(config, context), _stage(config, context)[2].endpoint_name)


def wait(config: PipelineConfig, context: dict[str, Any], budget_seconds: float) -> None:
    view = _stage(config, context)[2]
    promotion.wait_for_endpoint(_client(config, context), view.endpoint_name, config.poll_interval_seconds, budget_seconds)


def verify(config: PipelineConfig, context: dict[str, Any]) -> str:
    from cdk_mwaa_mlops.compat import AirflowFailException
    from cdk_mwaa_mlops.deployment import check_endpoint

    view = _stage(config, context)[2]
    expected = context["ti"].xcom_pull(task_ids="create_endpoint_config")["EndpointConfig"]["EndpointConfigName"]
    try:
        return check_endpoint(view, expected, _client(config, context))
    except AirflowFailException as error:
        promotion.fail(context["ti"], str(error))
        raise  # unreachable: fail() raises


def check(config: PipelineConfig, context: dict[str, Any]) -> dict[str, Any]:
    from cdk_mwaa_mlops.common import aws_client

    resolved, stage, view = _stage(config, context)
    try:
        if not resolved["test_data_uri"]:
            raise promotion.StageCheckFailed(
                f"{resolved['model_package_arn']} names no processed_data_uri (CustomerMetadataProperties): no test rows"
            )
        rows = promotion.read_test_rows(aws_client(config, "s3"), resolved["test_data_uri"], stage.sample_rows)
        return promotion.run_checks(_client(config, context, "sagemaker-runtime"), view.endpoint_name, rows, stage)
    except promotion.StageCheckFailed as failed:
        promotion.fail(context["ti"], str(failed))
        raise  # unreachable: fail() raises


def promote(config: PipelineConfig, context: dict[str, Any]) -> dict[str, str]:
    resolved, stage, _ = _stage(config, context)
    lifecycle = promotion.promotion(config, stage)
    promotion.set_lifecycle(config, resolved["model_package_arn"], lifecycle)
    return lifecycle


def reject(config: PipelineConfig, context: dict[str, Any], reason: str | None = None) -> None:
    """After a failed step: roll the stage's endpoint back, set the package Rejected at the stage, fail with both.
    `reason`: why (default: what the failed check or verification left in XCom)."""
    from cdk_mwaa_mlops.compat import AirflowFailException, AirflowSkipException

    ti = context["ti"]
    resolved = _resolved(context)
    if not resolved:
        raise AirflowSkipException("the run was refused before it chose a stage: nothing to roll back or reject")
    _, stage, view = _stage(config, context)
    if reason is None:
        reasons = [r for r in (ti.xcom_pull(task_ids=t, key=promotion.FAILURE) for t in CHECKED_STEPS) if r]
        reason = reasons[0] if reasons else f"the deployment to stage {stage.name} failed (see the run's failed task)"
    inspected = ti.xcom_pull(task_ids=INSPECT)
    if inspected is None:
        rolled_back = "nothing was deployed"
    else:
        rolled_back = promotion.roll_back(
            _client(config, context),
            view.endpoint_name,
            inspected["previous_endpoint_config"],
            resolved["endpoint_config_name"],
        )
    description = f"{reason}; {rolled_back}"[: promotion.DESCRIPTION_MAX]
    promotion.set_lifecycle(
        config,
        resolved["model_package_arn"],
        {"Stage": stage.name, "StageStatus": "Rejected", "StageDescription": description},
    )
    raise AirflowFailException(
        f"promotion of {resolved['model_package_arn']} stopped at stage {stage.name}: Rejected. {description}"
    )
