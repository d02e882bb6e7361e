"""Names and ids the DAGs derive from a run."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cdk_mwaa_mlops.config import SAGEMAKER_NAME
from cdk_mwaa_mlops.naming import client_token, model_package_run_id, resource_name, run_key, state_change_millis

SHARED = Path(__file__).resolve().parents[2] / "fixtures" / "model-package-run-ids.json"


def _described(case: dict) -> dict:
    """What DescribeModelPackage (boto3: datetimes) answers for the package and state change of a case."""
    times = {"CreationTime": case.get("creationTime"), "LastModifiedTime": case.get("lastModifiedTime")}
    return {name: datetime.fromtimestamp(ms / 1000, tz=UTC) for name, ms in times.items() if ms is not None}


def test_the_deployment_run_id_is_the_one_the_trigger_lambda_gives_the_same_approval():
    # The same cases test/trigger/model-package-run-id.test.ts checks against the TypeScript runId().
    cases = json.loads(SHARED.read_text())
    assert len(cases) >= 6
    for case in cases:
        changed = state_change_millis(_described(case))
        assert changed == case.get("lastModifiedTime", case.get("creationTime"))
        run_id = model_package_run_id(
            case["arn"], case["group"], case.get("version"), case["status"], changed, case.get("stage"), case.get("stageStatus")
        )
        assert run_id == case["runId"]


def test_a_lifecycle_change_is_its_own_run_and_the_approval_run_id_stays():
    cases = json.loads(SHARED.read_text())
    staged = [c for c in cases if "stage" in c]
    assert len(staged) >= 4 and any(c["stageStatus"] != "Approved" for c in staged)
    for case in staged:
        args = (case["arn"], case["group"], case.get("version"), case["status"], case.get("lastModifiedTime"))
        assert model_package_run_id(*args) != case["runId"] == model_package_run_id(*args, case["stage"], case["stageStatus"])
    assert len({c["runId"] for c in cases}) == len(cases)


def test_a_stage_needs_its_status():
    arn = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn-models/3"
    with pytest.raises(ValueError, match="stage and stage_status"):
        model_package_run_id(arn, "churn-models", 3, "Approved", 1, "prod")
    with pytest.raises(ValueError, match="stage and stage_status"):
        model_package_run_id(arn, "churn-models", 3, "Approved", 1, stage_status="Approved")


def test_approving_a_package_again_is_a_new_deployment_run():
    cases = [
        c
        for c in json.loads(SHARED.read_text())
        if c["arn"].endswith("churn-models/3") and "lastModifiedTime" in c and "stage" not in c
    ]
    assert len(cases) >= 2
    ids = {
        model_package_run_id(c["arn"], c["group"], c["version"], c["status"], state_change_millis(_described(c))) for c in cases
    }
    assert len(ids) == len(cases)


def test_names_are_sagemaker_names_and_differ_per_run():
    keys = {run_key("churn_training", f"manual__2026-11-21T10:00:0{i}+00:00") for i in range(10)}
    assert len(keys) == 10
    for key in keys:
        name = resource_name("a" * 24, "config", key) + "-t10"
        assert SAGEMAKER_NAME.fullmatch(name) and len(name) <= 63


def test_client_tokens_fit_sagemaker_and_are_stable_per_run_and_purpose():
    token = client_token("d", "r", "register")
    assert re.fullmatch(r"[a-zA-Z0-9-]{1,36}", token)
    assert token == client_token("d", "r", "register") != client_token("d", "r2", "register")
