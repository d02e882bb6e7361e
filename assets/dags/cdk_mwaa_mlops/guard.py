"""Building a pipeline's DAGs so that a failure is an Airflow import error that says what to fix.

If the DAG file raises, Airflow records an import error for it (shown in the UI and by `airflow dags
list-import-errors`) and none of its DAGs exist, so a trigger would be refused with `dag_not_found`. An operator that
refuses an argument on this environment's provider (e.g. a provider older than the DAGs support) would say only
`Invalid arguments were passed to ...`: the error raised here also names the pipeline's config file, the Airflow
and Amazon provider versions the environment runs, and the versions the DAGs support.
"""

from __future__ import annotations

from typing import Any

from cdk_mwaa_mlops.compat import versions
from cdk_mwaa_mlops.config import PipelineConfig
from cdk_mwaa_mlops.deployment import build_deployment_dag
from cdk_mwaa_mlops.training import build_training_dag

SUPPORTED = "Airflow 3.0.6, 3.2.1 and 3.3.1 with the Amazon provider MWAA installs with each (9.12.0, 9.25.0, 9.34.0)"


class PipelineBuildError(RuntimeError):
    """A pipeline's DAGs could not be built on this environment."""


def build_dags(config: PipelineConfig) -> dict[str, Any]:
    """The pipeline's training DAG and (unless it only registers) its deployment DAG by id, or a PipelineBuildError
    that names the config and the versions."""
    try:
        dags = {config.training_dag_id: build_training_dag(config)}
        if config.deploys:
            dags[config.deployment_dag_id] = build_deployment_dag(config)
        return dags
    except Exception as error:
        raise PipelineBuildError(
            f"{config.source}: the DAGs of pipeline '{config.pipeline_name}' cannot be built on this environment "
            f"({versions()}): {type(error).__name__}: {error}. cdk-mwaa-mlops supports {SUPPORTED}."
        ) from error
