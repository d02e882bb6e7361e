"""A real Airflow 3 for the DAG tests: its own AIRFLOW_HOME and SQLite database, and a DAG folder holding the
shipped DAG files (assets/dags) with the two pipeline configs of test/fixtures/pipelines.

The environment is set here, at import, because Airflow reads its configuration when it is first imported.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SHIPPED_DAGS = ROOT / "assets" / "dags"
PIPELINE_CONFIGS = ROOT / "test" / "fixtures" / "pipelines"
REGION = "eu-west-1"

AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="airflow-home-"))
atexit.register(shutil.rmtree, AIRFLOW_HOME, ignore_errors=True)
DAGS_FOLDER = AIRFLOW_HOME / "dags"
shutil.copytree(SHIPPED_DAGS, DAGS_FOLDER, ignore=shutil.ignore_patterns("__pycache__"))
for config in PIPELINE_CONFIGS.glob("*.json"):
    shutil.copy(config, DAGS_FOLDER / "cdk_mwaa_mlops_pipelines" / config.name)

os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_AWS_DEFAULT": f'{{"conn_type": "aws", "extra": {{"region_name": "{REGION}"}}}}',
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
)
os.environ.pop("AWS_PROFILE", None)
sys.path.insert(0, str(DAGS_FOLDER))


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrates the test database once; returns the DAG folder."""
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ.copy())
    return DAGS_FOLDER


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
