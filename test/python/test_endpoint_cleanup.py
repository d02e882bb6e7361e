"""The endpoint clean-up custom resource (assets/cleanup/endpoint_cleanup.py), run the way Lambda and CloudFormation run it.

The module is imported from assets/cleanup/ as Lambda imports it (`endpoint_cleanup.handler`) and called with
CloudFormation's documented request (RequestType, ResponseURL, StackId, RequestId, LogicalResourceId,
ResourceProperties as ModelWorkflow sets them) and a Lambda context whose `get_remaining_time_in_millis` counts down.
Its boto3 talks to a moto server on 127.0.0.1 (through AWS_ENDPOINT_URL, with dummy credentials), and its answer goes
to a local HTTP server standing in for CloudFormation's pre-signed S3 URL, which records the PUT.

moto 5.2.5 creates endpoints InService at once and deletes them in any status. SageMaker does neither: an endpoint
is Creating (or Updating) for minutes and DeleteEndpoint refuses it meanwhile. The stand-in below adds that: a test
scripts the statuses successive DescribeEndpoint calls report, and DeleteEndpoint refuses a busy endpoint as SageMaker
does. It also records the SageMaker calls and can deny one with AccessDeniedException, as IAM would.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.core.exceptions import JsonRESTError
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import SageMakerResponse
from moto.server import ThreadedMotoServer

HANDLER = pathlib.Path(__file__).resolve().parents[2] / "assets" / "cleanup" / "endpoint_cleanup.py"
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/churn-sagemaker"
#: statuses in which SageMaker refuses DeleteEndpoint
BUSY = {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"}
#: the SageMaker actions the handler may call, each wrapped by the stand-in
ACTIONS = {
    "DescribeEndpoint": "describe_endpoint",
    "DeleteEndpoint": "delete_endpoint",
    "ListEndpointConfigs": "list_endpoint_configs",
    "DeleteEndpointConfig": "delete_endpoint_config",
    "ListModels": "list_models",
    "DeleteModel": "delete_model",
}


def load_handler():
    """A fresh copy of the handler module, imported from its file as Lambda imports it."""
    spec = importlib.util.spec_from_file_location("endpoint_cleanup", HANDLER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class SageMakerStandIn:
    endpoint_url: str = ""
    #: the SageMaker actions called, in order
    calls: list[str] = field(default_factory=list)
    #: per endpoint, the statuses successive DescribeEndpoint calls report (the last one repeats)
    statuses: dict[str, list[str]] = field(default_factory=dict)
    #: actions answered with AccessDeniedException
    denied: set[str] = field(default_factory=set)
    #: seconds DescribeEndpoint takes to answer (a SageMaker API that hangs)
    describe_delay: float = 0.0

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST"), timeout=10)
        self.calls.clear()
        self.statuses.clear()
        self.denied.clear()
        self.describe_delay = 0.0

    def wrap(self, action: str, original: Callable) -> Callable:
        stand_in = self

        def call(response: SageMakerResponse):
            stand_in.calls.append(action)
            if action in stand_in.denied:
                raise JsonRESTError(
                    "AccessDeniedException",
                    f"User: arn:aws:sts::{ACCOUNT}:assumed-role/cleanup/fn is not authorized to perform: sagemaker:{action}",
                )
            name = response._get_param("EndpointName")
            endpoint = response.sagemaker_backend.endpoints.get(name) if name else None
            if action == "DescribeEndpoint":
                time.sleep(stand_in.describe_delay)
                script = stand_in.statuses.get(name)
                if endpoint and script:
                    endpoint.endpoint_status = script.pop(0) if len(script) > 1 else script[0]
            if action == "DeleteEndpoint" and endpoint and endpoint.endpoint_status in BUSY:
                raise ValidationError(message=f'Cannot delete in-progress endpoint "{endpoint.arn}".')
            return original(response)

        return call


@pytest.fixture(scope="module")
def sagemaker() -> Iterator[SageMakerStandIn]:
    stand_in = SageMakerStandIn()
    originals = {method: getattr(SageMakerResponse, method) for method in ACTIONS.values()}
    for action, method in ACTIONS.items():
        setattr(SageMakerResponse, method, stand_in.wrap(action, originals[method]))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    stand_in.endpoint_url = f"http://{host}:{port}"
    try:
        yield stand_in
    finally:
        server.stop()
        for method, original in originals.items():
            setattr(SageMakerResponse, method, original)


@dataclass
class CloudFormation:
    """The pre-signed response URL: records each PUT (path, headers, JSON body, when it arrived)."""

    url: str
    responses: list[dict[str, Any]] = field(default_factory=list)

    def response(self) -> dict[str, Any]:
        assert len(self.responses) == 1, self.responses
        return self.responses[0]["body"]


@pytest.fixture
def cloudformation() -> Iterator[CloudFormation]:
    class Receiver(BaseHTTPRequestHandler):
        def do_PUT(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.responses.append(
                {"path": self.path, "headers": dict(self.headers), "body": json.loads(body), "at": time.monotonic()}
            )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    received = CloudFormation(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def aws(sagemaker: SageMakerStandIn, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> SageMakerStandIn:
    """The Lambda environment: region, dummy credentials, boto3 pointed at the moto server; moto emptied."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", sagemaker.endpoint_url)
    monkeypatch.setenv("POLL_SECONDS", "0.05")
    sagemaker.reset()
    return sagemaker


