"""How fast the drift check reads SageMaker capture files, against reading the same files with plain `json.loads`.

For each size (default 10^4, 10^5 and 5*10^5 records of one row of 30 features, the starter model's width, a third
each captured as CSV, JSON and BASE64, in the hourly key layout) it writes the capture files, then measures in the
same run, on the same files (warm page cache for both, best of --repeat):
  - json: each line through `json.loads`, nothing else (the floor for any reader of JSON Lines);
  - read: `read_capture` (the JSON, the time filter, decoding, the rows as floats);
  - stats: `check_drift` on what `read` returned (PSI and KS for 30 features against a 10,000-row baseline).
It prints records/s for each and the read/json ratio: how much the check adds to the unavoidable parsing.

    .venv/bin/python test/bench/drift_check_bench.py [records ...] [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "assets" / "drift" / "drift_check.py"
sys.path.insert(0, str(ROOT / "test" / "python" / "drift"))
from capture_format import ENCODINGS, Invocation, write_capture  # noqa: E402

SIZES = (10_000, 100_000, 500_000)
WIDTH = 30
FEATURES = [f"f{i}" for i in range(1, WIDTH + 1)]
SINCE = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def load_drift_check():
    spec = importlib.util.spec_from_file_location("drift_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["drift_check"] = module
    spec.loader.exec_module(module)
    return module


def generate(root: Path, records: int, seed: int) -> int:
    """`records` invocations, 10% of them from before SINCE; returns the bytes written."""
    rng = np.random.default_rng(seed)
    chunk = 50_000
    for start in range(0, records, chunk):
        n = min(chunk, records - start)
        rows = np.round(rng.normal(10, 3, size=(n, WIDTH)), 4).tolist()
        invocations = [
            Invocation(
                rows=[row],
                at=SINCE + timedelta(seconds=(start + i) - records // 10),
                encoding=ENCODINGS[(start + i) % 3],
            )
            for i, row in enumerate(rows)
        ]
        write_capture(root, invocations, FEATURES, per_file=1000)
    return sum(path.stat().st_size for path in root.rglob("*.jsonl"))


def plain_json(root: Path) -> int:
    count = 0
    for path in sorted(root.rglob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                json.loads(line)
                count += 1
    return count


def best(repeat: int, run):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("records", nargs="*", type=int, default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    drift_check = load_drift_check()
    baseline = drift_check.Baseline(FEATURES, np.random.default_rng(1).normal(10, 3, size=(10_000, WIDTH)))
    print(f"drift check: reading capture files vs plain json.loads on the same files, {WIDTH} features, best of {args.repeat}")
    print(f"{'records':>10} {'MB':>7} {'json rec/s':>11} {'read rec/s':>11} {'read/json':>9} {'stats s':>8}  used/before")
    for records in args.records:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            size = generate(root, records, seed=records)
            json_seconds, counted = best(args.repeat, lambda root=root: plain_json(root))
            read_seconds, capture = best(args.repeat, lambda root=root: drift_check.read_capture(root, FEATURES, SINCE))
            stats_seconds, report = best(1, lambda capture=capture: drift_check.check_drift(baseline, capture, since=SINCE))
            assert counted == records == capture.records_read and capture.records_malformed == 0
            print(
                f"{records:>10,} {size / 1e6:>7.1f} {records / json_seconds:>11,.0f} {records / read_seconds:>11,.0f} "
                f"{read_seconds / json_seconds:>9.2f} {stats_seconds:>8.2f}  "
                f"{report['records']['used']:,}/{report['records']['before_since']:,}"
            )


if __name__ == "__main__":
    main()
