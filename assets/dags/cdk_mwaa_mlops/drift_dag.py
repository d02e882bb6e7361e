"""The drift DAG: compare what the pipeline's real-time endpoint was sent since its model was deployed with that
model's training baseline (drift.py, assets/drift/README.md).

resolve_drift -> drift_check. No schedule of its own: the trigger starts it on the pipeline's drift schedule. A run
with nothing to check (no endpoint in service, a model without a baseline, no captured traffic yet) skips, with the
reason in resolve_drift's log. The check publishes DriftedFeatureShare, which the drift alarm watches; a drifting
model is not a failed run.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.operators.sagemaker import SageMakerProcessingOperator
from airflow.sdk import DAG, chain, task

from cdk_mwaa_mlops import drift
from cdk_mwaa_mlops.common import dag_arguments
from cdk_mwaa_mlops.config import PipelineConfig


def build_drift_dag(config: PipelineConfig) -> DAG:
    drift.settings(config)  # a config without a drift section builds no drift DAG: refused here, naming the file
    with DAG(
        dag_id=config.drift_dag_id,
        description=f"cdk-mwaa-mlops {config.pipeline_name}: check endpoint {config.endpoint_name} for data drift",
        # One check at a time: a second would read the same captures and publish the same verdict.
        max_active_runs=1,
        **dag_arguments(config, "drift"),
        doc_md=__doc__,
    ) as dag:

        @task(task_id=drift.RESOLVE)
        def resolve_drift(**context: Any) -> dict[str, Any]:
            return drift.resolve_drift_run(config, context["dag"].dag_id, context["run_id"])

        check = SageMakerProcessingOperator(
            task_id="drift_check",
            **drift.drift_check_arguments(config),
            wait_for_completion=True,
            deferrable=True,
            check_interval=config.poll_interval_seconds,
        )
        chain(resolve_drift(), check)
    return dag
