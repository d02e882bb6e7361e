"""Writes the sample raw data: the Wisconsin breast cancer dataset that scikit-learn ships, as the CSV a
source system would drop into the raw-data bucket. Deterministic (same bytes every run), no download.

    python data/make_sample_data.py data/raw/breast_cancer.csv
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from sklearn.datasets import load_breast_cancer

ID_COLUMN = "record_id"
LABEL_COLUMN = "diagnosis"


def column_name(feature: str) -> str:
    return feature.strip().replace(" ", "_")


def write_sample(path: Path) -> int:
    """Writes the CSV and returns the number of data rows."""
    dataset = load_breast_cancer()
    features = [column_name(name) for name in dataset.feature_names]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([ID_COLUMN, *features, LABEL_COLUMN])
        for index, (row, target) in enumerate(zip(dataset.data, dataset.target, strict=True)):
            writer.writerow([f"r{index:05d}", *(repr(float(value)) for value in row), dataset.target_names[target]])
    return len(dataset.data)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "data/raw/breast_cancer.csv")
    print(f"wrote {write_sample(target)} rows to {target}")
