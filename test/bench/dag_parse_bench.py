"""DAG parse time of the shipped, config-driven DAG file, per DAG, against two baselines parsed in the same run:
- the fair one: the same DAGs written by hand in one file, with the same operators and arguments
  (handwritten_dags.py: the churn pipeline's two DAGs; the config-driven file gets churn.json alone, so both build
  the same two DAGs). Target: at most 1.2x.
- a trivial one-task DAG (how much any real DAG costs).
Run it with each Airflow version's venv (`npx projen bench` does): it prints the Airflow and provider versions.

Airflow's DAG processor parses each file in a new child process, after importing (once, in the parent) the
`airflow` modules the file names (parsing_pre_import_modules). So three figures, each in a fresh interpreter:
- "per parse": after that pre-import, what each parse in MWAA costs;
- "cold": without it (the first parse, or parsing_pre_import_modules = False);
- "warm": a second parse in the same process.
Rounds alternate the files; medians printed.

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
from airflow.dag_processing.processor import _pre_import_airflow_modules
path, pre_import = sys.argv[1], sys.argv[3] == "pre-import"
try:  # as the DAG processor parses a bundle's file (Airflow 3.0 has no BundleDagBag: see test/python/dags/dag_parsing.py)
    from airflow.dag_processing.dagbag import BundleDagBag
    def bag_of_bundle():
        return BundleDagBag(dag_folder=sys.argv[2], bundle_path=Path(path).parent)
except ImportError:
    from airflow.models.dagbag import DagBag
    sys.path.append(str(Path(path).parent))
    def bag_of_bundle():
        return DagBag(dag_folder=sys.argv[2], include_examples=False, bundle_path=Path(path).parent)
if pre_import:
    _pre_import_airflow_modules(path, structlog.get_logger())
timings = []
for _ in range(2):
    bag = bag_of_bundle()
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
    from importlib.metadata import version

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory() as home:
        folder = Path(home) / "dags"
        shutil.copytree(ROOT / "assets" / "dags", folder, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "test" / "fixtures" / "pipelines" / "churn.json", folder / "cdk_mwaa_mlops_pipelines" / "churn.json")
        shutil.copy(Path(__file__).parent / "handwritten_dags.py", folder / "handwritten_dags.py")
        (folder / "trivial.py").write_text(TRIVIAL)
        (folder / "empty").mkdir()
        env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
        files = {"config-driven": "cdk_mwaa_mlops_dags.py", "hand-written": "handwritten_dags.py", "trivial": "trivial.py"}
        results: dict[str, list[dict]] = {name: [] for name in files}
        measure(sys.executable, folder / "trivial.py", folder, env)  # warm-up: disk cache, .pyc files
        for _ in range(rounds):
            for name, file in files.items():
                results[name].append(measure(sys.executable, folder / file, folder, env))
    print(
        f"dag parse on Airflow {version('apache-airflow')}, Amazon provider {version('apache-airflow-providers-amazon')}"
        f" (median of {rounds} rounds; per DAG)"
    )
    for kind in ("per parse", "cold", "warm"):
        per_dag = {name: statistics.median(r[kind] / r["dags"] for r in runs) for name, runs in results.items()}
        ours, fair, trivial = per_dag["config-driven"], per_dag["hand-written"], per_dag["trivial"]
        print(
            f"  {kind:9}: config-driven {ours * 1000:.1f} ms/DAG vs hand-written {fair * 1000:.1f} ms/DAG => {ours / fair:.2f}x"
            f" (target <= 1.2x); vs a trivial one-task DAG {trivial * 1000:.1f} ms => {ours / trivial:.1f}x"
        )


if __name__ == "__main__":
    main()