class LambdaContext:
    """What the handler uses of Lambda's context: the time left before Lambda stops the invocation."""

    function_name = "IntegModelWorkflow-ChurnEndpointCleanupFunction"
    aws_request_id = "5f7ab1a6-1c62-4a3e-9d0b-8f6d4f1f2a10"

    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


#: the physical id the Create of pipeline churn's clean-up answered
PHYSICAL_ID = "churn/churn/cleanup"


def request(cloudformation: CloudFormation, request_type: str, **properties: str) -> dict[str, Any]:
    """A CloudFormation custom resource request for ModelWorkflow's clean-up of pipeline `churn`."""
    props = {"EndpointName": "churn", "PipelineName": "churn", "RemovalPolicy": "destroy", **properties}
    event = {
        "RequestType": request_type,
        "ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:IntegModelWorkflow-ChurnEndpointCleanupFunction",
        "ResponseURL": f"{cloudformation.url}/cloudformation-custom-resource-response-useast1/"
        f"arn%3Aaws%3Acloudformation%3A{REGION}%3A{ACCOUNT}%3Astack/IntegModelWorkflow/abc?X-Amz-Signature=sig",
        "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/IntegModelWorkflow/0e1f2a30-aaaa-11ef-8c5b-0affe1d2c3b4",
        "RequestId": str(uuid.uuid4()),
        "ResourceType": "Custom::CdkMwaaMlopsEndpointCleanup",
        "LogicalResourceId": "ChurnEndpointCleanup6C3B7E41",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", **props},
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = PHYSICAL_ID
    if request_type == "Update":
        event["OldResourceProperties"] = {"ServiceToken": "arn:aws:lambda:...", **props}
    return event


@cache
def client():
    """The test's own SageMaker client (the handler makes its own), made once: the moto server lives for the module."""
    return boto3.client("sagemaker", config=Config(retries={"max_attempts": 1}))


def deploy(pipeline: str, key: str, endpoint: str | None = None) -> None:
    """What a deployment DAG run of `pipeline` creates: `<pipeline>-model-<key>`, `<pipeline>-config-<key>`, the endpoint."""
    sm = client()
    model, config = f"{pipeline}-model-{key}", f"{pipeline}-config-{key}"
    sm.create_model(
        ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/m@sha256:0"}
    )
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
        ],
    )
    if endpoint:
        sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)


