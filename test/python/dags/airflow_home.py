"""The test Airflow's home, set up once per process when first imported: its own AIRFLOW_HOME and SQLite database, and a
DAG folder holding the shipped DAG files (assets/dags) with the two pipeline configs of test/fixtures/pipelines.

The environment is set at import, because Airflow reads its configuration when it is first imported. The DAG tests'
conftest.py and test/python/serverless/conftest.py both import this module, so a session running both shares one.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

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

_migrated = False


def migrate() -> Path:
    """Migrates the test database (once per process); returns the DAG folder."""
    global _migrated
    if not _migrated:
        airflow = Path(sys.executable).parent / "airflow"
        subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ.copy())
        _migrated = True
    return DAGS_FOLDER
