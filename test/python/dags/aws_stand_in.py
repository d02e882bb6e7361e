"""A moto server on 127.0.0.1 that stands in for AWS in the DAG tests, with the small additions moto lacks.

- It records every JSON/query API call (service, action, parameters) so tests can assert order and arguments.
- SageMaker `UpdateEndpoint` (moto 5.2.5 has none), and `CreateEndpoint` refusing an existing endpoint with the
  message SageMaker gives, which is what makes the Amazon provider's endpoint operator update instead.
- A Glue job run "preprocesses": it writes a part file to train/, validation/ and test/ under the run's
  `--output_uri`, as `preprocessing/preprocess.py` does (tested on local Spark in the starter repository).
- A processing job "runs" the evaluation: it writes `evaluation.json` with the report the test chose to the job's
  output location, as the model image's `evaluate` command does (tested in the starter repository).
- A training or processing job runs for a while, as on SageMaker (moto creates them `Completed`): each job answers
  its first `in_progress_describes` describes `InProgress`, then `Completed`. So the provider's operators defer, as
  they do against AWS, and their triggers poll (with aiobotocore) until the job completes.
- A job in `lose_start_job_run_answers` has its next Glue job run started, but the caller gets Glue's
  `OperationTimeoutException` (which botocore does not retry): what a task that died after starting its run sees.
- Model registry lifecycle stages (moto 5.2.5 has none): `UpdateModelPackage` with `ModelLifeCycle {Stage,
  StageStatus, StageDescription}` sets it and `DescribeModelPackage` returns it
  (https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-staging-construct.html). moto's UpdateModelPackage
  also clears the approval status and metadata a call leaves out; as SageMaker does, this one changes only what the
  call gives.
- `InvokeEndpoint` (sagemaker-runtime) refuses an endpoint that does not exist in the caller's account and region,
  as SageMaker does (moto answers any name), and fails with `ModelError` for an endpoint in `failing_endpoints`.
- Each recorded call says the account it was made in and the role whose assumed credentials made it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult, BaseResponse
from moto.glue.responses import GlueResponse
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import SageMakerResponse
from moto.server import ThreadedMotoServer


@dataclass
class Call:
    service: str
    action: str
    params: dict[str, Any]
    #: the account moto answered in (the credentials' account)
    account: str = ""
    #: the role whose assumed credentials made the call ("" for the default credentials)
    role_arn: str = ""


@dataclass
class AwsStandIn:
    evaluation: dict[str, Any] = field(
        default_factory=lambda: {"binary_classification_metrics": {"auc": {"value": 0.97}, "f1": {"value": 0.9}}}
    )
    calls: list[Call] = field(default_factory=list)
    endpoint_updates: list[dict[str, Any]] = field(default_factory=list)
    endpoint_url: str = ""
    #: when set, an endpoint update "rolls back" as a blue/green deployment does when an alarm goes off
    roll_back_updates: bool = False
    #: how many describes of a SageMaker training or processing job answer `InProgress` before it is `Completed`
    in_progress_describes: int = 2
    #: Glue jobs whose next job run starts but whose StartJobRun answer is lost (each name is used once)
    lose_start_job_run_answers: set[str] = field(default_factory=set)
    #: every describe of a training or processing job: (job name, the status answered, "aiobotocore" or "botocore")
    job_describes: list[tuple[str, str, str]] = field(default_factory=list)
    #: endpoints whose invocations fail with SageMaker's ModelError (the model's container answers 500)
    failing_endpoints: set[str] = field(default_factory=set)
    #: every lifecycle a package was given, in order: (package ARN, ModelLifeCycle)
    lifecycles: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def actions(self, service: str | None = None) -> list[str]:
        return [c.action for c in self.calls if service is None or c.service == service]

    def params(self, action: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.action == action]

    def start(self) -> None:
        self._patches = _patch(self) + _patch_job_progress(self) + _patch_lost_answers(self) + _patch_registry_stages(self)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.stop()
        for owner, name, original in reversed(self._patches):  # a method patched twice gets its original back last
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def _patch(stand_in: AwsStandIn) -> list[tuple[type, str, Any]]:
    originals = [
        (BaseResponse, "call_action", BaseResponse.call_action),
        (SageMakerResponse, "create_endpoint", SageMakerResponse.create_endpoint),
        (SageMakerResponse, "create_processing_job", SageMakerResponse.create_processing_job),
        (GlueResponse, "start_job_run", GlueResponse.start_job_run),
        (SageMakerResponse, "update_endpoint", None),
    ]
    call_action, create_endpoint, create_processing_job, start_job_run = (o[2] for o in originals[:4])

    def s3_put(uri: str, body: bytes) -> None:
        import boto3

        bucket, _, key = uri[5:].partition("/")
        boto3.client("s3", endpoint_url=stand_in.endpoint_url).put_object(Bucket=bucket, Key=key, Body=body)

    def recording_call_action(self: BaseResponse):
        try:
            params = json.loads(self.body) if self.body and self.body.lstrip().startswith("{") else dict(self.querystring)
        except ValueError:
            params = {}
        account = self.get_current_account()
        stand_in.calls.append(Call(self.service_name, self._get_action(), params, account, _role_of(self, account)))
        return call_action(self)

    def create_endpoint_once(self: SageMakerResponse) -> ActionResult:
        name = self._get_param("EndpointName")
        if name in self.sagemaker_backend.endpoints:
            arn = self.sagemaker_backend.endpoints[name].arn
            raise ValidationError(message=f'Cannot create already existing endpoint "{arn}".')
        return create_endpoint(self)

    def update_endpoint(self: SageMakerResponse) -> ActionResult:
        backend = self.sagemaker_backend
        name, config_name = self._get_param("EndpointName"), self._get_param("EndpointConfigName")
        endpoint = backend.endpoints[name]
        config = backend.describe_endpoint_config(config_name)
        if not stand_in.roll_back_updates:
            endpoint.endpoint_config_name = config_name
            endpoint.production_variants = config["ProductionVariants"]
        stand_in.endpoint_updates.append(
            {"EndpointName": name, "EndpointConfigName": config_name, "DeploymentConfig": self._get_param("DeploymentConfig")}
        )
        return ActionResult({"EndpointArn": endpoint.arn})

    def create_processing_job_that_evaluates(self: SageMakerResponse) -> ActionResult:
        result = create_processing_job(self)
        for output in self._get_param("ProcessingOutputConfig")["Outputs"]:
            s3_put(output["S3Output"]["S3Uri"].rstrip("/") + "/evaluation.json", json.dumps(stand_in.evaluation).encode())
        return result

    def start_job_run_that_preprocesses(self: GlueResponse):
        result = start_job_run(self)
        output = (self._get_param("Arguments") or {}).get("--output_uri")
        if output:
            for split in ("train", "validation", "test"):
                s3_put(f"{output.rstrip('/')}/{split}/part-00000.csv", b"1,0.5\n0,0.1\n")
        return result

    BaseResponse.call_action = recording_call_action
    SageMakerResponse.create_endpoint = create_endpoint_once
    SageMakerResponse.update_endpoint = update_endpoint
    SageMakerResponse.create_processing_job = create_processing_job_that_evaluates
    GlueResponse.start_job_run = start_job_run_that_preprocesses
    return originals


def _patch_job_progress(stand_in: AwsStandIn) -> list[tuple[type, str, Any]]:
    """SageMaker training and processing jobs report `InProgress` to their first describes (counted per job)."""
    originals = [
        (SageMakerResponse, "describe_training_job", SageMakerResponse.describe_training_job),
        (SageMakerResponse, "describe_processing_job", SageMakerResponse.describe_processing_job),
    ]
    describe_training_job, describe_processing_job = (o[2] for o in originals)
    describes: dict[tuple[str, str], int] = {}

    def progressing(describe, kind: str, status_key: str, end_key: str):
        def describe_job(self: SageMakerResponse) -> ActionResult:
            result = describe(self)  # raises for a job that does not exist: only existing jobs count
            name = self._get_param(f"{kind}JobName")
            describes[kind, name] = seen = describes.get((kind, name), 0) + 1
            answer = result.result
            if seen <= stand_in.in_progress_describes:
                answer.update({status_key: "InProgress"})
                answer.pop(end_key, None)
                if kind == "Training":
                    answer["SecondaryStatus"] = "Training"
            client = "aiobotocore" if "aiobotocore/" in self.headers.get("User-Agent", "") else "botocore"
            stand_in.job_describes.append((name, answer[status_key], client))
            return result

        return describe_job

    SageMakerResponse.describe_training_job = progressing(
        describe_training_job, "Training", "TrainingJobStatus", "TrainingEndTime"
    )
    SageMakerResponse.describe_processing_job = progressing(
        describe_processing_job, "Processing", "ProcessingJobStatus", "ProcessingEndTime"
    )
    return originals


def _patch_lost_answers(stand_in: AwsStandIn) -> list[tuple[type, str, Any]]:
    """StartJobRun starts the run, then answers `OperationTimeoutException` for a job in `lose_start_job_run_answers`."""
    originals = [(GlueResponse, "start_job_run", GlueResponse.start_job_run)]
    start_job_run = originals[0][2]

    def start_job_run_answer_lost(self: GlueResponse):
        result = start_job_run(self)
        name = self._get_param("JobName")
        if name in stand_in.lose_start_job_run_answers:
            stand_in.lose_start_job_run_answers.discard(name)
            raise JsonRESTError("OperationTimeoutException", f"StartJobRun of {name} timed out")
        return result

    GlueResponse.start_job_run = start_job_run_answer_lost
    return originals


def _role_of(response: BaseResponse, account: str) -> str:
    from moto.iam.models import iam_backends

    key = iam_backends[account]["aws"].access_keys.get(response.get_access_key())
    return (key.role_arn or "") if key is not None else ""


LIFECYCLE_STATUSES = ("PendingApproval", "InProgress", "Approved", "Rejected", "Deployed")


def _patch_registry_stages(stand_in: AwsStandIn) -> list[tuple[type, str, Any]]:
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    originals = [
        (SageMakerResponse, "update_model_package", SageMakerResponse.update_model_package),
        (SageMakerResponse, "describe_model_package", SageMakerResponse.describe_model_package),
        (SageMakerRuntimeResponse, "invoke_endpoint", SageMakerRuntimeResponse.invoke_endpoint),
    ]
    describe_model_package, invoke_endpoint = originals[1][2], originals[2][2]
    stages: dict[str, dict[str, str]] = {}

    def package_of(backend: Any, name: str) -> Any:
        package = backend.model_packages.get(backend.model_package_name_mapping.get(name, name))
        if package is None:
            raise ValidationError(message=f"Model package {name} not found")
        return package

    def update_model_package(self: SageMakerResponse) -> ActionResult:
        package = package_of(self.sagemaker_backend, self._get_param("ModelPackageArn"))
        lifecycle = self._get_param("ModelLifeCycle")
        if lifecycle is not None:
            if not lifecycle.get("Stage") or lifecycle.get("StageStatus") not in LIFECYCLE_STATUSES:
                raise ValidationError(message=f"ModelLifeCycle needs Stage and a StageStatus of {list(LIFECYCLE_STATUSES)}")
            stages[package.arn] = dict(lifecycle)
            stand_in.lifecycles.append((package.arn, dict(lifecycle)))
        if self._get_param("ModelApprovalStatus") is not None:
            package.set_model_approval_status(self._get_param("ModelApprovalStatus"))
        if self._get_param("ApprovalDescription") is not None:
            package.approval_description = self._get_param("ApprovalDescription")
        if self._get_param("CustomerMetadataProperties") is not None:
            package.customer_metadata_properties = {
                **(package.customer_metadata_properties or {}),
                **self._get_param("CustomerMetadataProperties"),
            }
        package.modifications_done()
        return ActionResult({"ModelPackageArn": package.arn})

    def describe_with_stage(self: SageMakerResponse) -> ActionResult:
        result = describe_model_package(self)
        lifecycle = stages.get(result.result["ModelPackageArn"])
        if lifecycle is not None:
            result.result["ModelLifeCycle"] = dict(lifecycle)
        return result

    def invoke_existing_endpoint(self: SageMakerRuntimeResponse):
        from urllib.parse import unquote

        from moto.sagemaker.models import sagemaker_backends

        name = unquote(self.path.split("/")[2])  # POST /endpoints/<name>/invocations
        if name not in sagemaker_backends[self.current_account][self.region].endpoints:
            raise ValidationError(message=f"Endpoint {name} of account {self.current_account} not found.")
        if name in stand_in.failing_endpoints:
            raise JsonRESTError("ModelError", 'Received server error (500) from primary with message "boom"')
        return invoke_endpoint(self)

    SageMakerResponse.update_model_package = update_model_package
    SageMakerResponse.describe_model_package = describe_with_stage
    SageMakerRuntimeResponse.invoke_endpoint = invoke_existing_endpoint
    return originals
