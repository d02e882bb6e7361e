"""Drift detection's pieces, shared by the provisioned DAGs and the MWAA Serverless steps (serverless.py).

- The endpoint captures its requests and responses (`drift_capture_config`, in the deployment's endpoint config).
- The training run writes the model's baseline, a sample of its training split, with `drift_check.py baseline` as a
  processing job beside training (`baseline_job_config`); registration records it on the package
  (`CustomerMetadataProperties.drift_baseline_uri`).
- A training run the drift alarm started (`source_kind` `cloudwatch_alarm`) first checks the cool-down
  (`cool_down_verdict`): while a training job of the pipeline is recent, it trains nothing.
- The drift DAG (drift_dag.py) finds what the endpoint serves and its model's baseline (`resolve_drift_run`), then
  runs `drift_check.py check` as a processing job (`drift_check_job_config`), which writes its report next to the
  baseline and publishes the metrics the drift alarm watches. It never runs on the Airflow worker.

The job configs are templates: their run-specific values are `ti.xcom_pull` expressions of the run's resolve task
(training.RESOLVE, RESOLVE here), rendered by the operator's templated fields in both modes.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from cdk_mwaa_mlops.common import aws_client, pulled, tags
from cdk_mwaa_mlops.config import DriftConfig, PipelineConfig
from cdk_mwaa_mlops.naming import resource_name, run_key

log = logging.getLogger(__name__)

#: the drift DAG's resolve task (the serverless drift workflow's step has the same id)
RESOLVE = "resolve_drift"
#: what the training run's trigger puts in `source_kind` when the drift alarm started it
ALARM_SOURCE = "cloudwatch_alarm"
#: the package's metadata key naming its baseline
BASELINE_PROPERTY = "drift_baseline_uri"
BASELINE_FILE = "baseline.csv"

PROCESSING = "/opt/ml/processing"
CODE = f"{PROCESSING}/input/code"
SCRIPT = f"{CODE}/drift_check.py"
OUTPUT = f"{PROCESSING}/output"


def settings(config: PipelineConfig) -> DriftConfig:
    if config.drift is None:
        raise ValueError(f"{config.source}: pipeline '{config.pipeline_name}' has no drift section")
    return config.drift


# ---- capture --------------------------------------------------------------------------------------------------------
def drift_capture_config(config: PipelineConfig) -> dict[str, Any]:
    """The endpoint config's DataCaptureConfig: inputs and outputs, CSV and JSON kept as text (else SageMaker
    base64-encodes them), KMS-encrypted, to s3://<data bucket>/<capture prefix>; SageMaker adds
    `<endpoint>/<variant>/yyyy/mm/dd/hh/` (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataCaptureConfig.html)."""
    drift = settings(config)
    capture: dict[str, Any] = {
        "EnableCapture": True,
        "InitialSamplingPercentage": drift.sampling_percentage,
        "DestinationS3Uri": f"s3://{config.data_bucket}/{drift.capture_prefix}",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
    }
    if config.kms_key_arn:
        capture["KmsKeyId"] = config.kms_key_arn
    return capture


# ---- baseline (training) --------------------------------------------------------------------------------------------
def baseline_locations(config: PipelineConfig, dag_id: str, run_id: str, artifacts: str) -> dict[str, str]:
    """What resolve_training_run adds with drift: the baseline job's name and where it writes (`artifacts`: the run's
    artifacts folder)."""
    return {
        "baseline_job_name": resource_name(config.pipeline_name, "base", run_key(dag_id, run_id)),
        "baseline_output_uri": f"{artifacts}drift/",
        "drift_baseline_uri": f"{artifacts}drift/{BASELINE_FILE}",
    }


def _input(name: str, uri: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": f"{PROCESSING}/input/{name}",
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }


def _job(config: PipelineConfig, dag_id: str, name: str, arguments: list[str], inputs: list, output_uri: str) -> dict:
    drift = settings(config)
    job: dict[str, Any] = {
        "ProcessingJobName": name,
        "RoleArn": config.role_arn,
        "AppSpecification": {
            "ImageUri": drift.image_uri,
            "ContainerEntrypoint": ["python3", SCRIPT],
            "ContainerArguments": arguments,
        },
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "drift",
                    "S3Output": {"S3Uri": output_uri, "LocalPath": OUTPUT, "S3UploadMode": "EndOfJob"},
                }
            ]
        },
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": drift.instance_type, "VolumeSizeInGB": 30}},
        "StoppingCondition": {"MaxRuntimeInSeconds": drift.max_runtime_seconds},
        "Tags": tags(config, dag_id),
    }
    if config.kms_key_arn:
        job["ProcessingOutputConfig"]["KmsKeyId"] = config.kms_key_arn
        job["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] = config.kms_key_arn
    return job


def baseline_job_config(config: PipelineConfig) -> dict[str, Any]:
    """The training run's `drift_baseline` processing job: a sample of the preprocessed training split (headerless
    CSV, label first) as `<run artifacts>drift/baseline.csv`. It needs no network."""
    from cdk_mwaa_mlops.training import RESOLVE as TRAINING

    arguments = [
        "baseline",
        "--train",
        f"{PROCESSING}/input/train",
        "--output",
        f"{OUTPUT}/{BASELINE_FILE}",
        "--sample-rows",
        str(settings(config).baseline_sample_rows),
    ]
    inputs = [_input("code", settings(config).script_uri), _input("train", pulled(TRAINING, "processed_uri") + "train/")]
    job = _job(
        config,
        config.training_dag_id,
        pulled(TRAINING, "baseline_job_name"),
        arguments,
        inputs,
        pulled(TRAINING, "baseline_output_uri"),
    )
    job["NetworkConfig"] = {"EnableNetworkIsolation": True}
    return job


def baseline_arguments(config: PipelineConfig) -> dict[str, Any]:
    """The SageMakerProcessingOperator arguments of the baseline job (both modes)."""
    return {"config": baseline_job_config(config), "action_if_job_exists": "timestamp"}


# ---- cool-down (training) -------------------------------------------------------------------------------------------
def cool_down_verdict(config: PipelineConfig, conf: dict[str, Any] | None, now: datetime | None = None) -> tuple[bool, str]:
    """Whether a training run goes on (True) or stops because the drift alarm started it while a training job of the
    pipeline is recent (False), and why. Only runs with `source_kind` `cloudwatch_alarm` are held back; a run
    started any other way always goes on. Calls ListTrainingJobs for an alarm's run only."""
    drift = settings(config)
    conf = conf or {}
    kind = conf.get("source_kind")
    if kind != ALARM_SOURCE:
        return True, f"the run was not started by the drift alarm (source_kind {kind!r}): no cool-down applies"
    alarm = conf.get("alarm_name") or "the drift alarm"
    if drift.cool_down_seconds == 0:
        return True, f"started by {alarm}; the cool-down is off (cool_down_seconds 0)"
    now = now or datetime.now(UTC)
    since = now - timedelta(seconds=drift.cool_down_seconds)
    prefix = f"{config.pipeline_name}-train-"
    pages = (
        aws_client(config, "sagemaker")
        .get_paginator("list_training_jobs")
        .paginate(NameContains=prefix, CreationTimeAfter=since, SortBy="CreationTime", SortOrder="Descending")
    )
    for page in pages:
        for job in page["TrainingJobSummaries"]:
            if job["TrainingJobName"].startswith(prefix):  # NameContains also matches `<other>churn-train-`
                created = job["CreationTime"].astimezone(UTC).isoformat()
                return False, (
                    f"started by {alarm}, inside the cool-down of {drift.cool_down_seconds} s: training job "
                    f"{job['TrainingJobName']} ({job.get('TrainingJobStatus', 'status unknown')}) was created at {created}, "
                    f"after {since.isoformat()}; this run trains nothing"
                )
    return True, (
        f"started by {alarm}; no training job of the pipeline was created after {since.isoformat()} "
        f"(cool-down {drift.cool_down_seconds} s): training"
    )


