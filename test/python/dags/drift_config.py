"""A hand-written pipeline config with drift detection (what ModelWorkflow writes with `drift`): the churn fixture as
pipeline `watch`, real-time, automatic approval, with the contract's `drift` section (/work/drift-contract.md)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pipelines"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
SCRIPT = "s3://ml-data/artifacts/watch/code/drift/0123456789abcdef/drift_check.py"
DRIFT = {
    "capture_prefix": "capture/watch/",
    "sampling_percentage": 50,
    "image_uri": IMAGE,
    "script_uri": SCRIPT,
    "instance_type": "ml.m5.xlarge",
    "max_runtime_seconds": 1800,
    "baseline_sample_rows": 5000,
    "psi_threshold": 0.25,
    "ks_alpha": 0.01,
    "min_rows": 50,
    "cool_down_seconds": 86400,
    "metric_namespace": "CdkMwaaMlops/Drift/watch",
}


def watch_config(**drift) -> dict:
    document = json.loads((FIXTURES / "churn.json").read_text())
    document.update(pipeline_name="watch")
    document["preprocessing"]["glue_job_name"] = "watch-preprocess"
    document["training"].update(image_repository_name="watch-model", role_arn="arn:aws:iam::123456789012:role/watch-sagemaker")
    document["registry"]["model_package_group_name"] = "watch-models"
    document["deployment"].update(endpoint_name="watch", rollback_alarm_names=[])
    document["drift"] = {**copy.deepcopy(DRIFT), **drift}
    return document