def seed() -> None:
    """Pipeline churn: its endpoint on its second deployment, plus the first one's config and model. Then others'."""
    deploy("churn", "0a1b2c3d4e5f")
    deploy("churn", "9f8e7d6c5b4a", endpoint="churn")
    deploy("fraud", "0a1b2c3d4e5f", endpoint="fraud")  # another pipeline on the same account
    deploy("churnx", "0a1b2c3d4e5f")  # a pipeline whose name starts like churn's
    deploy("old-churn", "0a1b2c3d4e5f")  # a pipeline whose names contain churn's prefixes (NameContains matches)


def inventory() -> dict[str, set[str]]:
    sm = client()
    return {
        "endpoints": {e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]},
        "configs": {c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]},
        "models": {m["ModelName"] for m in sm.list_models()["Models"]},
    }


OTHERS = {
    "endpoints": {"fraud"},
    "configs": {"fraud-config-0a1b2c3d4e5f", "churnx-config-0a1b2c3d4e5f", "old-churn-config-0a1b2c3d4e5f"},
    "models": {"fraud-model-0a1b2c3d4e5f", "churnx-model-0a1b2c3d4e5f", "old-churn-model-0a1b2c3d4e5f"},
}
CHURNS = {
    "endpoints": {"churn"},
    "configs": {"churn-config-0a1b2c3d4e5f", "churn-config-9f8e7d6c5b4a"},
    "models": {"churn-model-0a1b2c3d4e5f", "churn-model-9f8e7d6c5b4a"},
}
EVERYTHING = {kind: OTHERS[kind] | CHURNS[kind] for kind in OTHERS}


def run(cloudformation: CloudFormation, event: dict[str, Any], seconds: float = 900.0) -> tuple[dict[str, Any], float]:
    """Invokes the handler as Lambda does (15 minutes by default); returns CloudFormation's response and the run time."""
    handler = load_handler()
    started = time.monotonic()
    assert handler.handler(event, LambdaContext(seconds)) is None
    return cloudformation.response(), time.monotonic() - started


def assert_answers(response: dict[str, Any], event: dict[str, Any], status: str) -> None:
    assert response["Status"] == status, response
    for key in ("StackId", "RequestId", "LogicalResourceId"):
        assert response[key] == event[key]


def test_delete_removes_the_endpoint_and_this_pipelines_configs_and_models_only(aws, cloudformation):
    seed()
    event = request(cloudformation, "Delete")
    response, _ = run(cloudformation, event)
    assert_answers(response, event, "SUCCESS")
    assert response["PhysicalResourceId"] == PHYSICAL_ID  # a Delete keeps the resource's id
    assert response["Data"] == {"Endpoint": "deleted (was InService)", "EndpointConfigsDeleted": 2, "ModelsDeleted": 2}
    assert inventory() == OTHERS
    assert aws.calls.count("DeleteEndpoint") == 1
    # CloudFormation's pre-signed URL is signed without a content type: the PUT must send an empty one.
    put = cloudformation.responses[0]
    assert put["path"].startswith("/cloudformation-custom-resource-response-useast1/")
    assert put["headers"]["Content-Type"] == ""


def test_a_stage_clean_up_removes_its_stages_names_only(aws, cloudformation):
    """A promotion stage's clean-up (PromotionTarget) deletes `churn--prod`'s names, not the pipeline's nor another stage's."""
    seed()
    deploy("churn--prod", "0a1b2c3d4e5f", endpoint="churn--prod")
    deploy("churn--dev", "0a1b2c3d4e5f", endpoint="churn--dev")
    event = request(cloudformation, "Delete", EndpointName="churn--prod", ResourcePrefix="churn--prod-")
    response, _ = run(cloudformation, event)
    assert_answers(response, event, "SUCCESS")
    assert response["Data"] == {"Endpoint": "deleted (was InService)", "EndpointConfigsDeleted": 1, "ModelsDeleted": 1}
    left = inventory()
    assert left["endpoints"] == EVERYTHING["endpoints"] | {"churn--dev"}
    assert left["configs"] == EVERYTHING["configs"] | {"churn--dev-config-0a1b2c3d4e5f"}
    assert left["models"] == EVERYTHING["models"] | {"churn--dev-model-0a1b2c3d4e5f"}


