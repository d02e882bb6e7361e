"""The steps of the MWAA Serverless workflows: the same pipeline as the training and deployment DAGs, as callables.

Amazon MWAA Serverless runs a workflow from a dag-factory YAML definition (written by the construct,
src/serverless/private/definitions.ts) and this package, shipped as the workflow's code package (extracted to
/usr/local/airflow/dags, on `sys.path`). Each custom step is a `PythonOperator` task whose `python_callable` is one
function below, called with the pipeline config (`op_kwargs.config`: the very config the provisioned DAGs read,
embedded in the definition, so a run's `OverrideParameters` cannot change it) and the task's context.

One source of truth: a step that calls SageMaker or Glue builds the provider's operator with the same arguments as the
provisioned DAG (training.py and deployment.py build both) and runs it in the task; only how long jobs are waited for
differs. MWAA Serverless runs no deferrable operator and stops a task after 3600 s, so a step submits its job and
returns, and an allowlisted sensor of the definition (GlueJobSensor, SageMakerTrainingSensor, SageMakerProcessingSensor,
SageMakerEndpointSensor) waits for it, each try up to 3600 s, up to 3 retries (the construct refuses at synth a job
that may run longer than that budget). Such a step logs the provider's `... cannot be called outside of the Task
Runner!` warning: the operator runs inside this task, which is what the step is for.

The quality gate fails (it cannot branch: branch and short-circuit operators are not on the service's allowlist), so
`register` never runs (`upstream_failed`); a missed threshold is `QualityGateFailed`, which names itself in the task's
error message and log, and the gate's XCom says `verdict: failed` with the metric's value.

With drift detection (drift.py), the training workflow starts with `cool_down`: a run the drift alarm started while a
training job of the pipeline is recent fails there with `CoolDownActive`, the quality gate's way of ending a run
(nothing downstream runs: `upstream_failed`), and `drift_baseline` samples the training split beside training. The drift
workflow runs `resolve_drift` then `drift_check`; a run with nothing to check skips in `resolve_drift`
(AirflowSkipException, as the provisioned DAG; the tasks after it are skipped and the run succeeds).

With stages (promotion.py), the deployment workflow runs promotion_steps.py's steps, as the provisioned DAG does, with
the two lifecycle parameters the trigger sends (`model_package_stage`, `model_package_stage_status`). Two differences,
both from the service's rules: `wait_for_endpoint` polls the stage's endpoint inside its task (up to
STAGE_WAIT_SECONDS a try, then retried), because an allowlisted SageMakerEndpointSensor can only use the workflow's
own role, not the stage's; and a failed verification or check rejects the stage within its own task (roll back,
`Rejected`, fail), because whether the service honours a task's `trigger_rule` is not documented.
"""

from __future__ import annotations

import logging
from typing import Any

from cdk_mwaa_mlops.compat import AirflowFailException
from cdk_mwaa_mlops.config import PipelineConfig, parse_config

log = logging.getLogger(__name__)
SOURCE = "the workflow definition's config"

# The task ids the definitions give the steps and the sensors (definitions.ts names them too; the proof checks both).
TRAINING_SUBMIT = "start_training"
EVALUATION_SUBMIT = "evaluate"
PREPROCESS = "preprocess"
#: How long one try of a stage's `wait_for_endpoint` polls (the service stops a task after 3600 s).
STAGE_WAIT_SECONDS = 3300


def _config(config: dict[str, Any]) -> PipelineConfig:
    return parse_config(SOURCE, config)


def _run(operator: Any, context: dict[str, Any]) -> Any:
    """Render the operator's templated fields (the builders' `ti.xcom_pull` expressions) and execute it in this task."""
    operator.render_template_fields(context)
    return operator.execute(context)


def _submit(operator_class: Any, arguments: dict[str, Any], settings: PipelineConfig, context: dict[str, Any]) -> Any:
    """Start a job with the provider's operator and return at once: the definition's sensor waits for it."""
    operator = operator_class(
        task_id=_task_id(context),
        aws_conn_id=settings.aws_conn_id,
        **arguments,
        wait_for_completion=False,
        deferrable=False,
    )
    return _run(operator, context)


def _task_id(context: dict[str, Any]) -> str:
    return context["ti"].task_id


# ---- training ------------------------------------------------------------------------------------------------------
def resolve_run(config: dict[str, Any], **context: Any) -> dict[str, str]:
    """What this run trains and where it writes (training.resolve_training_run), from the run's parameters."""
    from cdk_mwaa_mlops.training import resolve_training_run

    ti = context["ti"]
    return resolve_training_run(_config(config), context["params"], ti.dag_id, ti.run_id)


def preprocess(config: dict[str, Any], **context: Any) -> str:
    """Start the Glue job run (a retry resumes an earlier try's run); the definition's sensor waits for it."""
    from cdk_mwaa_mlops.compat import PreprocessOperator
    from cdk_mwaa_mlops.training import preprocessing_arguments

    settings = _config(config)
    return _submit(PreprocessOperator, preprocessing_arguments(settings), settings, context)


