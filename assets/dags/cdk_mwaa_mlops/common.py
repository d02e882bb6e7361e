"""What the training and deployment DAGs share: defaults, notifications, XCom templates, small AWS helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cdk_mwaa_mlops.config import PipelineConfig

TAGGED_BY = "cdk-mwaa-mlops:pipeline"
#: What a failure notification says instead of the error where Airflow gives callbacks none (3.0.6 and 3.2.1; 3.3.1 does).
NO_EXCEPTION = "(this Airflow version passes no error to failure callbacks: see the log)"


def default_args(config: PipelineConfig) -> dict[str, Any]:
    args: dict[str, Any] = {
        "owner": "cdk-mwaa-mlops",
        "retries": config.retries,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "aws_conn_id": config.aws_conn_id,
    }
    if config.notification_topic_arn:
        from cdk_mwaa_mlops.notifications import FailureNotifier

        args["on_failure_callback"] = [
            FailureNotifier(
                message_group_id=config.pipeline_name,
                aws_conn_id=config.aws_conn_id,
                target_arn=config.notification_topic_arn,
                subject=f"cdk-mwaa-mlops: {config.pipeline_name} failed",
                # Without the default, Airflow 3.0.6 and 3.2.1 fail to render the message and the notification is lost.
                message=(
                    "Task {{ ti.task_id }} of DAG {{ dag.dag_id }} failed in run {{ run_id }} "
                    "(try {{ ti.try_number }}): "
                    f"{{{{ exception | default({NO_EXCEPTION!r}) }}}}\nLog: {{{{ ti.log_url }}}}"
                ),
            )
        ]
    return args


def dag_arguments(config: PipelineConfig, kind: str) -> dict[str, Any]:
    """What both DAGs share: run only when triggered, never catch up, the pipeline's task defaults and tags."""
    return {
        "schedule": None,
        "start_date": datetime(2025, 1, 1, tzinfo=UTC),
        "catchup": False,
        "default_args": default_args(config),
        "tags": ["cdk-mwaa-mlops", config.pipeline_name, kind],
    }


def pulled(task_id: str, *path: str) -> str:
    """A Jinja expression for a value in a task's XCom (operators' templated fields render it at run time)."""
    keys = "".join(f"[{key!r}]" for key in path)
    return f"{{{{ ti.xcom_pull(task_ids={task_id!r}){keys} }}}}"


def tags(config: PipelineConfig, dag_id: str) -> list[dict[str, str]]:
    return [{"Key": TAGGED_BY, "Value": config.pipeline_name}, {"Key": "cdk-mwaa-mlops:dag", "Value": dag_id}]


def aws_client(config: PipelineConfig, service: str):
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    return AwsBaseHook(aws_conn_id=config.aws_conn_id, client_type=service).get_conn()
