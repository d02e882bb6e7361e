"""A real Airflow 3 for the DAG tests: its own AIRFLOW_HOME and SQLite database, and a DAG folder holding the
shipped DAG files (assets/dags) with the two pipeline configs of test/fixtures/pipelines.

The environment is set by airflow_home.py at import, because Airflow reads its configuration when it is first imported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Sets the environment when first imported (test/python/serverless/conftest.py imports it too: one per process).
from airflow_home import migrate
from in_process_api import backport

backport()  # one in-process Execution API for every task dag.test() runs, as Airflow 3.3 does (in_process_api.py)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrates the test database once; returns the DAG folder."""
    return migrate()


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    from dag_parsing import bundle_dag_bag, sync_to_db

    bag = bundle_dag_bag(airflow_db, airflow_db)  # as the DAG processor parses a bundle, and stores it
    sync_to_db(bag)
    return bag


def pytest_configure(config):
    # The Airflow version matrix (.projenrc.ts): the newest version (.venv) runs everything; each older one runs
    # `-m "not newest_only"`. Every run passes --strict-markers: a marker not registered here is an error.
    config.addinivalue_line("markers", "e2e: runs a DAG end to end in Airflow against the AWS stand-in")
    config.addinivalue_line("markers", "newest_only: needs the full tool venv (.venv), not an Airflow version's own")
