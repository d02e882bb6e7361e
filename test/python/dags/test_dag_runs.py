"""Both DAGs run end to end with `dag.test()` in a real Airflow 3, every AWS call going to a moto server on
127.0.0.1 (see aws_stand_in.py): the calls happen in order with the right arguments, a failed quality gate
registers nothing, a package that is not approved deploys nothing, a second run of the same conf succeeds; the long
steps defer and resume as Airflow records it, a failed Glue try is retried by Airflow onto the same job run, and the
registry's approval event reaches this Airflow's API server through the bundled trigger handler and gets 409."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from airflow_records import audit_log_has_task_states, earlier_tries, task_records
from aws_stand_in import AwsStandIn
from cdk_mwaa_mlops.naming import model_package_run_id, state_change_millis

# Every test here runs DAGs end to end, on every Airflow version the DAGs support (.projenrc.ts).
pytestmark = pytest.mark.e2e

ACCOUNT = "123456789012"
REGION = "eu-west-1"
COMMIT = "c0ffee1"
SAMPLE = b"record_id,mean_radius,diagnosis\nr1,1.0,benign\n"
PIPELINE_CONFIGS = Path(__file__).resolve().parents[2] / "fixtures" / "pipelines"
SAMPLE_REGISTRY_EVENT = PIPELINE_CONFIGS.parent / "events" / "sagemaker-model-package-state-change.json"


def manifest(layer: str) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 7023,
                "digest": "sha256:" + "c" * 64,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 32654,
                    "digest": "sha256:" + layer * 64,
                }
            ],
        }
    )


@pytest.fixture(scope="module")
def aws(airflow_db):
    stand_in = AwsStandIn()
    stand_in.start()
    os.environ["AWS_ENDPOINT_URL"] = stand_in.endpoint_url
    s3, ecr, glue, sm = (boto3.client(s) for s in ("s3", "ecr", "glue", "sagemaker"))
    for bucket in ("ml-data", "ml-code"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="ml-data", Key="raw/sample.csv", Body=SAMPLE)
    s3.put_object(Bucket="ml-code", Key=f"preprocessing/{COMMIT}/preprocess.py", Body=b"# staged by the build pipeline")
    for pipeline in ("churn", "fraud"):
        ecr.create_repository(repositoryName=f"{pipeline}-model")
        glue.create_job(
            Name=f"{pipeline}-preprocess",
            Role=f"arn:aws:iam::{ACCOUNT}:role/glue",
            GlueVersion="5.0",
            Command={"Name": "glueetl", "ScriptLocation": "s3://ml-code/run_preprocessing.py", "PythonVersion": "3"},
        )
        sm.create_model_package_group(ModelPackageGroupName=f"{pipeline}-models")
    boto3.client("sns").create_topic(Name="mlops-alerts")
    stand_in.digest = ecr.put_image(repositoryName="churn-model", imageManifest=manifest("a"), imageTag=COMMIT)["image"][
        "imageId"
    ]["imageDigest"]
    yield stand_in
    os.environ.pop("AWS_ENDPOINT_URL", None)
    stand_in.stop()


@pytest.fixture
def calls(aws):
    """The stand-in with a clean call log and the default (passing) evaluation report."""
    aws.calls.clear()
    aws.job_describes.clear()
    aws.roll_back_updates = False
    aws.evaluation = {"binary_classification_metrics": {"auc": {"value": 0.97}, "f1": {"value": 0.91}}}
    return aws


def image_push_conf(digest: str, repository: str = "churn-model") -> dict:
    return {
        "trigger_conf_version": 1,
        "source_kind": "ecr_image_push",
        "event_id": "e-1",
        "image_uri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{repository}@{digest}",
        "image_tag": COMMIT,
        "image_digest": digest,
        "repository_name": repository,
    }


def job_polls(stand_in: AwsStandIn, job: str) -> list[str]:
    """Who described the job (the operator with botocore, its trigger with aiobotocore) and what it was told."""
    who = {"botocore": "operator", "aiobotocore": "trigger"}
    return [f"{who[client]}: {status}" for name, status, client in stand_in.job_describes if name == job]


def run(dagbag, dag_id: str, conf: dict | None = None):
    dag_run = dagbag.get_dag(dag_id).test(run_conf=conf or {})
    return dag_run, {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def failure_reason() -> str:
    """What a failure notification of a run with the wrong repository says (Airflow < 3.3 gives callbacks no error)."""
    from importlib.metadata import version

    from cdk_mwaa_mlops.common import NO_EXCEPTION

    newest = not version("apache-airflow").startswith(("3.0.", "3.2."))
    return "this pipeline trains images of 'churn-model'" if newest else NO_EXCEPTION


def package_count(group: str) -> int:
    return len(boto3.client("sagemaker").list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"])


def test_a_new_image_trains_evaluates_registers_and_starts_the_deployment(dagbag, calls):
    dag_run, states = run(dagbag, "churn_training", image_push_conf(calls.digest))

    assert dag_run.state == "success", states
    assert set(states.values()) == {"success"}
    sagemaker_and_glue = [
        a for a in calls.actions() if a in {"StartJobRun", "CreateTrainingJob", "CreateProcessingJob", "CreateModelPackage"}
    ]
    assert sagemaker_and_glue == ["StartJobRun", "CreateTrainingJob", "CreateProcessingJob", "CreateModelPackage"]

    (glue_run,) = calls.params("StartJobRun")
    assert glue_run["JobName"] == "churn-preprocess"
    arguments = glue_run["Arguments"]
    assert arguments["--input_uri"] == "s3://ml-data/raw/"
    assert arguments["--extra-py-files"] == f"s3://ml-code/preprocessing/{COMMIT}/preprocess.py"
    assert arguments["--output_uri"].startswith("s3://ml-data/processed/churn/")
    assert (arguments["--seed"], arguments["--train_fraction"], arguments["--validation_fraction"]) == ("42", "0.7", "0.15")

    (training,) = calls.params("CreateTrainingJob")
    image = image_push_conf(calls.digest)["image_uri"]
    assert training["AlgorithmSpecification"]["TrainingImage"] == image
    assert training["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == arguments["--output_uri"] + "train/"
    assert training["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/churn-sagemaker"
    assert training["TrainingJobName"].startswith("churn-train-")

    (evaluation,) = calls.params("CreateProcessingJob")
    assert evaluation["AppSpecification"] == {"ImageUri": image, "ContainerEntrypoint": ["python", "-m", "model", "evaluate"]}
    model_input = evaluation["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    assert model_input.endswith(f"{training['TrainingJobName']}/output/model.tar.gz")

    (package,) = calls.params("CreateModelPackage")
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["InferenceSpecification"]["Containers"][0]["Image"] == image
    assert package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == model_input
    assert package["MetadataProperties"]["CommitId"] == COMMIT
    assert package["CustomerMetadataProperties"]["auc"] == "0.97"
    assert (
        package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
        == evaluation["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] + "evaluation.json"
    )
    assert len(package["ClientToken"]) == 36

    # The deployment run has the id the trigger Lambda gives the registry's approval event: one deployment.
    from airflow.models.dagrun import DagRun

    arn = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName="churn-models", SortOrder="Descending")[
        "ModelPackageSummaryList"
    ][0]["ModelPackageArn"]
    (deployment_run,) = DagRun.find(dag_id="churn_deployment")
    described = boto3.client("sagemaker").describe_model_package(ModelPackageName=arn)
    changed = state_change_millis(described)
    assert changed is not None
    assert deployment_run.run_id == model_package_run_id(arn, "churn-models", int(arn.rsplit("/", 1)[1]), "Approved", changed)
    assert deployment_run.conf["model_package_arn"] == arn

    # Training and evaluation deferred (their jobs were still running), their triggers polled the jobs until they
    # completed, and the tasks resumed: as Airflow recorded it, and as the stand-in saw the jobs described.
    records = task_records(dag_run)
    for task_id, job in (("train", training["TrainingJobName"]), ("evaluate", evaluation["ProcessingJobName"])):
        record = records[task_id]
        assert (record.state, record.try_number) == ("success", 1)
        assert record.trigger == "airflow.providers.amazon.aws.triggers.sagemaker.SageMakerTrigger"
        assert record.trigger_kwargs["job_name"] == job
        if audit_log_has_task_states():
            assert record.events == ["running", "deferred", "running", "success"]
        assert job_polls(calls, job) == [
            "operator: InProgress",
            "trigger: InProgress",
            "trigger: Completed",
            "operator: Completed",
        ]


def registry_event(described: dict) -> dict:
    """The event SageMaker sends EventBridge when a package changes state, in its documented shape (the sample of
    test/fixtures/events), with what DescribeModelPackage answers for the package; its times in epoch milliseconds."""
    event = json.loads(SAMPLE_REGISTRY_EVENT.read_text())
    arn = described["ModelPackageArn"]
    event.update(id=f"registry-{arn.rsplit('/', 1)[1]}", account=ACCOUNT, region=REGION, resources=[arn])
    for field in ("ModelPackageGroupName", "ModelPackageVersion", "ModelPackageArn", "ModelPackageStatus"):
        event["detail"][field] = described[field]
    event["detail"]["ModelApprovalStatus"] = described["ModelApprovalStatus"]
    for field in ("CreationTime", "LastModifiedTime"):  # moto gives a package it just created no LastModifiedTime
        if field in described:
            event["detail"][field] = round(described[field].timestamp() * 1000)
        else:
            event["detail"].pop(field, None)
    return event


def newest_package(group: str) -> dict:
    sagemaker = boto3.client("sagemaker")
    listed = sagemaker.list_model_packages(ModelPackageGroupName=group, SortOrder="Descending")["ModelPackageSummaryList"]
    return sagemaker.describe_model_package(ModelPackageName=listed[0]["ModelPackageArn"])


def test_the_registry_event_is_assumed_to_carry_the_state_change_time_describe_model_package_answers(calls):
    """The assumption the deploy-once rule rests on (not provable without AWS): the registry's state-change event carries
    the package's LastModifiedTime (else CreationTime) as DescribeModelPackage answers it, in epoch milliseconds as the
    documented sample does. The training DAG names the deployment run from DescribeModelPackage, the trigger from the
    event: the two runs are one only if these agree."""
    sample = json.loads(SAMPLE_REGISTRY_EVENT.read_text())["detail"]
    assert isinstance(sample["LastModifiedTime"], int) and isinstance(sample["CreationTime"], int)
    described = newest_package("churn-models")
    detail = registry_event(described)["detail"]
    # what the trigger reads (dag-run-request.ts) is what the training DAG read (naming.state_change_millis)
    assert detail.get("LastModifiedTime", detail["CreationTime"]) == state_change_millis(described)


def test_the_registry_s_event_for_the_auto_approved_package_gets_airflow_s_409(dagbag, calls):
    """After the training run started the deployment of its auto-approved package, the registry's approval event
    reaches the bundled trigger handler, whose InvokeRestApi request reaches this Airflow's own API server: Airflow
    answers 409 and the handler counts it as already triggered. One deployment."""
    from airflow.models.dagrun import DagRun
    from airflow_api import airflow_api_server, send_trigger_event

    (queued,) = DagRun.find(dag_id="churn_deployment")  # queued by the training run of the first test
    event = registry_event(newest_package("churn-models"))
    with airflow_api_server() as url:
        sent = send_trigger_event(url, "churn_deployment", event)
    assert sent["result"]["outcome"] == "already_triggered"
    assert sent["result"]["dagRunId"] == queued.run_id
    (request,) = sent["calls"]
    assert (request["Method"], request["Path"], request["Body"]["dag_run_id"]) == (
        "POST",
        "/dags/churn_deployment/dagRuns",
        queued.run_id,
    )
    assert [r.run_id for r in DagRun.find(dag_id="churn_deployment")] == [queued.run_id]


def test_the_deployment_creates_then_updates_the_endpoint_blue_green(dagbag, calls):
    arn = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName="churn-models")["ModelPackageSummaryList"][0][
        "ModelPackageArn"
    ]
    first, states = run(dagbag, "churn_deployment", {"model_package_arn": arn})
    assert first.state == "success", states
    deployment_actions = [a for a in calls.actions("sagemaker") if a.startswith(("Create", "Update"))]
    assert deployment_actions == ["CreateModel", "CreateEndpointConfig", "CreateEndpoint"]
    (model,) = calls.params("CreateModel")
    assert model["PrimaryContainer"] == {"ModelPackageName": arn}
    assert model["EnableNetworkIsolation"] is True
    (config,) = calls.params("CreateEndpointConfig")
    assert config["ProductionVariants"] == [
        {"VariantName": "AllTraffic", "ModelName": model["ModelName"], "InstanceType": "ml.m5.large", "InitialInstanceCount": 2}
    ]
    assert config["KmsKeyId"].startswith("arn:aws:kms:")
    endpoint = boto3.client("sagemaker").describe_endpoint(EndpointName="churn")
    assert (endpoint["EndpointStatus"], endpoint["EndpointConfigName"]) == ("InService", config["EndpointConfigName"])

    calls.calls.clear()
    second, states = run(dagbag, "churn_deployment", {"model_package_arn": arn})
    assert second.state == "success", states
    (new_config,) = calls.params("CreateEndpointConfig")
    assert new_config["EndpointConfigName"] != config["EndpointConfigName"]
    assert calls.endpoint_updates[-1]["EndpointConfigName"] == new_config["EndpointConfigName"]
    shifting = calls.endpoint_updates[-1]["DeploymentConfig"]
    assert shifting["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "LINEAR"
    assert shifting["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": "churn-5xx"}, {"AlarmName": "churn-latency"}]}
    assert (
        boto3.client("sagemaker").describe_endpoint(EndpointName="churn")["EndpointConfigName"]
        == new_config["EndpointConfigName"]
    )


def test_a_deployment_that_rolled_back_fails_the_run(dagbag, calls):
    arn = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName="churn-models")["ModelPackageSummaryList"][0][
        "ModelPackageArn"
    ]
    run(dagbag, "churn_deployment", {"model_package_arn": arn})  # the endpoint exists
    serving = boto3.client("sagemaker").describe_endpoint(EndpointName="churn")["EndpointConfigName"]
    calls.roll_back_updates = True
    dag_run, states = run(dagbag, "churn_deployment", {"model_package_arn": arn})
    assert dag_run.state == "failed"
    assert (states["deploy_endpoint"], states["verify_endpoint"]) == ("success", "failed")
    assert boto3.client("sagemaker").describe_endpoint(EndpointName="churn")["EndpointConfigName"] == serving


def test_a_second_run_of_the_same_conf_succeeds_with_its_own_names(dagbag, calls):
    before = package_count("churn-models")
    first, _ = run(dagbag, "churn_training", image_push_conf(calls.digest))
    second, states = run(dagbag, "churn_training", image_push_conf(calls.digest))
    assert (first.state, second.state) == ("success", "success"), states
    names = [p["TrainingJobName"] for p in calls.params("CreateTrainingJob")]
    outputs = [p["Arguments"]["--output_uri"] for p in calls.params("StartJobRun")]
    assert len(set(names)) == 2 and len(set(outputs)) == 2
    assert package_count("churn-models") == before + 2


def test_a_model_below_the_quality_threshold_is_not_registered(dagbag, calls):
    calls.evaluation = {"binary_classification_metrics": {"auc": {"value": 0.61}}}
    before = package_count("churn-models")
    dag_run, states = run(dagbag, "churn_training", image_push_conf(calls.digest))
    assert dag_run.state == "success"  # a model that is not good enough is an outcome, not an error
    assert states["quality_gate"] == "success"
    assert states["register"] == states["deployment_request"] == states["start_deployment"] == "skipped"
    assert "CreateModelPackage" not in calls.actions()
    assert package_count("churn-models") == before


def test_new_data_trains_the_newest_image_and_a_package_waiting_for_approval_is_never_deployed(dagbag, calls):
    ecr = boto3.client("ecr")
    ecr.put_image(repositoryName="fraud-model", imageManifest=manifest("1"), imageTag="0ld0ld0")
    time.sleep(1.1)  # moto records push times in whole seconds
    newest = ecr.put_image(repositoryName="fraud-model", imageManifest=manifest("2"), imageTag=COMMIT)["image"]["imageId"][
        "imageDigest"
    ]
    s3_conf = {"trigger_conf_version": 1, "source_kind": "s3_object_created", "s3_uri": "s3://ml-data/fraud/raw/new.csv"}
    dag_run, states = run(dagbag, "fraud_training", s3_conf)
    assert dag_run.state == "success", states
    (training,) = calls.params("CreateTrainingJob")
    assert training["AlgorithmSpecification"]["TrainingImage"].endswith(f"/fraud-model@{newest}")
    assert calls.params("StartJobRun")[0]["Arguments"]["--input_uri"] == "s3://ml-data/fraud/raw/new.csv"
    (package,) = calls.params("CreateModelPackage")
    assert package["ModelApprovalStatus"] == "PendingManualApproval"

    pending = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName="fraud-models")["ModelPackageSummaryList"][0][
        "ModelPackageArn"
    ]
    calls.calls.clear()
    refused, states = run(dagbag, "fraud_deployment", {"model_package_arn": pending})
    assert refused.state == "failed"
    assert states["resolve_package"] == "failed"
    assert not [a for a in calls.actions("sagemaker") if a.startswith(("Create", "Update"))]

    calls.calls.clear()
    nothing_approved, _ = run(dagbag, "fraud_deployment")
    assert nothing_approved.state == "failed"
    assert not [a for a in calls.actions("sagemaker") if a.startswith(("Create", "Update"))]


def test_a_failed_task_notifies_the_pipeline_topic(dagbag, calls):
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="mlops-alerts")["TopicArn"]  # exists already: returns its ARN
    queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    wrong_repository = image_push_conf(calls.digest, repository="other-model")
    dag_run, states = run(dagbag, "churn_training", wrong_repository)
    assert dag_run.state == "failed"
    assert states["resolve_run"] == "failed"
    assert "StartJobRun" not in calls.actions()
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
    (message,) = [json.loads(m["Body"]) for m in messages]
    assert message["Subject"] == "cdk-mwaa-mlops: churn failed"
    assert f"Task resolve_run of DAG churn_training failed in run {dag_run.run_id}" in message["Message"]
    assert failure_reason() in message["Message"]


def test_a_failed_task_notifies_a_fifo_topic_too(calls):
    """SNS refuses a FIFO publish without a message group: the notification must still arrive, once per failed try."""
    from cdk_mwaa_mlops.config import parse_config
    from cdk_mwaa_mlops.training import build_training_dag
    from dag_parsing import store_dag

    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="mlops-alerts.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    document = json.loads((PIPELINE_CONFIGS / "churn.json").read_text())
    document.update(pipeline_name="churn-fifo", notification_topic_arn=topic)
    dag = build_training_dag(parse_config("churn-fifo.json", document))
    store_dag(dag)

    dag_run = dag.test(run_conf=image_push_conf(calls.digest, repository="other-model"))
    assert dag_run.state == "failed"
    (publish,) = [{k: v[0] if isinstance(v, list) else v for k, v in p.items()} for p in calls.params("Publish")]
    assert (publish["TargetArn"], publish["MessageGroupId"]) == (topic, "churn-fifo")
    assert len(publish["MessageDeduplicationId"]) == 64
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
    (message,) = [m["Body"] for m in messages]
    assert f"Task resolve_run of DAG churn-fifo_training failed in run {dag_run.run_id}" in message
    assert failure_reason() in message


def test_a_retried_preprocess_task_resumes_the_glue_run_of_the_first_try(calls):
    """The first try starts the Glue job run but never learns its id (StartJobRun answered a timeout): Airflow retries
    the task, and the retry waits for that run (deferred, on GlueJobCompleteTrigger) instead of starting a second one.
    Providers 9.25.0 and 9.34.0 find the run themselves (resume_glue_job_on_retry); 9.12.0 (Airflow 3.0.6) through
    compat.PreprocessOperator."""
    from cdk_mwaa_mlops.config import parse_config
    from cdk_mwaa_mlops.training import build_training_dag
    from dag_parsing import store_dag
    from moto.moto_api import state_manager

    document = json.loads((PIPELINE_CONFIGS / "churn.json").read_text())
    document.update(pipeline_name="churn-retry", retries=1)
    dag = build_training_dag(parse_config("churn-retry.json", document)).partial_subset(
        task_ids=["preprocess"], include_upstream=True, include_downstream=False
    )
    preprocess = dag.get_task("preprocess")
    preprocess.retry_delay, preprocess.retry_exponential_backoff = timedelta(0), False  # MWAA would wait a minute
    store_dag(dag)

    calls.lose_start_job_run_answers.add("churn-preprocess")
    # A job run moves on one state (STARTING, RUNNING, SUCCEEDED) each time it is read: still running at the retry.
    state_manager.set_transition("glue::job_run", {"progression": "manual", "times": 1})
    try:
        dag_run = dag.test(run_conf=image_push_conf(calls.digest))
    finally:
        state_manager.unset_transition("glue::job_run")
        calls.lose_start_job_run_answers.clear()

    assert dag_run.state == "success"
    (started,) = calls.params("StartJobRun")  # one Glue job run for both tries
    (run_id,) = [
        r["Id"]
        for r in boto3.client("glue").get_job_runs(JobName="churn-preprocess")["JobRuns"]
        if r["Arguments"]["--output_uri"] == started["Arguments"]["--output_uri"]
    ]
    record = task_records(dag_run)["preprocess"]
    assert (record.state, record.try_number) == ("success", 2)
    assert earlier_tries(dag_run, "preprocess") == [(1, "failed")]
    assert record.trigger == "airflow.providers.amazon.aws.triggers.glue.GlueJobCompleteTrigger"
    assert record.trigger_kwargs["run_id"] == run_id
    if audit_log_has_task_states():
        assert record.events == ["running", "up_for_retry", "running", "deferred", "running", "success"]
