"""How the Glue preprocessing script scales: local PySpark against a single-process pandas implementation of the
same transformation (the approach of the reference sample), on the same generated data, in the same run.

For each size (default 10^5, 10^6 and 10^7 rows) it writes a CSV of the starter's schema (record_id, the 30
features, diagnosis; generated deterministically from a seed, with ~1% bad rows and ~0.5% repeated ids, so every
reject path runs), then runs each engine in a fresh process and reports rows/s (transformation only: reading,
checks, de-duplication, split and the writes; Spark's JVM start is reported apart), the peak resident memory of
the engine's processes (Spark: the Python driver and the JVM together, sampled), and the Spark/pandas ratio.
Both must agree on rows read and rejected (the split hashes differ: Spark's xxhash64, pandas' own seeded hash, so
per-split counts differ by sampling noise only). Spark runs with `local[2]` and a 2 GB heap, as small as a Glue
worker's share, so its memory stays bounded where pandas' grows with the data.

    .venv/bin/python test/bench/glue_scaling_bench.py [rows ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT_DIR = ROOT / "assets" / "starter" / "preprocessing"
SIZES = (100_000, 1_000_000, 10_000_000)
SEED = 7


def generate(path: Path, rows: int) -> None:
    """The starter's schema with deterministic values, written in chunks (10^7 rows never sit in memory at once)."""
    import numpy as np

    sys.path.insert(0, str(SCRIPT_DIR))
    from preprocess import EXPECTED_COLUMNS, FEATURES

    rng = np.random.default_rng(SEED)
    chunk = 250_000
    with path.open("w") as out:
        out.write(",".join(EXPECTED_COLUMNS) + "\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            ids = np.arange(start, start + n)
            repeated = rng.random(n) < 0.005
            ids[repeated] = rng.integers(0, start + n, repeated.sum())  # an id seen before (or later)
            values = rng.normal(10, 3, size=(n, len(FEATURES)))
            labels = np.where(rng.random(n) < 0.37, "malignant", "benign").astype(object)
            bad = rng.random(n)
            labels[bad < 0.004] = "unknown"  # not a known diagnosis
            cells = np.char.mod("%.4f", values).astype(object)
            cells[(bad >= 0.004) & (bad < 0.007), 3] = ""  # a missing feature
            cells[(bad >= 0.007) & (bad < 0.010), 5] = "n/a"  # a value of the wrong type (malformed row)
            lines = [
                f"r{i}," + ",".join(row) + f",{label}\n"
                for i, row, label in zip(ids.tolist(), cells.tolist(), labels.tolist(), strict=True)
            ]
            out.writelines(lines)


CHILD = r"""
import argparse, json, os, sys, threading, time
import psutil

engine, input_uri, output_uri = sys.argv[1:4]
sys.path[:0] = sys.argv[4].split(os.pathsep)
peak = [0]
def sample():
    me = psutil.Process()
    while True:
        try:
            rss = me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))
        except psutil.Error:
            continue
        peak[0] = max(peak[0], rss)
        time.sleep(0.1)
threading.Thread(target=sample, daemon=True).start()
args = argparse.Namespace(input_uri=input_uri, output_uri=output_uri, seed=42, train_fraction=0.7, validation_fraction=0.15)
if engine == "spark":
    from pyspark.sql import SparkSession
    from preprocess import preprocess
    start = time.perf_counter()
    spark = (SparkSession.builder.master("local[2]").appName("bench").config("spark.driver.memory", "2g")
             .config("spark.sql.shuffle.partitions", "8").config("spark.ui.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    started = time.perf_counter() - start
    start = time.perf_counter()
    counts = preprocess(spark, args)
    seconds = time.perf_counter() - start
    time.sleep(0.3)
    spark.stop()
else:
    from pandas_preprocess import preprocess
    started = 0.0
    start = time.perf_counter()
    counts = preprocess(args)
    seconds = time.perf_counter() - start
    time.sleep(0.3)
print(json.dumps({"seconds": seconds, "startup": started, "peak_bytes": peak[0], "counts": counts}))
"""


def run(engine: str, input_path: Path, output: Path) -> dict:
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            engine,
            str(input_path),
            str(output),
            str(SCRIPT_DIR) + os.pathsep + str(Path(__file__).parent),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise RuntimeError(f"{engine} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    sizes = [int(float(a)) for a in sys.argv[1:]] or list(SIZES)
    print("glue preprocessing scaling: local PySpark (local[2], 2 GB heap) vs single-process pandas, same data, same run")
    crossover = None
    with tempfile.TemporaryDirectory() as work:
        for rows in sizes:
            data = Path(work) / f"raw-{rows}.csv"
            start = time.perf_counter()
            generate(data, rows)
            generated = time.perf_counter() - start
            pandas = run("pandas", data, Path(work) / f"pandas-{rows}")
            spark = run("spark", data, Path(work) / f"spark-{rows}")
            for key in ("rows_read", "rejected"):
                if pandas["counts"][key] != spark["counts"][key]:
                    raise AssertionError(f"{rows} rows: {key} differs: pandas {pandas['counts']} vs spark {spark['counts']}")
            p_rate, s_rate = rows / pandas["seconds"], rows / spark["seconds"]
            if crossover is None and s_rate > p_rate:
                crossover = rows
            print(
                f"  {rows:>10,} rows ({data.stat().st_size / 1e6:,.0f} MB CSV, generated in {generated:.0f} s;"
                f" {spark['counts']['rejected']:,} rejected):"
                f" pandas {p_rate:>9,.0f} rows/s, peak {pandas['peak_bytes'] / 2**20:,.0f} MiB |"
                f" spark {s_rate:>9,.0f} rows/s (+{spark['startup']:.1f} s JVM start),"
                f" peak {spark['peak_bytes'] / 2**20:,.0f} MiB"
                f" => spark/pandas {s_rate / p_rate:.2f}x throughput, {spark['peak_bytes'] / pandas['peak_bytes']:.2f}x memory"
            )
            data.unlink()
    print(f"  spark overtakes pandas at: {f'{crossover:,} rows' if crossover else 'not within the sizes measured'}")


if __name__ == "__main__":
    main()
