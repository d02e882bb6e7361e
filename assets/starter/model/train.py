"""SageMaker training entry point (`python -m model train`).

Reads the `train` and `validation` channels, fits the model, writes `model.joblib` to the model directory
(SageMaker packs it into model.tar.gz) and prints the validation metrics as `validation:<name>=<value>;`
lines, which the training job's metric definitions pick up.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import joblib
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from model.data import read_split
from model.metrics import binary_classification_metrics

MODEL_FILE = "model.joblib"
DEFAULT_HYPERPARAMETERS = {"C": 1.0, "max_iter": 1000}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train the starter model")
    parser.add_argument("--train-dir", default="/opt/ml/input/data/train")
    parser.add_argument("--validation-dir", default="/opt/ml/input/data/validation")
    parser.add_argument("--model-dir", default="/opt/ml/model")
    parser.add_argument("--hyperparameters", default="/opt/ml/input/config/hyperparameters.json")
    return parser.parse_args(argv)


def load_hyperparameters(path: str) -> dict:
    """SageMaker passes every hyperparameter as a string; unknown names are an error, not a silent no-op."""
    values = dict(DEFAULT_HYPERPARAMETERS)
    file = Path(path)
    given = json.loads(file.read_text()) if file.exists() else {}
    unknown = sorted(set(given) - set(DEFAULT_HYPERPARAMETERS))
    if unknown:
        raise ValueError(f"unknown hyperparameters {unknown}; known: {sorted(DEFAULT_HYPERPARAMETERS)}")
    for name, value in given.items():
        values[name] = type(DEFAULT_HYPERPARAMETERS[name])(float(value))
    return values


def train(args: argparse.Namespace) -> dict:
    hyperparameters = load_hyperparameters(args.hyperparameters)
    features, labels = read_split(args.train_dir)
    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=hyperparameters["C"], max_iter=hyperparameters["max_iter"]),
    )
    model.fit(features, labels)
    model_dir = Path(args.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_dir / MODEL_FILE)

    validation_features, validation_labels = read_split(args.validation_dir)
    metrics = binary_classification_metrics(validation_labels, model.predict_proba(validation_features)[:, 1])
    for line in metric_lines(metrics):
        print(line)
    return metrics


def metric_lines(metrics: dict) -> list[str]:
    """`validation:<name>=<value>;`: what the training job's metric definitions (in the DAG) pick up from the log."""
    return [f"validation:{name}={entry['value']:.6f};" for name, entry in metrics["binary_classification_metrics"].items()]


def main(argv: list[str]) -> int:
    train(parse_args(argv))
    return 0
