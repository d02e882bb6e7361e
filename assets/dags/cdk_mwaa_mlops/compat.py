"""Where the Airflow and Amazon provider versions MWAA offers differ, bridged in one place.

MWAA installs Airflow 3.0.6 with Amazon provider 9.12.0, 3.2.1 with 9.25.0 and 3.3.1 with 9.34.0; the DAGs are
tested on each (test/python/requirements-airflow-*.txt). Each bridge below says what differs and can go once the
oldest supported version has the feature.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version
from typing import Any

from airflow.providers.amazon.aws.operators.glue import GlueJobOperator

try:  # Airflow >= 3.1: the task SDK has the task exceptions
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
except ImportError:  # Airflow 3.0: only airflow.exceptions has them (its task SDK does not)
    from airflow.exceptions import AirflowFailException, AirflowSkipException

__all__ = ["AirflowFailException", "AirflowSkipException", "PreprocessOperator", "versions"]

#: Providers 9.25.0 and 9.34.0 (MWAA 3.2.1 and 3.3.1) resume, on a retry, the Glue job run an earlier try started;
#: 9.12.0 (MWAA 3.0.6) has no such argument and refuses it.
GLUE_RESUMES_ON_RETRY = "resume_glue_job_on_retry" in inspect.signature(GlueJobOperator.__init__).parameters
#: Glue job run states from which a run can still succeed, or has (an earlier try's run is waited for, not repeated).
GLUE_LIVE_STATES = ("STARTING", "RUNNING", "WAITING", "SUCCEEDED")


def versions() -> str:
    """`Airflow x.y.z, Amazon provider a.b.c`: what an error should name when the DAGs fail on an environment."""
    return f"Airflow {version('apache-airflow')}, Amazon provider {version('apache-airflow-providers-amazon')}"


class PreprocessOperator(GlueJobOperator):
    """The provider's GlueJobOperator; a retry never starts a second Glue job run for the same DAG run.

    Providers 9.25.0 and 9.34.0 do it themselves (`resume_glue_job_on_retry`). Provider 9.12.0 (MWAA's Airflow 3.0.6)
    lacks that argument, so there a retry first looks for the run an earlier try started (same job, same
    `--output_uri`, which is unique to the DAG run) and, if it is still running, waits for it (deferred, with the
    provider's own trigger) instead of starting another; if it has succeeded, it is the result. The task log says
    which way it went. Needs `glue:GetJobRuns`, as the provider's own resume does.
    """

    def __init__(self, **kwargs: Any) -> None:
        if GLUE_RESUMES_ON_RETRY:
            kwargs["resume_glue_job_on_retry"] = True
        super().__init__(**kwargs)

    def execute(self, context: Any) -> str | None:
        if GLUE_RESUMES_ON_RETRY or context["ti"].try_number <= 1:
            return super().execute(context)
        output = (self.script_args or {}).get("--output_uri")
        earlier = self._earlier_run(output)
        if earlier is None:
            self.log.info("No Glue job run of an earlier try writes to %s: starting one (%s)", output, versions())
            return super().execute(context)
        run_id, state = earlier
        self.log.info(
            "Try %s: resuming Glue job run %s (%s) that an earlier try started for %s, instead of starting a second run "
            "(%s has no resume_glue_job_on_retry; this operator does it)",
            context["ti"].try_number,
            run_id,
            state,
            output,
            versions(),
        )
        self._job_run_id = run_id
        if state == "SUCCEEDED" or not self.wait_for_completion:
            return run_id
        if self.deferrable:
            from airflow.providers.amazon.aws.triggers.glue import GlueJobCompleteTrigger

            self.defer(
                trigger=GlueJobCompleteTrigger(
                    job_name=self.job_name,
                    run_id=run_id,
                    verbose=self.verbose,
                    aws_conn_id=self.aws_conn_id,
                    waiter_delay=self.waiter_delay,
                    waiter_max_attempts=self.waiter_max_attempts,
                    region_name=self.region_name,
                ),
                method_name="execute_complete",
            )
        self.hook.job_completion(self.job_name, run_id, self.verbose)
        return run_id

    def _earlier_run(self, output: str | None) -> tuple[str, str] | None:
        if not output:
            return None
        pages = self.hook.conn.get_paginator("get_job_runs").paginate(JobName=self.job_name)
        for page in pages:
            for run in page["JobRuns"]:  # newest first
                if (run.get("Arguments") or {}).get("--output_uri") == output and run["JobRunState"] in GLUE_LIVE_STATES:
                    return run["Id"], run["JobRunState"]
        return None