def start_training(config: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Create the training job; returns the operator's result (`{"Training": <description>}`), whose job name the
    definition's SageMakerTrainingSensor waits for."""
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTrainingOperator

    from cdk_mwaa_mlops.training import training_arguments

    settings = _config(config)
    return _submit(SageMakerTrainingOperator, training_arguments(settings), settings, context)


def train(config: dict[str, Any], **context: Any) -> dict[str, Any]:
    """The completed training job, described as the provisioned DAG's `train` task returns it (its XCom is what
    evaluation and registration read)."""
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
    from airflow.providers.amazon.aws.operators.sagemaker import serialize

    settings = _config(config)
    name = context["ti"].xcom_pull(task_ids=TRAINING_SUBMIT)["Training"]["TrainingJobName"]
    description = SageMakerHook(aws_conn_id=settings.aws_conn_id).describe_training_job(name)
    if description["TrainingJobStatus"] != "Completed":
        raise AirflowFailException(f"training job {name} is {description['TrainingJobStatus']}, not Completed")
    return {"Training": serialize(description)}


def evaluate(config: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Create the evaluation processing job; the definition's SageMakerProcessingSensor waits for it."""
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerProcessingOperator

    from cdk_mwaa_mlops.training import evaluation_arguments

    settings = _config(config)
    return _submit(SageMakerProcessingOperator, evaluation_arguments(settings), settings, context)


class QualityGateFailed(AirflowFailException):
    """The model missed the pipeline's quality gate: nothing is registered (a verdict, not an error; not retried)."""


def quality_gate(config: dict[str, Any], **context: Any) -> float:
    """Pass (the metric's value) or fail with QualityGateFailed: what the provisioned DAG's short circuit decides."""
    from cdk_mwaa_mlops.training import METRIC_VALUE, RESOLVE, quality_gate_verdict

    settings = _config(config)
    ti = context["ti"]
    report = ti.xcom_pull(task_ids=RESOLVE)["evaluation_report"]
    passed, value = quality_gate_verdict(settings, report)
    ti.xcom_push(key=METRIC_VALUE, value=value)
    ti.xcom_push(key="verdict", value="passed" if passed else "failed")
    if not passed:
        verdict = (
            f"quality gate failed: {settings.metric} = {value}, required {settings.comparison} {settings.threshold}; "
            f"nothing is registered ({report})"
        )
        log.error("%s: %s", QualityGateFailed.__name__, verdict)  # the line to search the task log for
        raise QualityGateFailed(verdict)
    return value


def register(config: dict[str, Any], **context: Any) -> str:
    """Register the model version (training.registration_arguments); returns the package's ARN."""
    from cdk_mwaa_mlops.training import RegisterModelVersionOperator, registration_arguments

    settings = _config(config)
    operator = RegisterModelVersionOperator(
        task_id=_task_id(context), aws_conn_id=settings.aws_conn_id, **registration_arguments(settings)
    )
    return _run(operator, context)


def start_deployment(config: dict[str, Any], deployment_workflow_arn: str, **context: Any) -> str:
    """Start the deployment workflow for the package just registered, if it is approved, with the run id the trigger
    Lambda gives the registry's approval event as the client token: whichever starts second is the same run.
    Returns the deployment run's id."""
    from cdk_mwaa_mlops.common import aws_client
    from cdk_mwaa_mlops.naming import workflow_client_token
    from cdk_mwaa_mlops.training import request_deployment

    settings = _config(config)
    request = request_deployment(settings, context["ti"].xcom_pull(task_ids="register"))  # skips when not approved
    token = workflow_client_token(request["run_id"])
    started = aws_client(settings, "mwaa-serverless").start_workflow_run(
        WorkflowArn=deployment_workflow_arn, ClientToken=token, OverrideParameters=request["conf"]
    )
    log.info("deployment workflow %s: run %s (client token %s)", deployment_workflow_arn, started["RunId"], token)
    return started["RunId"]


# ---- drift detection (drift.py) -------------------------------------------------------------------------------------
class CoolDownActive(AirflowFailException):
    """The drift alarm started this training run while a training job of the pipeline is recent: nothing is trained (a
    verdict, not an error; not retried)."""


def cool_down(config: dict[str, Any], **context: Any) -> str:
    """Go on (the reason), or fail with CoolDownActive: what the provisioned DAG's `cool_down` short circuit decides."""
    from cdk_mwaa_mlops.drift import cool_down_verdict

    go_on, reason = cool_down_verdict(_config(config), context["params"])
    if not go_on:
        log.error("%s: %s", CoolDownActive.__name__, reason)  # the line to search the task log for
        raise CoolDownActive(reason)
    log.info("cool-down: %s", reason)
    return reason


def drift_baseline(config: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Create the baseline processing job (a sample of the training split); the definition's sensor waits for it."""
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerProcessingOperator

    from cdk_mwaa_mlops.drift import baseline_arguments

    settings = _config(config)
    return _submit(SageMakerProcessingOperator, baseline_arguments(settings), settings, context)


def resolve_drift(config: dict[str, Any], **context: Any) -> dict[str, Any]:
    """What the endpoint serves and its model's baseline (drift.resolve_drift_run); skips the run when there is
    nothing to check."""
    from cdk_mwaa_mlops.drift import resolve_drift_run

    ti = context["ti"]
    return resolve_drift_run(_config(config), ti.dag_id, ti.run_id)


def drift_check(config: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Create the drift check processing job; the definition's sensor waits for it. The job publishes the metrics."""
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerProcessingOperator

    from cdk_mwaa_mlops.drift import drift_check_arguments

    settings = _config(config)
    return _submit(SageMakerProcessingOperator, drift_check_arguments(settings), settings, context)


# ---- deployment ----------------------------------------------------------------------------------------------------
def resolve_package(config: dict[str, Any], **context: Any) -> dict[str, Any]:
    """The approved package this run deploys, and the names of what it creates (deployment.resolve_deployment; with
    stages, promotion.resolve_stage_deployment: the stage too)."""
    from cdk_mwaa_mlops.deployment import resolve_deployment

    settings = _config(config)
    if settings.stages:
        return _stage_steps().resolve(settings, context)
    ti = context["ti"]
    return resolve_deployment(settings, context["params"].get("model_package_arn"), ti.dag_id, ti.run_id)


def _stage_steps() -> Any:
    from cdk_mwaa_mlops import promotion_steps

    return promotion_steps


def create_model(config: dict[str, Any], **context: Any) -> dict[str, Any]:
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerModelOperator

    from cdk_mwaa_mlops.deployment import model_spec

    settings = _config(config)
    if settings.stages:
        return _stage_steps().create_model(settings, context)
    operator = SageMakerModelOperator(task_id=_task_id(context), aws_conn_id=settings.aws_conn_id, config=model_spec(settings))
    return _run(operator, context)


def create_endpoint_config(config: dict[str, Any], **context: Any) -> dict[str, Any]:
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerEndpointConfigOperator

    from cdk_mwaa_mlops.deployment import endpoint_config_spec

    settings = _config(config)
    if settings.stages:
        return _stage_steps().create_endpoint_config(settings, context)
    operator = SageMakerEndpointConfigOperator(
        task_id=_task_id(context), aws_conn_id=settings.aws_conn_id, config=endpoint_config_spec(settings)
    )
    return _run(operator, context)


def deploy_endpoint(config: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Create the endpoint, or update it (blue/green for real-time endpoints); the SageMakerEndpointSensor of the
    definition waits for it."""
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerEndpointOperator

    from cdk_mwaa_mlops.deployment import DEPLOY_OPERATION, endpoint_spec

    settings = _config(config)
    if settings.stages:
        return _stage_steps().deploy(settings, context)
    return _submit(
        SageMakerEndpointOperator, {"config": endpoint_spec(settings), "operation": DEPLOY_OPERATION}, settings, context
    )


def verify_endpoint(config: dict[str, Any], **context: Any) -> str:
    """The endpoint serves the new config, or the deployment rolled back (deployment.check_endpoint); with stages, a
    stage that fails verification is rejected (promotion_steps.reject)."""
    from cdk_mwaa_mlops.deployment import check_endpoint

    settings = _config(config)
    if settings.stages:
        return _rejecting(settings, context, _stage_steps().verify)
    expected = context["ti"].xcom_pull(task_ids="create_endpoint_config")["EndpointConfig"]["EndpointConfigName"]
    return check_endpoint(settings, expected)


# ---- deployment through stages (promotion_steps.py) ----------------------------------------------------------------
def inspect_stage(config: dict[str, Any], **context: Any) -> dict[str, Any]:
    """What the stage's endpoint serves before the run (what a failed stage rolls back to)."""
    return _stage_steps().inspect(_config(config), context)


def wait_for_endpoint(config: dict[str, Any], **context: Any) -> None:
    """Poll the stage's endpoint (as its deploy role) until it settles; a try that runs out of time is retried."""
    _stage_steps().wait(_config(config), context, STAGE_WAIT_SECONDS)


def check_stage(config: dict[str, Any], **context: Any) -> dict[str, Any]:
    """The stage's checks on its endpoint; a stage that fails them is rejected."""
    settings = _config(config)
    return _rejecting(settings, context, _stage_steps().check)


def promote(config: dict[str, Any], **context: Any) -> dict[str, str]:
    """Move the package on in the registry: the next stage (Approved or PendingApproval by the gate), or Deployed."""
    return _stage_steps().promote(_config(config), context)


def _rejecting(settings: PipelineConfig, context: dict[str, Any], step: Any) -> Any:
    """Run the step; when it fails, reject the stage here (roll back, Rejected) and fail with what was done."""
    try:
        return step(settings, context)
    except AirflowFailException as failed:
        _stage_steps().reject(settings, context, str(failed))
        raise