def test_delete_without_an_endpoint_still_removes_leftover_configs_and_models(aws, cloudformation):
    seed()
    client().delete_endpoint(EndpointName="churn")  # never deployed, or deleted by hand: a config and a model remain
    aws.calls.clear()
    event = request(cloudformation, "Delete")
    response, _ = run(cloudformation, event)
    assert_answers(response, event, "SUCCESS")
    assert response["Data"] == {"Endpoint": "not found", "EndpointConfigsDeleted": 2, "ModelsDeleted": 2}
    assert inventory() == OTHERS
    assert "DeleteEndpoint" not in aws.calls


def test_delete_of_a_pipeline_that_never_deployed_succeeds(aws, cloudformation):
    deploy("fraud", "0a1b2c3d4e5f", endpoint="fraud")
    event = request(cloudformation, "Delete")
    response, _ = run(cloudformation, event)
    assert_answers(response, event, "SUCCESS")
    assert response["Data"] == {"Endpoint": "not found", "EndpointConfigsDeleted": 0, "ModelsDeleted": 0}
    assert inventory() == {
        "endpoints": {"fraud"},
        "configs": {"fraud-config-0a1b2c3d4e5f"},
        "models": {"fraud-model-0a1b2c3d4e5f"},
    }


@pytest.mark.parametrize("busy", ["Creating", "Updating"])
def test_delete_waits_while_the_endpoint_is_busy_then_deletes_it(aws, cloudformation, busy):
    seed()
    aws.statuses["churn"] = [busy] * 4 + ["InService"]
    event = request(cloudformation, "Delete")
    response, _ = run(cloudformation, event)
    assert_answers(response, event, "SUCCESS")
    assert response["Data"]["Endpoint"] == "deleted (was InService)"
    # four describes saw it busy and waited (a delete then would have been refused), the fifth saw it InService
    assert aws.calls[:6] == ["DescribeEndpoint"] * 5 + ["DeleteEndpoint"]
    assert inventory() == OTHERS


def test_delete_answers_failed_before_lambdas_deadline_when_the_endpoint_stays_creating(aws, cloudformation):
    seed()
    aws.statuses["churn"] = ["Creating"]
    handler = load_handler()
    # Lambda gives the handler its reserve plus 1.5 s: it waits while it can, then must answer while it still runs.
    context = LambdaContext(handler.RESERVE_SECONDS + 1.5)
    event = request(cloudformation, "Delete")
    started = time.monotonic()
    handler.handler(event, context)
    response = cloudformation.response()
    assert_answers(response, event, "FAILED")
    assert "churn" in response["Reason"] and "Creating" in response["Reason"], response["Reason"]
    assert response["PhysicalResourceId"] == PHYSICAL_ID
    answered = cloudformation.responses[0]["at"]
    assert answered < context.deadline - handler.RESERVE_SECONDS / 2  # well before Lambda would stop it
    assert answered - started >= 1.0  # it did wait (POLL_SECONDS 0.05) before giving up
    assert aws.calls.count("DescribeEndpoint") >= 3  # it polled
    assert "DeleteEndpoint" not in aws.calls
    assert inventory() == EVERYTHING  # nothing half-deleted: the next delete attempt starts from the endpoint again


def test_delete_of_an_endpoint_already_deleting_does_not_delete_it_again(aws, cloudformation):
    seed()
    aws.statuses["churn"] = ["Deleting"]
    event = request(cloudformation, "Delete")
    response, _ = run(cloudformation, event)
    assert_answers(response, event, "SUCCESS")
    assert response["Data"] == {"Endpoint": "deleting", "EndpointConfigsDeleted": 2, "ModelsDeleted": 2}
    assert aws.calls.count("DescribeEndpoint") == 1
    assert "DeleteEndpoint" not in aws.calls
    assert inventory() == {kind: OTHERS[kind] | ({"churn"} if kind == "endpoints" else set()) for kind in OTHERS}


