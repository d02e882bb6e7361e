"""DAG parse time: the shipped DAG file (two pipeline configs) against a trivial one-task DAG, in the same Airflow.

Airflow's DAG processor parses each file in a new child process, after importing (once, in the parent) the
`airflow` modules the file names (parsing_pre_import_modules). So three figures, each in a fresh interpreter:
- "per parse": after that pre-import, what each parse in MWAA costs;
- "cold": without it (the first parse, or parsing_pre_import_modules = False);
- "warm": a second parse in the same process.
Rounds alternate the two files; medians printed.

    .venv/bin/python test/bench/dag_parse_bench.py [rounds]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRIVIAL = """
from datetime import datetime
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("trivial", schedule=None, start_date=datetime(2025, 1, 1), catchup=False):
    EmptyOperator(task_id="only")
"""
CHILD = """
import sys, time, json
import structlog
from pathlib import Path
from airflow.dag_processing.dagbag import BundleDagBag
from airflow.dag_processing.processor import _pre_import_airflow_modules
path, pre_import = sys.argv[1], sys.argv[3] == "pre-import"
if pre_import:
    _pre_import_airflow_modules(path, structlog.get_logger())
timings = []
for _ in range(2):
    bag = BundleDagBag(dag_folder=sys.argv[2], bundle_path=Path(path).parent)  # as the DAG processor
    start = time.perf_counter()
    found = bag.process_file(path)
    timings.append(time.perf_counter() - start)
    assert found and not bag.import_errors, bag.import_errors
print(json.dumps({"first": timings[0], "warm": timings[1], "dags": len(found)}))
"""


def measure(python: str, path: Path, folder: Path, env: dict[str, str]) -> dict:
    def run(mode: str) -> dict:
        out = subprocess.run(
            [python, "-c", CHILD, str(path), str(folder / "empty"), mode], env=env, check=True, capture_output=True, text=True
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    pre, cold = run("pre-import"), run("cold")
    return {"per parse": pre["first"], "cold": cold["first"], "warm": cold["warm"], "dags": pre["dags"]}


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory() as home:
        folder = Path(home) / "dags"
        shutil.copytree(ROOT / "assets" / "dags", folder, ignore=shutil.ignore_patterns("__pycache__"))
        for config in (ROOT / "test" / "fixtures" / "pipelines").glob("*.json"):
            shutil.copy(config, folder / "cdk_mwaa_mlops_pipelines" / config.name)
        (folder / "trivial.py").write_text(TRIVIAL)
        (folder / "empty").mkdir()
        env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
        ours, trivial = [], []
        measure(sys.executable, folder / "trivial.py", folder, env)  # warm-up: disk cache, .pyc files
        for _ in range(rounds):
            ours.append(measure(sys.executable, folder / "cdk_mwaa_mlops_dags.py", folder, env))
            trivial.append(measure(sys.executable, folder / "trivial.py", folder, env))
    for kind in ("per parse", "cold", "warm"):
        a = statistics.median(r[kind] for r in ours)
        b = statistics.median(r[kind] for r in trivial)
        print(
            f"dag parse ({kind}): cdk_mwaa_mlops_dags.py {a * 1000:.1f} ms ({ours[0]['dags']} DAGs)"
            f" vs trivial one-task DAG {b * 1000:.1f} ms => {a / b:.1f}x (median of {rounds})"
        )


if __name__ == "__main__":
    main()
