"""A hand-written pipeline config with stages (what ModelWorkflow writes for a pipeline with `stages`): `dev` in the
pipeline's account (serverless, automatic gate), `prod` in a second account (real-time)."""

from __future__ import annotations

import copy

from test_config import MINIMAL

PIPELINE_ACCOUNT = "123456789012"
STAGE_ACCOUNT = "210987654321"
REGION = "eu-west-1"


def stage(name: str, account: str, deployment: dict, gate: str | None = None, **checks) -> dict:
    section = {
        "name": name,
        "account": account,
        "region": REGION,
        "role_arn": f"arn:aws:iam::{account}:role/mlops-demo--{name}-deploy",
        "model_role_arn": f"arn:aws:iam::{account}:role/mlops-demo--{name}-model",
        "kms_key_id": f"arn:aws:kms:{REGION}:{account}:alias/mlops-demo--{name}",
        "checks": {"sample_rows": 5, "max_error_rate": 0, "max_latency_ms": 1000, **checks},
        "deployment": deployment,
    }
    if gate:
        section["gate"] = gate
    return section


DEV = stage(
    "dev",
    PIPELINE_ACCOUNT,
    {"mode": "serverless", "endpoint_name": "demo--dev", "serverless_memory_mb": 2048, "serverless_max_concurrency": 5},
    gate="automatic",
)
PROD = stage(
    "prod",
    STAGE_ACCOUNT,
    {
        "mode": "real_time",
        "endpoint_name": "demo--prod",
        "instance_type": "ml.m5.large",
        "initial_instance_count": 1,
        "termination_wait_seconds": 0,
        "traffic_shifting": {"type": "ALL_AT_ONCE", "wait_seconds": 0},
        "rollback_alarm_names": ["demo--prod-invocation-5xx", "demo--prod-model-latency"],
    },
)


def staged(*stages: dict) -> dict:
    document = copy.deepcopy(MINIMAL)
    del document["deployment"]
    document["stages"] = copy.deepcopy(list(stages or (DEV, PROD)))
    return document
