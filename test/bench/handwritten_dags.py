"""The fair baseline of the DAG parse bench: the churn pipeline's training and deployment DAGs (test/fixtures/pipelines/
churn.json) written by hand in one file, with the same provider operators, arguments, callbacks and params as
cdk_mwaa_mlops_dags.py builds from that config, but without the config file, its validation or the builders.
(The task callables do nothing here: a callable's body costs nothing at parse time.) Airflow parses a file only if
it mentions "airflow" and "dag", as this docstring does.
"""

import inspect
from datetime import UTC, datetime, timedelta

from airflow.providers.amazon.aws.notifications.sns import SnsNotifier
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.amazon.aws.operators.sagemaker import (
    ApprovalStatus,
    SageMakerEndpointConfigOperator,
    SageMakerEndpointOperator,
    SageMakerModelOperator,
    SageMakerProcessingOperator,
    SageMakerRegisterModelVersionOperator,
    SageMakerTrainingOperator,
)
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Param, chain, task

KMS = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::123456789012:role/churn-sagemaker"
RUN = "{{ ti.xcom_pull(task_ids='resolve_run')"
PACKAGE = "{{ ti.xcom_pull(task_ids='resolve_package')"
# Provider 9.12.0 (Airflow 3.0.6) has no resume_glue_job_on_retry; a hand-written DAG would leave it out there.
RESUME = (
    {"resume_glue_job_on_retry": True}
    if "resume_glue_job_on_retry" in inspect.signature(GlueJobOperator.__init__).parameters
    else {}
)


def default_args(dag_id: str) -> dict:
    return {
        "owner": "cdk-mwaa-mlops",
        "retries": 0,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "aws_conn_id": "aws_default",
        "on_failure_callback": [
            SnsNotifier(
                aws_conn_id="aws_default",
                target_arn="arn:aws:sns:eu-west-1:123456789012:mlops-alerts",
                subject="cdk-mwaa-mlops: churn failed",
                message=(
                    "Task {{ ti.task_id }} of DAG {{ dag.dag_id }} failed in run {{ run_id }} (try {{ ti.try_number }}): "
                    "{{ exception | default('(this Airflow version passes no error to failure callbacks: see the log)') }}\n"
                    "Log: {{ ti.log_url }}"
                ),
            )
        ],
    }


def tags(dag_id: str) -> list:
    return [{"Key": "cdk-mwaa-mlops:pipeline", "Value": "churn"}, {"Key": "cdk-mwaa-mlops:dag", "Value": dag_id}]