def test_delete_with_removal_policy_retain_keeps_everything(aws, cloudformation):
    seed()
    event = request(cloudformation, "Delete", RemovalPolicy="retain")
    response, _ = run(cloudformation, event)
    assert_answers(response, event, "SUCCESS")
    assert aws.calls == []
    assert inventory() == EVERYTHING


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_succeed_without_calling_sagemaker(aws, cloudformation, request_type):
    seed()
    event = request(cloudformation, request_type)
    response, _ = run(cloudformation, event)
    assert_answers(response, event, "SUCCESS")
    assert response["PhysicalResourceId"] == PHYSICAL_ID
    assert response["Data"] == {}
    assert aws.calls == []
    assert inventory() == EVERYTHING


@pytest.mark.parametrize("denied", ["DescribeEndpoint", "DeleteModel"])
def test_an_aws_error_answers_failed_with_the_error(aws, cloudformation, denied):
    seed()
    aws.denied.add(denied)
    event = request(cloudformation, "Delete")
    response, _ = run(cloudformation, event)
    assert_answers(response, event, "FAILED")
    assert "AccessDeniedException" in response["Reason"] and f"sagemaker:{denied}" in response["Reason"], response
    assert aws.calls.count(denied) == 1  # not retried
    assert aws.calls[-1] == denied  # nothing after it: no waiting, no other call
    if denied == "DescribeEndpoint":
        assert inventory() == EVERYTHING


@pytest.mark.parametrize(
    ("changed", "replaced"),
    [({"EndpointName": "churn-v2"}, True), ({"PipelineName": "churn2"}, True), ({"RemovalPolicy": "retain"}, False)],
)
def test_update_renaming_the_endpoint_or_pipeline_replaces_the_resource(aws, cloudformation, changed, replaced):
    """A new physical id makes CloudFormation send a Delete, with the old properties, for what the old names created.

    Otherwise an endpoint the DAG created under the old name would bill on, known to neither the DAG nor the clean-up.
    """
    event = request(cloudformation, "Update", **changed)
    event["PhysicalResourceId"] = physical_id = run(cloudformation, request(cloudformation, "Create"))[0]["PhysicalResourceId"]
    cloudformation.responses.clear()
    response, _ = run(cloudformation, event)
    assert_answers(response, event, "SUCCESS")
    assert (response["PhysicalResourceId"] != physical_id) is replaced, response["PhysicalResourceId"]
    assert aws.calls == []


def test_the_reserve_covers_the_slowest_aws_call_and_the_answer():
    """After its deadline the handler makes at most one more AWS call, then answers: both must fit in the reserve."""
    handler = load_handler()
    config = handler.AWS_CONFIG
    attempts = config.retries["total_max_attempts"]  # the first attempt included
    backoff = 20  # botocore's longest backoff between attempts (standard mode)
    slowest_call = attempts * (config.connect_timeout + config.read_timeout) + (attempts - 1) * backoff
    assert config.retries["mode"] == "standard"
    assert slowest_call + handler.RESPONSE_TIMEOUT < handler.RESERVE_SECONDS


def test_a_hanging_aws_call_answers_failed_before_lambdas_deadline(aws, cloudformation, monkeypatch):
    """SageMaker stops answering: the handler's timeouts (scaled down here from 20 s to 0.5 s) make it answer FAILED."""
    handler = load_handler()
    monkeypatch.setattr(
        handler, "AWS_CONFIG", Config(connect_timeout=1, read_timeout=0.5, retries={"mode": "standard", "total_max_attempts": 2})
    )
    monkeypatch.setattr(handler, "RESERVE_SECONDS", 3)
    seed()
    aws.describe_delay = 2.0
    context = LambdaContext(handler.RESERVE_SECONDS + 1.0)
    event = request(cloudformation, "Delete")
    handler.handler(event, context)
    response = cloudformation.response()
    assert_answers(response, event, "FAILED")
    assert "ReadTimeoutError" in response["Reason"], response["Reason"]
    assert cloudformation.responses[0]["at"] < context.deadline
    assert aws.calls == ["DescribeEndpoint", "DescribeEndpoint"]
