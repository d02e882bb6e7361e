"""The trigger handler's requests, checked by botocore, which no one here wrote.

test/trigger/capture-signed-requests.ts sends sample events through the handler (src/trigger) to local stand-ins and
prints each request as it arrived. Here:
- every StartWorkflowRun request is held against botocore's own `mwaa-serverless` service model: the operation's
  target header and JSON 1.0 content type, the input validated by botocore's ParamValidator, the members' patterns and
  lengths (the validator checks only minimums), and the body botocore's JSON serializer makes of the same parameters;
- every signature (StartWorkflowRun and InvokeRestApi, one signing core) is recomputed by botocore's SigV4Auth for the
  same request, time and credentials, and must be the same.
"""

import datetime
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path
from unittest import mock

import botocore.auth
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.serialize import create_serializer
from botocore.validate import ParamValidator

ROOT = Path(__file__).resolve().parents[2]
CAPTURE = ROOT / "test" / "trigger" / "capture-signed-requests.ts"


@pytest.fixture(scope="module")
def captured() -> dict:
    done = subprocess.run(
        ["npx", "ts-node", "--transpile-only", str(CAPTURE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "TS_NODE_PROJECT": "tsconfig.dev.json"},
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def operation():
    return botocore.session.get_session().get_service_model("mwaa-serverless").operation_model("StartWorkflowRun")


def test_every_input_started_a_run(captured):
    assert [r["outcome"] for r in captured["results"]] == ["triggered"] * 8
    assert len(captured["startWorkflowRun"]) == 7
    assert len(captured["invokeRestApi"]) == 1


def test_start_workflow_run_matches_the_service_model(captured, operation):
    metadata = operation.service_model.metadata
    assert metadata["protocol"] == "json"
    assert metadata["signingName"] == "airflow-serverless"
    for request in captured["startWorkflowRun"]:
        headers = request["headers"]
        assert request["method"] == operation.http["method"] == "POST"
        assert request["path"] == operation.http["requestUri"] == "/"
        assert headers["x-amz-target"] == f"{metadata['targetPrefix']}.{operation.name}"
        assert headers["content-type"] == f"application/x-amz-json-{metadata['jsonVersion']}"
        assert f"/{request['region']}/{metadata['signingName']}/aws4_request" in headers["authorization"]

        params = json.loads(request["body"])
        report = ParamValidator().validate(params, operation.input_shape)
        assert not report.has_errors(), report.generate_report()
        # The validator checks types, required members and minimums; patterns and maximums are checked here.
        members = operation.input_shape.members
        assert set(params) <= set(members)
        for name, value in params.items():
            shape = members[name]
            if shape.type_name == "string":
                assert len(value) <= shape.metadata.get("max", len(value)), name
                assert re.fullmatch(shape.metadata.get("pattern", ".*"), value), (name, value)
        assert members["ClientToken"].metadata["idempotencyToken"] is True
        assert members["OverrideParameters"].type_name == "map"
        assert members["OverrideParameters"].value.metadata.get("document") is True
        assert isinstance(params["OverrideParameters"], dict) and params["OverrideParameters"]["trigger_conf_version"] == 1

        # botocore's serializer makes the same body and protocol headers of the same parameters.
        serialized = create_serializer("json").serialize_to_request(params, operation)
        assert json.loads(serialized["body"]) == params
        assert serialized["headers"]["X-Amz-Target"] == headers["x-amz-target"]
        assert serialized["headers"]["Content-Type"] == headers["content-type"]


def test_client_tokens_are_deterministic_and_within_128(captured):
    tokens = [json.loads(r["body"])["ClientToken"] for r in captured["startWorkflowRun"]]
    assert len(set(tokens)) == len(tokens)
    assert max(len(t) for t in tokens) == 128  # the long model package run id was shortened, not cut off


def botocore_authorization(request: dict, credentials: dict) -> str:
    """The Authorization header botocore's SigV4Auth computes for the request's signed headers, time and body."""
    headers = request["headers"]
    signed = re.search(r"SignedHeaders=([^,]+)", headers["authorization"]).group(1).split(";")
    # The header names the request signed (botocore signs every header it is given, unlike node's connection header).
    given = {name: headers[name] for name in signed if name not in ("x-amz-date", "x-amz-security-token")}
    # botocore takes a given x-amz-content-sha256 as the payload's hash: give it the hash of the body as received.
    body = request["body"].encode()
    if "x-amz-content-sha256" in given:
        given["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    aws_request = AWSRequest(method=request["method"], url=f"http://{headers['host']}{request['path']}", headers=given, data=body)
    when = datetime.datetime.strptime(headers["x-amz-date"], "%Y%m%dT%H%M%SZ")
    auth = botocore.auth.SigV4Auth(
        Credentials(credentials["accessKeyId"], credentials["secretAccessKey"], credentials["sessionToken"]),
        request["service"],
        request["region"],
    )
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        auth.add_auth(aws_request)
    assert aws_request.headers["X-Amz-Date"] == headers["x-amz-date"]
    assert aws_request.headers["X-Amz-Security-Token"] == headers["x-amz-security-token"]
    return aws_request.headers["Authorization"]


@pytest.mark.parametrize("operation_name", ["startWorkflowRun", "invokeRestApi"])
def test_signatures_are_the_ones_botocore_computes(captured, operation_name):
    for request in captured[operation_name]:
        assert request["headers"]["authorization"] == botocore_authorization(request, captured["credentials"])


def test_a_tampered_request_does_not_verify(captured):
    request = dict(captured["startWorkflowRun"][0])
    request["body"] = request["body"].replace('"trigger_conf_version":1', '"trigger_conf_version":2')
    assert request["body"] != captured["startWorkflowRun"][0]["body"]
    assert request["headers"]["authorization"] != botocore_authorization(request, captured["credentials"])
