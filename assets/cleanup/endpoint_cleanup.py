"""CloudFormation custom resource: on stack delete, removes what a pipeline's deployment DAG created.

The DAGs create the SageMaker endpoint, its endpoint configs and models, so CloudFormation does not own them and
a stack delete would leave the endpoint billing. On Delete this handler deletes the endpoint (waiting while it is
creating or updating, within the invocation's time), then every endpoint config and model named with the
pipeline's prefixes (`<pipeline>-config-`, `<pipeline>-model-`; see assets/dags/cdk_mwaa_mlops/naming.py), or for a
promotion stage the stage's (`ResourcePrefix` `<pipeline>--<stage>-`).
Create and Update call nothing, but a new endpoint or pipeline name gets a new physical id, so CloudFormation then
deletes what the old names created. `RemovalPolicy: retain` keeps everything.

Runs on Lambda's Python runtime with its boto3; the response goes to CloudFormation's pre-signed URL.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.request
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

log = logging.getLogger()
log.setLevel(logging.INFO)

#: statuses in which SageMaker refuses DeleteEndpoint until the operation ends
BUSY = {"Creating", "Updating", "SystemUpdating", "RollingBack"}
#: bounds one AWS call (botocore's defaults allow minutes): 2 attempts of 5 s to connect and 20 s to read
AWS_CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"mode": "standard", "total_max_attempts": 2})
#: seconds the answer to CloudFormation may take
RESPONSE_TIMEOUT = 10
#: seconds kept in reserve before Lambda's timeout: the last AWS call started before the deadline, then the answer
RESERVE_SECONDS = 90


def handler(event: dict[str, Any], context: Any) -> None:
    properties = event.get("ResourceProperties", {})
    # Create and Update name what they clean up: renaming the endpoint or pipeline replaces the resource, so
    # CloudFormation sends a Delete with the old names and what the DAGs created under them does not bill on.
    physical_id = f"{properties.get('PipelineName')}/{properties.get('EndpointName')}/cleanup"
    if event.get("RequestType") == "Delete":
        physical_id = event.get("PhysicalResourceId") or physical_id
    data: dict[str, Any] = {}
    try:
        if event["RequestType"] == "Delete" and properties.get("RemovalPolicy") != "retain":
            deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - RESERVE_SECONDS
            prefix = properties.get("ResourcePrefix") or f"{properties['PipelineName']}-"
            data = clean_up(properties["EndpointName"], prefix, deadline)
        status, reason = "SUCCESS", json.dumps(data)
    except Exception as error:  # every failure must reach CloudFormation, or the stack waits for an hour
        log.exception("clean-up failed")
        status, reason = "FAILED", f"{type(error).__name__}: {error}"
    respond(event, status, physical_id, reason[:1000], data)


def clean_up(endpoint_name: str, prefix: str, deadline: float) -> dict[str, Any]:
    sagemaker = boto3.client("sagemaker", config=AWS_CONFIG)
    poll = float(os.environ.get("POLL_SECONDS", "15"))
    outcome = delete_endpoint(sagemaker, endpoint_name, deadline, poll)
    configs = delete_named(sagemaker, "endpoint_configs", f"{prefix}config-")
    models = delete_named(sagemaker, "models", f"{prefix}model-")
    result = {"Endpoint": outcome, "EndpointConfigsDeleted": len(configs), "ModelsDeleted": len(models)}
    log.info(json.dumps({"endpoint": endpoint_name, **result, "endpointConfigs": configs, "models": models}))
    return result


def delete_endpoint(sagemaker: Any, name: str, deadline: float, poll: float) -> str:
    while True:
        try:
            status = sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"]
        except ClientError as error:
            if _not_found(error):
                return "not found"
            raise
        if status == "Deleting":
            return "deleting"
        if status not in BUSY:
            try:
                sagemaker.delete_endpoint(EndpointName=name)
            except ClientError as error:
                if _not_found(error):
                    return "not found"
                raise
            return f"deleted (was {status})"
        if time.monotonic() + poll > deadline:
            raise TimeoutError(f"endpoint {name} is still {status}; delete the stack again once it is InService")
        log.info("endpoint %s is %s; waiting %s s to delete it", name, status, poll)
        time.sleep(poll)


def delete_named(sagemaker: Any, kind: str, prefix: str) -> list[str]:
    """Deletes the endpoint configs or models whose names start with `prefix` (the listing filters by substring)."""
    list_call, name_key, delete_call, arg = {
        "endpoint_configs": ("list_endpoint_configs", "EndpointConfigName", "delete_endpoint_config", "EndpointConfigName"),
        "models": ("list_models", "ModelName", "delete_model", "ModelName"),
    }[kind]
    names = [
        item[name_key]
        for page in sagemaker.get_paginator(list_call).paginate(NameContains=prefix)
        for item in page[{"endpoint_configs": "EndpointConfigs", "models": "Models"}[kind]]
        if item[name_key].startswith(prefix)
    ]
    for name in names:
        try:
            getattr(sagemaker, delete_call)(**{arg: name})
        except ClientError as error:
            if not _not_found(error):
                raise
    return names


def _not_found(error: ClientError) -> bool:
    message = error.response.get("Error", {}).get("Message", "")
    return error.response.get("Error", {}).get("Code") in ("ValidationException", "ResourceNotFound") and (
        "Could not find" in message or "does not exist" in message or "not found" in message.lower()
    )


def respond(event: dict[str, Any], status: str, physical_id: str, reason: str, data: dict[str, Any]) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason,
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    # CloudFormation's pre-signed https URL, signed without a content type
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT) as response:
        log.info("CloudFormation answered %s to %s", response.status, status)
