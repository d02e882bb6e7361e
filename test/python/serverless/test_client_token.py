"""The training workflow starts a deployment with the ClientToken the trigger Lambda would give the registry's event
for the same package: the Python rule (naming.workflow_client_token) and the handler's (clientToken in
src/trigger/runtime/dag-run-request.ts) give the same token, and a long run id still fits StartWorkflowRun's limit."""

from __future__ import annotations

import json
import os
import subprocess

from cdk_mwaa_mlops.naming import CLIENT_TOKEN_MAX, model_package_run_id, workflow_client_token
from workflows import ROOT

SCRIPT = (
    "const { clientToken } = require('./src/trigger/runtime/dag-run-request');"
    "const ids = JSON.parse(process.argv[process.argv.length - 1]);"
    "console.log(JSON.stringify(ids.map(clientToken)));"
)


def test_the_training_workflow_and_the_trigger_derive_the_same_client_token():
    arn = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/{}/3"
    run_ids = [
        model_package_run_id(arn.format("churn-models"), "churn-models", 3, "Approved", 1764871200000),
        model_package_run_id(arn.format("g" * 63), "g" * 63, 12345, "Approved", 1764871200000),  # a long group: 130 characters
        "manual__2026-12-04T18:00:00+00:00",
    ]
    assert max(map(len, run_ids)) > CLIENT_TOKEN_MAX
    done = subprocess.run(
        ["npx", "ts-node", "--transpile-only", "-e", SCRIPT, json.dumps(run_ids)],
        cwd=ROOT,
        env={**os.environ, "TS_NODE_PROJECT": "tsconfig.dev.json"},
        check=True,
        capture_output=True,
        text=True,
    )
    tokens = [workflow_client_token(run_id) for run_id in run_ids]
    assert json.loads(done.stdout) == tokens
    assert all(0 < len(t) <= CLIENT_TOKEN_MAX and t.isascii() and " " not in t for t in tokens)
    assert tokens[0] == run_ids[0] and tokens[1] != run_ids[1]
