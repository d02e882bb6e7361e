"""`dag.test()` on Airflow 3.0 and 3.2 builds a new in-process Execution API (a FastAPI app with Cadwyn's versioned
routes, and an event loop thread) for every task it runs: about 3 s of CPU per task here, most of an older version's
DAG test time. Airflow 3.3 reuses one (apache/airflow#65235: `in_process_api_server` behind `lru_cache(maxsize=1)`,
and the DAG bag override dropped when a client is made without a DAG). `backport()` does the same on the versions
that lack it; the tasks still run through that API exactly as before, only the app is made once per process.

A bridge, as small as the upstream change: it touches the test harness (`dag.test()`), never the DAGs under test.
"""

from __future__ import annotations

import functools


def backport() -> bool:
    """Reuses the in-process Execution API where Airflow does not already; returns whether it had to."""
    from airflow.sdk.execution_time import supervisor

    if hasattr(supervisor.in_process_api_server, "cache_clear"):
        return False
    supervisor.in_process_api_server = functools.lru_cache(maxsize=1)(supervisor.in_process_api_server)
    make_client = supervisor.InProcessTestSupervisor._api_client

    def api_client(dag=None):
        if dag is None:
            from airflow.api_fastapi.common.dagbag import dag_bag_from_app

            supervisor.in_process_api_server().app.dependency_overrides.pop(dag_bag_from_app, None)
        return make_client(dag)

    supervisor.InProcessTestSupervisor._api_client = staticmethod(api_client)
    return True