# ---- the drift check ------------------------------------------------------------------------------------------------
def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def resolve_drift_run(config: PipelineConfig, dag_id: str, run_id: str) -> dict[str, Any]:
    """What the drift check of this run compares: the model the endpoint serves (endpoint -> endpoint config -> variant
    and model -> model package) and its baseline, the captures since the endpoint's last update, and where the report
    goes. Skips the run (AirflowSkipException, the reason logged) when there is nothing to check: no endpoint in
    service, a model without a package or a package without a baseline, or no captured traffic yet."""
    drift = settings(config)
    sagemaker = aws_client(config, "sagemaker")
    endpoint_name = config.endpoint_name
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    except sagemaker.exceptions.ClientError as error:
        if "Could not find endpoint" not in str(error):
            raise
        _skip(f"endpoint {endpoint_name} does not exist (nothing deployed yet)")
    if endpoint["EndpointStatus"] != "InService":
        _skip(f"endpoint {endpoint_name} is {endpoint['EndpointStatus']}, not InService")
    endpoint_config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    variant = endpoint_config["ProductionVariants"][0]
    model = sagemaker.describe_model(ModelName=variant["ModelName"])
    package_arn = (model.get("PrimaryContainer") or {}).get("ModelPackageName")
    if not package_arn:
        _skip(f"model {variant['ModelName']} on endpoint {endpoint_name} was not created from a model package")
    package = sagemaker.describe_model_package(ModelPackageName=package_arn)
    baseline_uri = (package.get("CustomerMetadataProperties") or {}).get(BASELINE_PROPERTY)
    if not baseline_uri:
        _skip(
            f"model package {package_arn} on endpoint {endpoint_name} has no {BASELINE_PROPERTY} "
            "(trained before drift detection was on?): retrain to check it"
        )
    capture_key = f"{drift.capture_prefix}{endpoint_name}/{variant['VariantName']}/"
    listed = aws_client(config, "s3").list_objects_v2(Bucket=config.data_bucket, Prefix=capture_key, MaxKeys=1)
    if not listed.get("KeyCount"):
        # a processing job fails on an S3 input without objects
        _skip(f"endpoint {endpoint_name} has captured no traffic yet (nothing under s3://{config.data_bucket}/{capture_key})")
    since = _time(endpoint["LastModifiedTime"])
    baseline_folder = baseline_uri.rsplit("/", 1)[0] + "/"
    key = run_key(dag_id, run_id)
    resolved = {
        "endpoint_name": endpoint_name,
        "variant_name": variant["VariantName"],
        "endpoint_config_name": endpoint["EndpointConfigName"],
        "model_name": variant["ModelName"],
        "model_package_arn": package_arn,
        "since": since,
        "baseline_uri": baseline_uri,
        "capture_uri": f"s3://{config.data_bucket}/{capture_key}",
        "report_uri": f"{baseline_folder}checks/{key}/",
        "job_name": resource_name(config.pipeline_name, "drift", key),
        "region": sagemaker.meta.region_name,
    }
    log.info(
        "drift check of endpoint %s (variant %s, model package %s): captures since %s against %s; report to %s",
        endpoint_name,
        resolved["variant_name"],
        package_arn,
        since,
        baseline_uri,
        resolved["report_uri"],
    )
    return resolved


