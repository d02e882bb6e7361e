"""What Airflow itself recorded of a DAG run's task instances: the trigger a deferred task waited on (the `trigger`
table row its task instance points to) and, where Airflow keeps one (>= 3.1), the audit log of its state changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class TaskRecord:
    state: str
    try_number: int
    #: the trigger's class path, and the arguments it was built with, if the task instance deferred
    trigger: str | None
    trigger_kwargs: dict[str, Any]
    #: the audit log's events for this task instance, oldest first ("running", "deferred", "success", ...)
    events: list[str]


def task_records(dag_run: Any) -> dict[str, TaskRecord]:
    from airflow.models.log import Log
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from sqlalchemy import select

    records = {}
    with create_session() as session:
        instances = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id)
        )
        for ti in instances:
            trigger = session.get(Trigger, ti.trigger_id) if ti.trigger_id else None
            events = session.scalars(
                select(Log.event)
                .where(Log.dag_id == ti.dag_id, Log.run_id == ti.run_id, Log.task_id == ti.task_id)
                .order_by(Log.id)
            )
            records[ti.task_id] = TaskRecord(
                state=ti.state,
                try_number=ti.try_number,
                trigger=trigger.classpath if trigger else None,
                trigger_kwargs=dict(trigger.kwargs) if trigger else {},
                events=list(events),
            )
    return records


def earlier_tries(dag_run: Any, task_id: str) -> list[tuple[int, str]]:
    """(try number, final state) of each earlier try of a task instance, as Airflow keeps them when it retries one."""
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(TaskInstanceHistory.try_number, TaskInstanceHistory.state)
            .where(
                TaskInstanceHistory.dag_id == dag_run.dag_id,
                TaskInstanceHistory.run_id == dag_run.run_id,
                TaskInstanceHistory.task_id == task_id,
            )
            .order_by(TaskInstanceHistory.try_number)
        )
        return [(number, str(state)) for number, state in rows]


def audit_log_has_task_states() -> bool:
    """Airflow 3.0's execution API writes no audit log entry when a task starts, defers or finishes; >= 3.1 does."""
    from importlib.metadata import version

    return not version("apache-airflow").startswith("3.0.")
