"""Evaluation entry point (`python -m model evaluate`), run as a SageMaker processing job.

Scores the trained model on the held-out test split and writes `evaluation.json` (the registry's
`ModelQuality.Statistics` shape), which the pipeline's quality gate reads and the model package links to.
"""

from __future__ import annotations

import argparse
import json
import tarfile
import tempfile
from pathlib import Path

import joblib

from model.data import read_split
from model.metrics import binary_classification_metrics
from model.train import MODEL_FILE


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Evaluate the trained model on the test split")
    parser.add_argument("--model-dir", default="/opt/ml/processing/model", help="holds model.tar.gz or model.joblib")
    parser.add_argument("--test-dir", default="/opt/ml/processing/test")
    parser.add_argument("--output-dir", default="/opt/ml/processing/evaluation")
    return parser.parse_args(argv)


def load_model(model_dir: Path):
    archive = model_dir / "model.tar.gz"
    if archive.exists():
        with tempfile.TemporaryDirectory() as unpacked, tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
            return joblib.load(Path(unpacked) / MODEL_FILE)
    return joblib.load(model_dir / MODEL_FILE)


def evaluate(args: argparse.Namespace) -> dict:
    model = load_model(Path(args.model_dir))
    features, labels = read_split(args.test_dir)
    report = binary_classification_metrics(labels, model.predict_proba(features)[:, 1])
    report["test_rows"] = len(labels)
    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    (output / "evaluation.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return report


def main(argv: list[str]) -> int:
    report = evaluate(parse_args(argv))
    print(json.dumps(report, sort_keys=True))
    return 0