def _skip(reason: str) -> None:
    from cdk_mwaa_mlops.compat import AirflowSkipException

    log.info("no drift check in this run: %s", reason)
    raise AirflowSkipException(f"no drift check: {reason}")


def drift_check_job_config(config: PipelineConfig) -> dict[str, Any]:
    """The drift DAG's `drift_check` processing job. It publishes its metrics to CloudWatch, so it runs without
    network isolation."""
    drift = settings(config)
    arguments = [
        "check",
        "--since",
        pulled(RESOLVE, "since"),
        "--psi-threshold",
        str(drift.psi_threshold),
        "--ks-alpha",
        str(drift.ks_alpha),
        "--min-rows",
        str(drift.min_rows),
        "--publish-metrics",
        "--metric-namespace",
        drift.metric_namespace,
        "--dimension",
        f"Pipeline={config.pipeline_name}",
        "--dimension",
        f"Endpoint={config.endpoint_name}",
        "--region",
        pulled(RESOLVE, "region"),
    ]
    inputs = [
        _input("code", drift.script_uri),
        _input("baseline", pulled(RESOLVE, "baseline_uri")),
        _input("capture", pulled(RESOLVE, "capture_uri")),
    ]
    return _job(config, config.drift_dag_id or "", pulled(RESOLVE, "job_name"), arguments, inputs, pulled(RESOLVE, "report_uri"))


def drift_check_arguments(config: PipelineConfig) -> dict[str, Any]:
    """The SageMakerProcessingOperator arguments of the drift check (both modes)."""
    return {"config": drift_check_job_config(config), "action_if_job_exists": "timestamp"}