with DAG(
    dag_id="churn_training",
    description="cdk-mwaa-mlops churn: preprocess, train, evaluate and register a model",
    max_active_runs=1,
    schedule=None,
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    default_args=default_args("churn_training"),
    tags=["cdk-mwaa-mlops", "churn", "training"],
    params={
        "image_uri": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+@[a-z0-9]+:[A-Za-z0-9=_-]+$",
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
):

    @task(task_id="resolve_run")
    def resolve_run(**context) -> dict:
        return {}

    preprocess = GlueJobOperator(
        task_id="preprocess",
        job_name="churn-preprocess",
        script_args={
            "--input_uri": RUN + "['input_uri'] }}",
            "--output_uri": RUN + "['processed_uri'] }}",
            "--extra-py-files": RUN + "['preprocessing_script'] }}",
            "--seed": "42",
            "--train_fraction": "0.7",
            "--validation_fraction": "0.15",
        },
        wait_for_completion=True,
        deferrable=True,
        waiter_delay=1,
        stop_job_run_on_kill=True,
        verbose=False,
        **RESUME,
    )
    train = SageMakerTrainingOperator(
        task_id="train",
        config={
            "TrainingJobName": RUN + "['training_job_name'] }}",
            "AlgorithmSpecification": {
                "TrainingImage": RUN + "['image_uri'] }}",
                "TrainingInputMode": "File",
                "MetricDefinitions": [
                    {"Name": f"validation:{name}", "Regex": f"validation:{name}=([0-9.eE+-]+);"}
                    for name in ("auc", "accuracy", "precision", "recall", "f1")
                ],
            },
            "RoleArn": ROLE,
            "InputDataConfig": [
                {
                    "ChannelName": channel,
                    "ContentType": "text/csv",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": RUN + f"['processed_uri'] }}}}{channel}/",
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                }
                for channel in ("train", "validation")
            ],
            "OutputDataConfig": {"S3OutputPath": RUN + "['training_output_uri'] }}", "KmsKeyId": KMS},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30, "VolumeKmsKeyId": KMS},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            "HyperParameters": {"C": "0.5"},
            "EnableNetworkIsolation": True,
            "Tags": tags("churn_training"),
        },
        wait_for_completion=True,
        deferrable=True,
        check_interval=1,
        print_log=False,
        check_if_job_exists=True,
        action_if_job_exists="timestamp",
    )
    evaluate = SageMakerProcessingOperator(
        task_id="evaluate",
        config={
            "ProcessingJobName": RUN + "['evaluation_job_name'] }}",
            "RoleArn": ROLE,
            "AppSpecification": {
                "ImageUri": RUN + "['image_uri'] }}",
                "ContainerEntrypoint": ["python", "-m", "model", "evaluate"],
            },
            "ProcessingInputs": [
                {
                    "InputName": name,
                    "S3Input": {
                        "S3Uri": uri,
                        "LocalPath": f"/opt/ml/processing/{name}",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                    },
                }
                for name, uri in (
                    ("model", "{{ ti.xcom_pull(task_ids='train')['Training']['ModelArtifacts']['S3ModelArtifacts'] }}"),
                    ("test", RUN + "['processed_uri'] }}test/"),
                )
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "evaluation",
                        "S3Output": {
                            "S3Uri": RUN + "['evaluation_uri'] }}",
                            "LocalPath": "/opt/ml/processing/evaluation",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ],
                "KmsKeyId": KMS,
            },
            "ProcessingResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30, "VolumeKmsKeyId": KMS}
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            "NetworkConfig": {"EnableNetworkIsolation": True},
            "Tags": tags("churn_training"),
        },
        wait_for_completion=True,
        deferrable=True,
        check_interval=1,
        action_if_job_exists="timestamp",
    )

    @task.short_circuit(task_id="quality_gate", ignore_downstream_trigger_rules=True)
    def quality_gate(**context) -> bool:
        return True

    class RegisterModelVersionOperator(SageMakerRegisterModelVersionOperator):
        template_fields = (*SageMakerRegisterModelVersionOperator.template_fields, "extras")

    register = RegisterModelVersionOperator(
        task_id="register",
        image_uri=RUN + "['image_uri'] }}",
        model_url="{{ ti.xcom_pull(task_ids='train')['Training']['ModelArtifacts']['S3ModelArtifacts'] }}",
        package_group_name="churn-models",
        package_desc="churn: trained by {{ dag.dag_id }} run {{ run_id }}",
        model_approval=ApprovalStatus.APPROVED,
        extras={
            "ClientToken": RUN + "['registration_token'] }}",
            "ModelMetrics": {
                "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": RUN + "['evaluation_report'] }}"}}
            },
            "MetadataProperties": {
                "CommitId": RUN + "['image_tag'] }}",
                "GeneratedBy": "cdk-mwaa-mlops {{ dag.dag_id }} {{ run_id }}",
            },
            "CustomerMetadataProperties": {
                "image_uri": RUN + "['image_uri'] }}",
                "commit": RUN + "['image_tag'] }}",
                "raw_data_uri": RUN + "['input_uri'] }}",
                "processed_data_uri": RUN + "['processed_uri'] }}",
                "training_job_name": "{{ ti.xcom_pull(task_ids='train')['Training']['TrainingJobName'] }}",
                "auc": "{{ ti.xcom_pull(task_ids='quality_gate', key='metric_value') }}",
            },
            "Tags": tags("churn_training"),
        },
    )

    @task(task_id="deployment_request", multiple_outputs=True)
    def deployment_request(**context) -> dict:
        return {}

    request = deployment_request()
    start_deployment = TriggerDagRunOperator(
        task_id="start_deployment",
        trigger_dag_id="churn_deployment",
        trigger_run_id=request["run_id"],
        conf=request["conf"],
        skip_when_already_exists=True,
        wait_for_completion=False,
    )
    chain(resolve_run(), preprocess, train, evaluate, quality_gate(), register, request, start_deployment)


with DAG(
    dag_id="churn_deployment",
    description="cdk-mwaa-mlops churn: deploy an approved model package to churn",
    max_active_runs=1,
    schedule=None,
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    default_args=default_args("churn_deployment"),
    tags=["cdk-mwaa-mlops", "churn", "deployment"],
    params={
        "model_package_arn": Param(
            None,
            type=["null", "string"],
            pattern=r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[^/]+/\d+$",
            description="The package to deploy; default: the newest approved one",
        ),
    },
    doc_md=__doc__,
):

    @task(task_id="resolve_package")
    def resolve_package(**context) -> dict:
        return {}

    model = SageMakerModelOperator(
        task_id="create_model",
        config={
            "ModelName": PACKAGE + "['model_name'] }}-t{{ ti.try_number }}",
            "PrimaryContainer": {"ModelPackageName": PACKAGE + "['model_package_arn'] }}"},
            "ExecutionRoleArn": ROLE,
            "EnableNetworkIsolation": True,
            "Tags": tags("churn_deployment"),
        },
    )
    endpoint_config = SageMakerEndpointConfigOperator(
        task_id="create_endpoint_config",
        config={
            "EndpointConfigName": PACKAGE + "['endpoint_config_name'] }}-t{{ ti.try_number }}",
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "{{ ti.xcom_pull(task_ids='create_model')['Model']['ModelName'] }}",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 2,
                }
            ],
            "Tags": tags("churn_deployment"),
            "KmsKeyId": KMS,
        },
    )
    deploy = SageMakerEndpointOperator(
        task_id="deploy_endpoint",
        config={
            "EndpointName": "churn",
            "EndpointConfigName": "{{ ti.xcom_pull(task_ids='create_endpoint_config')['EndpointConfig']['EndpointConfigName'] }}",
            "Tags": tags("churn_deployment"),
            "DeploymentConfig": {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "LINEAR",
                        "WaitIntervalInSeconds": 120,
                        "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
                    },
                    "TerminationWaitInSeconds": 300,
                },
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-5xx"}, {"AlarmName": "churn-latency"}]},
            },
        },
        operation="create",
        wait_for_completion=True,
        deferrable=True,
        check_interval=1,
    )

    @task(task_id="verify_endpoint")
    def verify_endpoint(**context) -> str:
        return ""

    chain(resolve_package(), model, endpoint_config, deploy, verify_endpoint())
