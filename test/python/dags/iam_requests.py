"""Maps the AWS calls a DAG run made (as the moto stand-in recorded them) to the IAM requests AWS would authorize:
the action, the resource ARN and the condition keys, plus the requests a call implies (iam:PassRole for a role in a
create call, sagemaker:AddTags for tags on create, kms:Decrypt for reading an SSE-KMS object). A call this table does
not know fails the proof: every call must be accounted for."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cloud_assembly import ROOT


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    #: why the request exists when no call names it directly (not part of what the request is)
    implied_by: str = field(default="", compare=False)

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "resource": self.resource, "context": dict(self.context)}


@dataclass
class Call:
    service: str
    action: str
    params: dict[str, Any] = field(default_factory=dict)


SAGEMAKER_RESOURCES = {
    "TrainingJob": ("training-job", "TrainingJobName"),
    "ProcessingJob": ("processing-job", "ProcessingJobName"),
    "ModelPackageGroup": ("model-package-group", "ModelPackageGroupName"),
    "Model": ("model", "ModelName"),
    "EndpointConfig": ("endpoint-config", "EndpointConfigName"),
    "Endpoint": ("endpoint", "EndpointName"),
}
#: calls that need no permission of the caller's role
NOT_AUTHORIZED_BY_IAM = {("sts", "GetCallerIdentity")}


def requests_for(call: Call, account: str, region: str, keys: dict[str, str]) -> list[Request]:
    """`keys` maps a bucket name to the ARN of the KMS key its objects are encrypted with."""
    sm = f"arn:aws:sagemaker:{region}:{account}"
    p, action = call.params, call.action
    if (call.service, action) in NOT_AUTHORIZED_BY_IAM:
        return []
    if call.service == "glue":
        return [Request(f"glue:{action}", f"arn:aws:glue:{region}:{account}:job/{p['JobName']}")]
    if call.service == "ecr":
        name = p["repositoryNames"][0] if action == "DescribeRepositories" else p["repositoryName"]
        return [Request(f"ecr:{action}", f"arn:aws:ecr:{region}:{account}:repository/{name}")]
    if call.service == "sns" and action == "Publish":
        return [Request("sns:Publish", p.get("TopicArn") or p["TargetArn"])]
    if call.service == "s3":
        return _s3(call, keys)
    if call.service == "sagemaker":
        return _sagemaker(call, sm)
    if call.service == "sts" and action == "AssumeRole":  # authorized by the caller's policies and the role's trust
        return [Request("sts:AssumeRole", p["RoleArn"])]
    if call.service == "sagemaker-runtime" and action == "InvokeEndpoint":
        return [Request("sagemaker:InvokeEndpoint", f"{sm}:endpoint/{p['EndpointName'].lower()}")]
    if call.service == "mwaa-serverless" and action == "StartWorkflowRun":  # IAM prefix airflow-serverless
        return [Request("airflow-serverless:StartWorkflowRun", p["WorkflowArn"])]
    raise KeyError(f"no IAM mapping for {call.service}:{action}; add it to iam_requests.py")


def _sagemaker(call: Call, sm: str) -> list[Request]:
    p, action = call.params, call.action
    if action in ("ListModelPackages", "ListEndpointConfigs", "ListModels", "ListTrainingJobs"):  # no resource-level permissions
        return [Request(f"sagemaker:{action}", "*")]
    if action in ("DescribeModelPackage", "UpdateModelPackage"):
        name = p.get("ModelPackageName") or p["ModelPackageArn"]
        lifecycle = p.get("ModelLifeCycle")
        # https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-staging-construct-set-up.html
        stage = (
            (
                ("sagemaker:ModelLifeCycle:stage", lifecycle["Stage"]),
                ("sagemaker:ModelLifeCycle:stageStatus", lifecycle["StageStatus"]),
            )
            if lifecycle
            else ()
        )
        return [Request(f"sagemaker:{action}", name if name.startswith("arn:") else f"{sm}:model-package/{name}", stage)]
    if action == "CreateModelPackage":
        # The registry assigns the version; any version of the group is the same resource pattern.
        arn = f"{sm}:model-package/{p['ModelPackageGroupName'].lower()}/1"
        return [Request("sagemaker:CreateModelPackage", arn), *_tags_on_create(p, arn, action)]
    if action in ("AddTags", "ListTags"):
        return [Request(f"sagemaker:{action}", p["ResourceArn"])]
    for suffix, (kind, key) in SAGEMAKER_RESOURCES.items():
        if action.endswith(suffix) and action[: -len(suffix)] in ("Create", "Describe", "Stop", "Update", "Delete"):
            arn = f"{sm}:{kind}/{p[key].lower()}"
            requests = [Request(f"sagemaker:{action}", arn)]
            if action in ("CreateEndpoint", "UpdateEndpoint"):  # authorized on the endpoint config it names, too
                requests.append(Request(f"sagemaker:{action}", f"{sm}:endpoint-config/{p['EndpointConfigName'].lower()}"))
            if action == "CreateModel":
                # From another account's package: the IAM reference gives CreateModel no model-package resource, so
                # the package is taken to be read as the caller (DescribeModelPackage, which the package's group
                # policy and the caller's policy must both allow). An assumption only an AWS account can confirm.
                named = [p.get("PrimaryContainer", {}), *p.get("Containers", [])]
                packages = [c["ModelPackageName"] for c in named if c.get("ModelPackageName", "").startswith("arn:")]
                requests += [
                    Request("sagemaker:DescribeModelPackage", package, (), "CreateModel names another account's package")
                    for package in packages
                    if package.split(":")[4] != sm.split(":")[4]
                ]
            if action.startswith("Create"):
                requests += _tags_on_create(p, arn, action)
                role = p.get("RoleArn") or p.get("ExecutionRoleArn")
                if role:
                    to_sagemaker = (("iam:PassedToService", "sagemaker.amazonaws.com"),)
                    requests.append(Request("iam:PassRole", role, to_sagemaker, f"{action} passes its role"))
                key_arn = _kms_key(p)
                if key_arn:
                    grant = (("kms:GrantIsForAWSResource", "true"),)
                    requests.append(Request("kms:CreateGrant", key_arn, grant, f"{action} encrypts with the pipeline key"))
            return requests
    raise KeyError(f"no IAM mapping for sagemaker:{action}; add it to iam_requests.py")


def _tags_on_create(params: dict[str, Any], arn: str, action: str) -> list[Request]:
    return [Request("sagemaker:AddTags", arn, (), f"{action} tags what it creates")] if params.get("Tags") else []


def _kms_key(params: dict[str, Any]) -> str | None:
    return (
        params.get("KmsKeyId")
        or params.get("ResourceConfig", {}).get("VolumeKmsKeyId")
        or params.get("ProcessingResources", {}).get("ClusterConfig", {}).get("VolumeKmsKeyId")
    )


S3_OBJECT_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
}


def _s3(call: Call, keys: dict[str, str]) -> list[Request]:
    p, operation = call.params, call.action
    bucket = p["Bucket"]
    if operation == "HeadBucket":  # S3 authorizes it as s3:ListBucket (with no prefix)
        return [Request("s3:ListBucket", f"arn:aws:s3:::{bucket}")]
    if operation in ("ListObjects", "ListObjectsV2"):
        return [Request("s3:ListBucket", f"arn:aws:s3:::{bucket}", (("s3:prefix", p.get("Prefix", "")),))]
    action = S3_OBJECT_ACTIONS[operation]
    requests = [Request(action, f"arn:aws:s3:::{bucket}/{p['Key']}")]
    if bucket in keys and operation == "GetObject":
        requests.append(Request("kms:Decrypt", keys[bucket], (), "the object is SSE-KMS encrypted with the pipeline key"))
    return requests


def evaluate(
    requests: list[Request],
    policies: list[dict[str, Any]],
    account: str,
    principal: str,
    resource_policies: dict[str, Any] | None = None,
    errors: bool = False,
) -> list[str]:
    """The decisions of @cloud-copilot/iam-simulate (test/iam/evaluate-requests.ts) for each request, in order.

    `resource_policies` maps a resource ARN (a key, a bucket, a topic) to its policy; a bucket's applies to its
    objects too. With `errors`, a request the evaluator refuses (an action on a resource type it does not apply to)
    is decided "Error" instead of failing. Every request is made over TLS, as the SDKs make them (the buckets deny anything else).
    """
    owned = resource_policies or {}

    def resource_policy(arn: str) -> Any:
        return owned.get(arn) or owned.get(arn.split("/", 1)[0] if arn.startswith("arn:aws:s3:::") else arn)

    items = []
    for request in requests:
        item = request.as_json()
        item["context"] = {"aws:SecureTransport": "true", **item["context"]}
        if resource_policy(request.resource) is not None:
            item["resourcePolicy"] = resource_policy(request.resource)
        items.append(item)
    payload = {"account": account, "principal": principal, "policies": policies, "requests": items}
    result = subprocess.run(
        ["npx", "ts-node", "--transpile-only", "test/iam/evaluate-requests.ts"],
        cwd=ROOT,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TS_NODE_PROJECT": "tsconfig.dev.json"},
    )
    decisions = json.loads(result.stdout)
    refused = [(r, d) for r, d in zip(requests, decisions, strict=True) if d["decision"] == "Error"]
    assert errors or not refused, f"the evaluator refused requests: {refused[:3]}"
    return [d["decision"] for d in decisions]


def container_requests_for(
    call: Call,
    account: str,
    region: str,
    keys: dict[str, str],
    objects: Callable[[str, str], list[str]],
    package_containers: Callable[[str], list[dict[str, Any]]],
) -> list[Request]:
    """What SageMaker asks of the job's or model's own role (the role a create call passes) to run what that call
    defines: pull its image from ECR; list and read each object of its S3Prefix inputs (`objects(bucket, prefix)`
    names them; a URI with nothing under it is one object) and its model data (a model made from a package runs the
    package's containers, `package_containers(arn)`); write its outputs (a training job's
    `<output path>/<job>/output/model.tar.gz`, a processing job's objects under each output, a checkpoint under the
    checkpoint URI); and the KMS calls reading and writing the SSE-KMS objects take. Logs and metrics are left out
    (SageMaker writes them; they carry no names of ours). An empty list for any other call."""
    p, action = call.params, call.action
    requests: list[Request] = []

    def image(uri: str) -> None:
        repository = uri.split("/", 1)[1].split("@")[0].split(":")[0]
        requests.append(Request("ecr:GetAuthorizationToken", "*"))
        arn = f"arn:aws:ecr:{region}:{account}:repository/{repository}"
        pulls = ("BatchCheckLayerAvailability", "GetDownloadUrlForLayer", "BatchGetImage")
        requests.extend(Request(f"ecr:{a}", arn) for a in pulls)

    def read(uri: str, prefix: bool = True) -> None:
        bucket, _, key = uri[5:].partition("/")
        if prefix:
            requests.append(Request("s3:ListBucket", f"arn:aws:s3:::{bucket}", (("s3:prefix", key),)))
        found = (objects(bucket, key) if prefix else []) or [key]  # a URI may name one object (a model.tar.gz)
        requests.extend(Request("s3:GetObject", f"arn:aws:s3:::{bucket}/{k}") for k in found)
        if bucket in keys:
            requests.append(Request("kms:Decrypt", keys[bucket], (), f"{action} reads {uri}"))

    def write(uri: str, key_arn: str | None) -> None:
        bucket, _, key = uri[5:].partition("/")
        requests.append(Request("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}"))
        key_arn = key_arn or keys.get(bucket)
        if key_arn:
            requests.append(Request("kms:GenerateDataKey", key_arn, (), f"{action} writes {uri}"))

    if action == "CreateTrainingJob":
        image(p["AlgorithmSpecification"]["TrainingImage"])
        for channel in p.get("InputDataConfig", []):
            read(channel["DataSource"]["S3DataSource"]["S3Uri"])
        output = p["OutputDataConfig"]
        write(f"{output['S3OutputPath'].rstrip('/')}/{p['TrainingJobName']}/output/model.tar.gz", output.get("KmsKeyId"))
        if "CheckpointConfig" in p:
            checkpoints = p["CheckpointConfig"]["S3Uri"].rstrip("/")
            bucket, _, prefix = checkpoints[5:].partition("/")
            requests.append(Request("s3:ListBucket", f"arn:aws:s3:::{bucket}", (("s3:prefix", prefix + "/"),)))
            write(f"{checkpoints}/checkpoint", output.get("KmsKeyId"))  # the training code names its checkpoint files
    elif action == "CreateProcessingJob":
        image(p["AppSpecification"]["ImageUri"])
        for source in p.get("ProcessingInputs", []):
            read(source["S3Input"]["S3Uri"])
        outputs = p["ProcessingOutputConfig"]
        for output in outputs["Outputs"]:
            uri = output["S3Output"]["S3Uri"].rstrip("/")
            bucket, _, prefix = uri[5:].partition("/")
            for key in objects(bucket, prefix + "/"):
                write(f"s3://{bucket}/{key}", outputs.get("KmsKeyId"))
    elif action == "CreateModel":
        for named in [p["PrimaryContainer"]] if "PrimaryContainer" in p else p.get("Containers", []):
            containers = package_containers(named["ModelPackageName"]) if "ModelPackageName" in named else [named]
            for container in containers:
                image(container["Image"])
                if "ModelDataUrl" in container:
                    read(container["ModelDataUrl"], prefix=False)
    return list(dict.fromkeys(requests))
