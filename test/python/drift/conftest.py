"""The drift check module, imported from assets/drift/ as the processing job runs it, and synthetic data."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "assets" / "drift" / "drift_check.py"
FEATURES = ["x1", "x2", "x3", "x4", "x5"]


def load_drift_check():
    spec = importlib.util.spec_from_file_location("drift_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["drift_check"] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def drift_check():
    return load_drift_check()


def sample(rows: int, seed: int, shift: dict[str, float] | None = None) -> np.ndarray:
    """Rows of five features with different shapes: normal, wide normal, skewed, bounded and discrete (ties).
    `shift` adds a constant to the named features."""
    rng = np.random.default_rng(seed)
    data = np.column_stack(
        [
            rng.normal(0.0, 1.0, rows),
            rng.normal(50.0, 10.0, rows),
            rng.exponential(1.0, rows),
            rng.uniform(0.0, 1.0, rows),
            rng.poisson(3.0, rows).astype(float),
        ]
    )
    for name, delta in (shift or {}).items():
        data[:, FEATURES.index(name)] += delta
    return np.round(data, 6)
