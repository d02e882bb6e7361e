"""The training DAG: Glue preprocessing -> SageMaker training -> evaluation -> quality gate -> registry.

Run conf (from the trigger Lambda, `trigger_conf_version` 1, or by hand):
- `image_uri` (by digest) and `image_tag` (the commit): train this image; else the newest tagged image of the
  pipeline's repository;
- `s3_uri`: preprocess this raw object; else everything under the raw prefix.

With drift detection (drift.py), a `cool_down` task comes first: a run the drift alarm started (`source_kind`
`cloudwatch_alarm`) skips everything while a training job of the pipeline is recent. And a `drift_baseline`
processing job samples the training split beside training; registration waits for it and records the baseline on
the package.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from airflow.providers.amazon.aws.operators.sagemaker import (
    ApprovalStatus,
    SageMakerProcessingOperator,
    SageMakerRegisterModelVersionOperator,
    SageMakerTrainingOperator,
)
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Param, chain, task

from cdk_mwaa_mlops import drift
from cdk_mwaa_mlops.common import aws_client, dag_arguments, pulled, tags
from cdk_mwaa_mlops.compat import PreprocessOperator
from cdk_mwaa_mlops.config import PipelineConfig
from cdk_mwaa_mlops.naming import client_token, model_package_run_id, resource_name, run_key, state_change_millis

IMAGE_URI = r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+@[a-z0-9]+:[A-Za-z0-9=_-]+$"
METRICS = ("auc", "accuracy", "precision", "recall", "f1")
RESOLVE = "resolve_run"
log = logging.getLogger(__name__)


class RegisterModelVersionOperator(SageMakerRegisterModelVersionOperator):
    """The provider's operator with `extras` templated too: the package's metrics and lineage come from the run."""

    template_fields = (*SageMakerRegisterModelVersionOperator.template_fields, "extras")


def build_training_dag(config: PipelineConfig) -> DAG:
    poll = config.poll_interval_seconds
    with DAG(
        dag_id=config.training_dag_id,
        description=f"cdk-mwaa-mlops {config.pipeline_name}: preprocess, train, evaluate and register a model",
        max_active_runs=config.max_active_runs,
        **dag_arguments(config, "training"),
        params={
            "image_uri": Param(
                None,
                type=["null", "string"],
                pattern=IMAGE_URI,
                description="The model image, pinned by digest; default: the newest tagged image",
            ),
            "image_tag": Param(None, type=["null", "string"], description="The image's tag: the commit of its code"),
            "s3_uri": Param(
                None,
                type=["null", "string"],
                pattern=r"^s3://[^/]+/.+$",
                description="The raw data to preprocess; default: the pipeline's raw prefix",
            ),
        },
        doc_md=__doc__,
    ) as dag:

        @task(task_id=RESOLVE)
        def resolve_run(**context: Any) -> dict[str, str]:
            return resolve_training_run(config, context["params"], context["dag"].dag_id, context["run_id"])

        resolved = resolve_run()

        preprocess = PreprocessOperator(  # a retry resumes the Glue job run of an earlier try (compat.py)
            task_id="preprocess",
            **preprocessing_arguments(config),
            wait_for_completion=True,
            deferrable=True,
            waiter_delay=poll,
        )

        train = SageMakerTrainingOperator(
            task_id="train",
            **training_arguments(config),
            wait_for_completion=True,
            deferrable=True,
            check_interval=poll,
        )

        evaluate = SageMakerProcessingOperator(
            task_id="evaluate",
            **evaluation_arguments(config),
            wait_for_completion=True,
            deferrable=True,
            check_interval=poll,
        )

        @task.short_circuit(task_id="quality_gate", ignore_downstream_trigger_rules=True)
        def quality_gate(**context: Any) -> bool:
            resolved_run = context["ti"].xcom_pull(task_ids=RESOLVE)
            return check_quality_gate(config, resolved_run["evaluation_report"], context["ti"])

        gate = quality_gate()

        register = RegisterModelVersionOperator(task_id="register", **registration_arguments(config))

        chain(resolved, preprocess, train, evaluate, gate, register)

        if config.drift:

            @task.short_circuit(task_id="cool_down", ignore_downstream_trigger_rules=True)
            def cool_down(**context: Any) -> bool:
                go_on, reason = drift.cool_down_verdict(config, context["dag_run"].conf)
                log.info("cool-down: %s", reason)
                return go_on

            baseline = SageMakerProcessingOperator(
                task_id="drift_baseline",
                **drift.baseline_arguments(config),
                wait_for_completion=True,
                deferrable=True,
                check_interval=poll,
            )
            chain(cool_down(), resolved)
            chain(preprocess, baseline, register)

        if config.auto_approve and config.deploys:

            @task(task_id="deployment_request", multiple_outputs=True)
            def deployment_request(**context: Any) -> dict[str, Any]:
                return request_deployment(config, context["ti"].xcom_pull(task_ids="register"))

            request = deployment_request()
            start_deployment = TriggerDagRunOperator(
                task_id="start_deployment",
                trigger_dag_id=config.deployment_dag_id,
                trigger_run_id=request["run_id"],
                conf=request["conf"],
                skip_when_already_exists=True,
                wait_for_completion=False,
            )
            chain(register, request, start_deployment)
    return dag


def preprocessing_arguments(config: PipelineConfig) -> dict[str, Any]:
    """The Glue job run of the preprocess task (both modes; how it is waited for is the mode's)."""
    return {
        "job_name": config.glue_job_name,
        "script_args": {
            "--input_uri": pulled(RESOLVE, "input_uri"),
            "--output_uri": pulled(RESOLVE, "processed_uri"),
            "--extra-py-files": pulled(RESOLVE, "preprocessing_script"),
            "--seed": str(config.split_seed),
            "--train_fraction": str(config.train_fraction),
            "--validation_fraction": str(config.validation_fraction),
        },
        "stop_job_run_on_kill": True,
        "verbose": False,
    }


def training_arguments(config: PipelineConfig) -> dict[str, Any]:
    """The training job of the train task (both modes)."""
    return {
        "config": training_job_config(config),
        "print_log": False,
        "check_if_job_exists": True,
        "action_if_job_exists": "timestamp",  # a retry starts its own job instead of failing on the first one's name
    }


def evaluation_arguments(config: PipelineConfig) -> dict[str, Any]:
    """The evaluation processing job (both modes)."""
    return {"config": evaluation_job_config(config), "action_if_job_exists": "timestamp"}


def registration_arguments(config: PipelineConfig) -> dict[str, Any]:
    """The model package the register task creates (both modes; `ti.dag_id`/`ti.run_id`, which MWAA Serverless renders)."""
    return {
        "image_uri": pulled(RESOLVE, "image_uri"),
        "model_url": pulled("train", "Training", "ModelArtifacts", "S3ModelArtifacts"),
        "package_group_name": config.model_package_group_name,
        "package_desc": f"{config.pipeline_name}: trained by {{{{ ti.dag_id }}}} run {{{{ ti.run_id }}}}",
        "model_approval": ApprovalStatus.APPROVED if config.auto_approve else ApprovalStatus.PENDING_MANUAL_APPROVAL,
        "extras": registration_extras(config),
    }


def resolve_training_run(config: PipelineConfig, params: dict[str, Any], dag_id: str, run_id: str) -> dict[str, str]:
    """Everything this run names: its image, its data, and the S3 locations and job names it creates."""
    from cdk_mwaa_mlops.compat import AirflowFailException

    image_uri, image_tag = params.get("image_uri"), params.get("image_tag")
    if image_uri:
        repository = image_uri.split("/", 1)[1].split("@", 1)[0]
        if repository != config.image_repository_name:
            raise AirflowFailException(
                f"image_uri {image_uri} is from repository '{repository}'; "
                f"this pipeline trains images of '{config.image_repository_name}'"
            )
        if not image_tag:
            raise AirflowFailException(
                f"image_uri {image_uri} came without image_tag: the tag (the commit) names the preprocessing script to run"
            )
    else:
        image_uri, image_tag = newest_image(config)
    key = run_key(dag_id, run_id)
    base = f"{config.pipeline_name}/{key}/"
    artifacts = f"s3://{config.data_bucket}/{config.artifacts_prefix}{base}"
    return {
        "image_uri": image_uri,
        "image_tag": image_tag,
        "input_uri": params.get("s3_uri") or f"s3://{config.data_bucket}/{config.raw_prefix}",
        "processed_uri": f"s3://{config.data_bucket}/{config.processed_prefix}{base}",
        "preprocessing_script": f"{config.script_prefix}{image_tag}/preprocess.py",
        "training_job_name": resource_name(config.pipeline_name, "train", key),
        "training_output_uri": f"{artifacts}training/",
        # spot jobs resume from here after an interruption (and a retried task's job picks up the same checkpoints)
        "checkpoint_uri": f"s3://{config.data_bucket}/{config.checkpoints_prefix}{base}",
        "evaluation_job_name": resource_name(config.pipeline_name, "eval", key),
        "evaluation_uri": f"{artifacts}evaluation/",
        # what the image's `evaluate` writes into evaluation_uri
        "evaluation_report": f"{artifacts}evaluation/evaluation.json",
        "registration_token": client_token(dag_id, run_id, "register"),
        **(drift.baseline_locations(config, dag_id, run_id, artifacts) if config.drift else {}),
    }


def newest_image(config: PipelineConfig) -> tuple[str, str]:
    """The most recently pushed tagged image of the pipeline's repository, as (URI by digest, tag)."""
    from cdk_mwaa_mlops.compat import AirflowFailException

    ecr = aws_client(config, "ecr")
    repository_uri = ecr.describe_repositories(repositoryNames=[config.image_repository_name])["repositories"][0]["repositoryUri"]
    images = [
        image
        for page in ecr.get_paginator("describe_images").paginate(
            repositoryName=config.image_repository_name, filter={"tagStatus": "TAGGED"}
        )
        for image in page["imageDetails"]
    ]
    if not images:
        raise AirflowFailException(
            f"repository '{config.image_repository_name}' has no tagged image yet: "
            "push one (the build pipeline does) or pass image_uri and image_tag"
        )
    newest = max(images, key=lambda image: image["imagePushedAt"])
    return f"{repository_uri}@{newest['imageDigest']}", sorted(newest["imageTags"])[0]


def training_job_config(config: PipelineConfig) -> dict[str, Any]:
    def channel(name: str) -> dict[str, Any]:
        return {
            "ChannelName": name,
            "ContentType": "text/csv",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": pulled(RESOLVE, "processed_uri") + f"{name}/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }

    job: dict[str, Any] = {
        "TrainingJobName": pulled(RESOLVE, "training_job_name"),
        "AlgorithmSpecification": {
            "TrainingImage": pulled(RESOLVE, "image_uri"),
            "TrainingInputMode": "File",
            "MetricDefinitions": [
                {"Name": f"validation:{name}", "Regex": f"validation:{name}=([0-9.eE+-]+);"} for name in METRICS
            ],
        },
        "RoleArn": config.role_arn,
        "InputDataConfig": [channel("train"), channel("validation")],
        "OutputDataConfig": {"S3OutputPath": pulled(RESOLVE, "training_output_uri")},
        "ResourceConfig": {
            "InstanceType": config.training_instance_type,
            "InstanceCount": config.training_instance_count,
            "VolumeSizeInGB": config.training_volume_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": config.training_max_runtime_seconds},
        "HyperParameters": dict(config.hyperparameters),
        "EnableNetworkIsolation": True,
        "Tags": tags(config, config.training_dag_id),
    }
    if config.spot_max_wait_seconds is not None:
        job["EnableManagedSpotTraining"] = True
        job["StoppingCondition"]["MaxWaitTimeInSeconds"] = config.spot_max_wait_seconds
        job["CheckpointConfig"] = {"S3Uri": pulled(RESOLVE, "checkpoint_uri"), "LocalPath": "/opt/ml/checkpoints"}
    if config.kms_key_arn:
        job["OutputDataConfig"]["KmsKeyId"] = config.kms_key_arn
        job["ResourceConfig"]["VolumeKmsKeyId"] = config.kms_key_arn
    return job


def evaluation_job_config(config: PipelineConfig) -> dict[str, Any]:
    def processing_input(name: str, uri: str, kind: str) -> dict[str, Any]:
        return {
            "InputName": name,
            "S3Input": {
                "S3Uri": uri,
                "LocalPath": f"/opt/ml/processing/{name}",
                "S3DataType": kind,
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
            },
        }

    output: dict[str, Any] = {
        "OutputName": "evaluation",
        "S3Output": {
            "S3Uri": pulled(RESOLVE, "evaluation_uri"),
            "LocalPath": "/opt/ml/processing/evaluation",
            "S3UploadMode": "EndOfJob",
        },
    }
    job: dict[str, Any] = {
        "ProcessingJobName": pulled(RESOLVE, "evaluation_job_name"),
        "RoleArn": config.role_arn,
        "AppSpecification": {
            "ImageUri": pulled(RESOLVE, "image_uri"),
            "ContainerEntrypoint": ["python", "-m", "model", "evaluate"],
        },
        "ProcessingInputs": [
            processing_input("model", pulled("train", "Training", "ModelArtifacts", "S3ModelArtifacts"), "S3Prefix"),
            processing_input("test", pulled(RESOLVE, "processed_uri") + "test/", "S3Prefix"),
        ],
        "ProcessingOutputConfig": {"Outputs": [output]},
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": config.evaluation_instance_type,
                "VolumeSizeInGB": 30,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "NetworkConfig": {"EnableNetworkIsolation": True},
        "Tags": tags(config, config.training_dag_id),
    }
    if config.kms_key_arn:
        job["ProcessingOutputConfig"]["KmsKeyId"] = config.kms_key_arn
        job["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] = config.kms_key_arn
    return job


def read_metric(evaluation: dict[str, Any], metric: str) -> float:
    """The metric's value from an evaluation report (`{"<kind>_metrics": {"<name>": {"value": x}}}`)."""
    found = {
        name: entry["value"]
        for group, entries in evaluation.items()
        if group.endswith("_metrics") and isinstance(entries, dict)
        for name, entry in entries.items()
        if isinstance(entry, dict) and isinstance(entry.get("value"), (int, float))
    }
    if metric not in found:
        raise KeyError(f"the evaluation report has no metric '{metric}' (it has {sorted(found) or 'none'})")
    return float(found[metric])


#: The gate's XCom key for the metric's value (registration copies it onto the package).
METRIC_VALUE = "metric_value"


def quality_gate_verdict(config: PipelineConfig, report_uri: str) -> tuple[bool, float]:
    """Whether the evaluation report's metric passes the gate, and its value (logged either way)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from cdk_mwaa_mlops.compat import AirflowFailException

    bucket, key = S3Hook.parse_s3_url(report_uri)
    try:
        report = json.loads(S3Hook(aws_conn_id=config.aws_conn_id).read_key(key, bucket))
        value = read_metric(report, config.metric)
    except (KeyError, ValueError) as error:
        raise AirflowFailException(f"{report_uri}: {error}") from None
    passed = value >= config.threshold if config.comparison == "GreaterThanOrEqualTo" else value <= config.threshold
    verdict = "passes" if passed else "fails"
    log.info(
        "quality gate %s: %s = %s, required %s %s; %s",
        verdict,
        config.metric,
        value,
        config.comparison,
        config.threshold,
        "registering the model" if passed else "nothing is registered",
    )
    return passed, value


def check_quality_gate(config: PipelineConfig, report_uri: str, ti: Any) -> bool:
    passed, value = quality_gate_verdict(config, report_uri)
    ti.xcom_push(key=METRIC_VALUE, value=value)
    return passed


def registration_extras(config: PipelineConfig) -> dict[str, Any]:
    """Metrics and lineage on the model package; the client token makes a retried registration return the same package."""
    return {
        "ClientToken": pulled(RESOLVE, "registration_token"),
        "ModelMetrics": {
            "ModelQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": pulled(RESOLVE, "evaluation_report"),
                }
            }
        },
        "MetadataProperties": {
            "CommitId": pulled(RESOLVE, "image_tag"),
            "GeneratedBy": "cdk-mwaa-mlops {{ ti.dag_id }} {{ ti.run_id }}",
        },
        "CustomerMetadataProperties": {
            "image_uri": pulled(RESOLVE, "image_uri"),
            "commit": pulled(RESOLVE, "image_tag"),
            "raw_data_uri": pulled(RESOLVE, "input_uri"),
            "processed_data_uri": pulled(RESOLVE, "processed_uri"),
            "training_job_name": pulled("train", "Training", "TrainingJobName"),
            config.metric: f"{{{{ ti.xcom_pull(task_ids='quality_gate', key={METRIC_VALUE!r}) }}}}",
            **({drift.BASELINE_PROPERTY: pulled(RESOLVE, "drift_baseline_uri")} if config.drift else {}),
        },
        "Tags": tags(config, config.training_dag_id),
    }


def request_deployment(config: PipelineConfig, package_arn: str) -> dict[str, Any]:
    """The deployment run for an approved package, with the id the trigger Lambda would give its approval event."""
    from cdk_mwaa_mlops.compat import AirflowSkipException

    package = aws_client(config, "sagemaker").describe_model_package(ModelPackageName=package_arn)
    status = package["ModelApprovalStatus"]
    if status != "Approved":
        raise AirflowSkipException(f"{package_arn} is {status}; it deploys when approved")
    version = package.get("ModelPackageVersion")
    return {
        "run_id": model_package_run_id(
            package_arn, config.model_package_group_name, version, status, state_change_millis(package)
        ),
        "conf": {
            "trigger_conf_version": 1,
            "source_kind": "model_package_state_change",
            "model_package_arn": package_arn,
            "model_package_group_name": config.model_package_group_name,
            "model_package_version": version,
            "model_approval_status": status,
        },
    }
