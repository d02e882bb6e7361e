"""The deployment DAG of a pipeline with stages: deploy an approved model package to one stage, check it there and
promote it to the next (promotion.py). Run conf: `model_package_arn`, and `model_package_stage` with
`model_package_stage_status` (the trigger Lambda sets both from the registry's lifecycle events); without a stage,
the first stage.

resolve_package -> inspect_stage -> create_model -> create_endpoint_config -> deploy_endpoint -> wait_for_endpoint
-> verify_endpoint -> check_stage -> promote; reject runs when a step after resolve_package fails: it rolls the
stage back, sets the package Rejected at the stage and fails the run.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, Param, chain, task

from cdk_mwaa_mlops import promotion_steps as steps
from cdk_mwaa_mlops.common import dag_arguments
from cdk_mwaa_mlops.config import STAGE_NAME, PipelineConfig
from cdk_mwaa_mlops.deployment import PACKAGE_ARN
from cdk_mwaa_mlops.promotion import STAGE_PARAM, STATUS_PARAM

#: the longest a stage's endpoint may take to create or update (blue/green waits included) before the run fails
ENDPOINT_TIMEOUT_SECONDS = 4 * 3600


def build_promotion_dag(config: PipelineConfig) -> DAG:
    names = ", ".join(stage.name for stage in config.stages)
    with DAG(
        dag_id=config.deployment_dag_id,
        description=f"cdk-mwaa-mlops {config.pipeline_name}: deploy an approved model package through stages {names}",
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
            STAGE_PARAM: Param(
                None,
                type=["null", "string"],
                pattern=STAGE_NAME.pattern,
                description=f"The stage to deploy to ({names}); it must be the package's lifecycle stage, Approved. "
                "Default: the first stage",
            ),
            STATUS_PARAM: Param(
                None,
                type=["null", "string"],
                description="The package's lifecycle stage status the trigger saw (a stage deploys when Approved)",
            ),
        },
        doc_md=__doc__,
    ) as dag:

        @task(task_id=steps.RESOLVE, multiple_outputs=False)
        def resolve_package(**context: Any) -> dict[str, Any]:
            return steps.resolve(config, context)

        @task(task_id="inspect_stage", multiple_outputs=False)
        def inspect_stage(**context: Any) -> dict[str, Any]:
            return steps.inspect(config, context)

        @task(task_id="create_model", multiple_outputs=False)
        def create_model(**context: Any) -> dict[str, Any]:
            return steps.create_model(config, context)

        @task(task_id="create_endpoint_config", multiple_outputs=False)
        def create_endpoint_config(**context: Any) -> dict[str, Any]:
            return steps.create_endpoint_config(config, context)

        @task(task_id="deploy_endpoint", multiple_outputs=False)
        def deploy_endpoint(**context: Any) -> dict[str, Any]:
            return steps.deploy(config, context)

        # A task's dict return value is one XCom (Airflow 3.0 would push each key, and refuses a None value).
        # Rescheduled between pokes: no worker slot is held while SageMaker creates or updates the endpoint.
        @task.sensor(
            task_id="wait_for_endpoint",
            poke_interval=config.poll_interval_seconds,
            timeout=ENDPOINT_TIMEOUT_SECONDS,
            mode="reschedule",
        )
        def wait_for_endpoint(**context: Any) -> bool:
            return steps.settled(config, context)

        @task(task_id="verify_endpoint", multiple_outputs=False)
        def verify_endpoint(**context: Any) -> str:
            return steps.verify(config, context)

        @task(task_id="check_stage", multiple_outputs=False)
        def check_stage(**context: Any) -> dict[str, Any]:
            return steps.check(config, context)

        @task(task_id="promote", multiple_outputs=False)
        def promote(**context: Any) -> dict[str, str]:
            return steps.promote(config, context)

        @task(task_id="reject", trigger_rule="one_failed", retries=0)
        def reject(**context: Any) -> None:
            steps.reject(config, context)

        stage_steps = [
            inspect_stage(),
            create_model(),
            create_endpoint_config(),
            deploy_endpoint(),
            wait_for_endpoint(),
            verify_endpoint(),
            check_stage(),
        ]
        chain(resolve_package(), *stage_steps, promote())
        stage_steps >> reject()
    return dag
