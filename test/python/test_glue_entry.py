"""The Glue job's script runs the staged `preprocess` module from the Python path, as Glue does with
`--extra-py-files`, passing the job arguments through (Glue's own extra arguments included)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STARTER = ROOT / "assets" / "starter"


def test_the_glue_script_runs_the_preprocessing_module_it_finds_on_the_python_path(tmp_path):
    sys.path.insert(0, str(STARTER / "data"))
    try:
        from make_sample_data import write_sample
    finally:
        sys.path.pop(0)
    raw = tmp_path / "raw.csv"
    rows = write_sample(raw)
    env = {**os.environ, "PYTHONPATH": str(STARTER / "preprocessing")}  # what --extra-py-files does on Glue
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "assets" / "glue" / "run_preprocessing.py"),
            "--JOB_NAME",
            "churn-preprocess",
            "--input_uri",
            str(raw),
            "--output_uri",
            str(tmp_path / "out"),
            "--TempDir",
            "s3://glue-temp/",
            "--seed",
            "7",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"'rows_read': {rows}" in result.stdout
    for split in ("train", "validation", "test", "rejected", "summary"):
        assert (tmp_path / "out" / split / "_SUCCESS").exists(), split
