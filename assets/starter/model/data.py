"""Reads the preprocessing output: headerless CSV files, label first, then the features."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def read_split(directory: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Returns (features, labels) from every CSV file in `directory` (Spark writes several part files)."""
    files = sorted(p for p in Path(directory).rglob("*.csv") if p.stat().st_size > 0)
    if not files:
        raise FileNotFoundError(f"{directory}: no non-empty .csv files")
    data = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    return data[:, 1:], data[:, 0].astype(int)
