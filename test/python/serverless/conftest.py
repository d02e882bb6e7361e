"""The MWAA Serverless workflow definitions in a real Airflow 3: the DAG tests' Airflow home (test/python/dags), and
dag-factory as the service loads definitions, with the code package on `sys.path` as the service extracts it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

DAG_TESTS = Path(__file__).resolve().parents[1] / "dags"
if str(DAG_TESTS) not in sys.path:
    sys.path.insert(0, str(DAG_TESTS))
# dag-factory sends usage telemetry unless told not to (dagfactory/settings.py, read when it is first imported).
os.environ.update({"DO_NOT_TRACK": "1", "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False"})

from airflow_home import migrate  # noqa: E402  (sets up the test Airflow's environment, once per process)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    return migrate()


def pytest_configure(config):
    # As test/python/dags/conftest.py registers them (this folder may run alone; --strict-markers).
    config.addinivalue_line("markers", "e2e: runs a DAG end to end in Airflow against the AWS stand-in")
    config.addinivalue_line("markers", "newest_only: needs the full tool venv (.venv), not an Airflow version's own")
