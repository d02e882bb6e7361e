"""Drift detection end to end (issue 21): the app of test/ml/apps/drift-e2e-app.ts (two MwaaMlopsPipelines with drift
detection on one environment) is synthesized; pipeline `watch`'s config drives the shipped DAGs in a real Airflow 3,
every AWS call goes to the moto stand-in (aws_stand_in.py), and the trigger's events go through the BUNDLED trigger
handler to a real Airflow API server (airflow_api.py), with the rules, alarm and DAG ids the CDK synthesized.

The loop: a training run registers the model with its baseline; a person approves; the deployment captures the
endpoint's traffic; the drift schedule's event starts `watch_drift`, which resolves the deployed package's baseline
and submits the check; the check's metric reaches CloudWatch; the drift alarm's state change starts exactly one
training run, which trains; a second state change inside the cool-down starts a run that trains nothing; a
redelivered event starts nothing. Then IAM: every call the runs made is evaluated against the synthesized roles.

What moto cannot do is done by the test and said where: moto runs no job (the baseline and the drift check are run
here with the shipped drift_check.py on the job's inputs, as the processing jobs would, and the check's metrics are
put to moto's CloudWatch from here), and evaluates no alarm (its state is set with SetAlarmState, and the
state-change event is built from the moto alarm in AWS's documented shape).
Runs the trigger started are executed in this process by dag.test()'s own loop, handed the started run (`execute`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import subprocess
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from aws_stand_in import AwsStandIn
from cloud_assembly import ROOT, Stack, synthesize
from dag_parsing import bundle_dag_bag, store_dag, sync_to_db
from iam_requests import Call, Request, container_requests_for, evaluate, requests_for
from server_log import ServerLog
from test_workflow_e2e import Recorder, Recording, _manifest, _translate, _unreconciled

pytestmark = pytest.mark.e2e

ACCOUNT, REGION = "123456789012", "eu-west-1"
COMMIT = "feedc0de"
SCHEMA = json.loads((ROOT / "assets" / "dags" / "cdk_mwaa_mlops" / "pipeline_config.schema.json").read_text())
DRIFT_CHECK = ROOT / "assets" / "drift" / "drift_check.py"
#: the drift job's Python (numpy, scipy, boto3, as the SageMaker scikit-learn image has): the tool venv; the Airflow
#: version venvs have no scipy, and the job does not depend on the Airflow version
JOB_PYTHON = ROOT / ".venv" / "bin" / "python"
FEATURES = ("feature_1", "feature_2", "feature_3")  # drift_check.py baseline's names for a split without names


# ---- the app, its configs and the DAGs ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    outdir = synthesize("test/ml/apps/drift-e2e-app.ts", tmp_path_factory.mktemp("drift-e2e.out"))
    return Stack(outdir, "DriftE2E", ACCOUNT, REGION)


@pytest.fixture(scope="module")
def pipelines(stack) -> dict[str, dict]:
    found = {}
    for output in ("WatchDags", "OtherDags"):
        info = json.loads(stack.output(output))
        info["config"] = json.loads(stack.dag_file(f"cdk_mwaa_mlops_pipelines/{info['pipeline']}.json"))
        found[info["pipeline"]] = info
    return found


@pytest.fixture(scope="module")
def dagbag(airflow_db, pipelines):
    """The configs in the test Airflow's DAG folder (dag.test() and the API server read the bundle), removed after."""
    written = []
    for name, info in pipelines.items():
        path = airflow_db / "cdk_mwaa_mlops_pipelines" / f"{name}.json"
        path.write_text(json.dumps(info["config"]))
        written.append(path)
    bag = bundle_dag_bag(airflow_db, airflow_db)
    sync_to_db(bag)
    yield bag
    for path in written:
        path.unlink()


def test_the_config_the_cdk_wrote_follows_the_schema_and_the_dag_file_builds_the_construct_s_dag_ids(dagbag, pipelines):
    assert dagbag.import_errors == {}
    for info in pipelines.values():
        assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(info["config"])) == []
        assert {info["training"], info["deployment"], info["drift"]} <= set(dagbag.dag_ids)
    drift = pipelines["watch"]["config"]["drift"]
    assert (drift["min_rows"], drift["cool_down_seconds"], drift["capture_prefix"]) == (50, 43200, "capture/watch/")


def parsed(info: dict):
    from cdk_mwaa_mlops.config import parse_config

    return parse_config(f"{info['pipeline']}.json", info["config"])


def build(info: dict, kind: str):
    """The DAG built anew from the config (a DAG that ran keeps its notifier's rendered message and AWS client, which
    Airflow 3.0 cannot copy), stored as the DAG processor stores it."""
    from cdk_mwaa_mlops.deployment import build_deployment_dag
    from cdk_mwaa_mlops.drift_dag import build_drift_dag
    from cdk_mwaa_mlops.training import build_training_dag

    dag = {"training": build_training_dag, "deployment": build_deployment_dag, "drift": build_drift_dag}[kind](parsed(info))
    assert dag.dag_id == info[kind]
    store_dag(dag)
    return dag


@contextlib.contextmanager
def handing_over(run_id: str) -> Iterator[None]:
    """dag.test() runs one DAG run with the minimal scheduler loop Airflow ships for it, but creates that run itself
    (replacing a run with the same logical date). Here its run-creating helper hands it the run the trigger started
    through the API instead (queued -> running), so that run, with its id and conf, is the one executed."""
    import airflow.models.dag as dag_module
    import airflow.models.dagrun as dagrun_module
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    module, name = (
        (dagrun_module, "get_or_create_dagrun")  # Airflow >= 3.1
        if hasattr(dagrun_module, "get_or_create_dagrun")
        else (dag_module, "_get_or_create_dagrun")  # Airflow 3.0
    )
    original = getattr(module, name)

    def hand_over(*, dag, session, **_):
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag.dag_id, DagRun.run_id == run_id))
        assert run is not None and run.state == "queued", (run_id, run and run.state)
        run.state = "running"
        run.start_date = datetime.now(UTC)
        session.commit()
        run.dag = dag
        return run

    setattr(module, name, hand_over)
    try:
        yield
    finally:
        setattr(module, name, original)


def states_of(dag_run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def xcom(dag_run, task_id: str):
    (ti,) = [ti for ti in dag_run.get_task_instances() if ti.task_id == task_id]
    return ti.xcom_pull(task_ids=task_id)


def run_ids(dag_id: str) -> set[str]:
    from airflow.models.dagrun import DagRun

    return {r.run_id for r in DagRun.find(dag_id=dag_id)}


# ---- AWS, as moto plays it ---------------------------------------------------------------------------------------
@dataclass
class World:
    stand_in: AwsStandIn
    recorder: Recorder
    server_log: ServerLog
    #: the calls of each phase (label): those the runs made, the stand-in's own, and what moto answered meanwhile
    phases: dict[str, Recording] = field(default_factory=dict)
    #: what the drift job calls (its PutMetricData, made here for it)
    job_calls: list[Call] = field(default_factory=list)


@pytest.fixture(scope="module")
def aws(dagbag, pipelines, stack, tmp_path_factory) -> Iterator[World]:
    server_log = ServerLog(tmp_path_factory.mktemp("moto") / "requests.jsonl")
    server_log.install()
    stand_in = AwsStandIn()
    stand_in.start()
    # moto's backends live in this process: start from an empty AWS, and leave one (other proofs use the same names).
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    recorder = Recorder(server_log)
    recorder.start()
    os.environ["AWS_ENDPOINT_URL"] = stand_in.endpoint_url
    info, config = pipelines["watch"], pipelines["watch"]["config"]
    s3, ecr, glue, sm = (boto3.client(s) for s in ("s3", "ecr", "glue", "sagemaker"))
    code_bucket, code_prefix = config["preprocessing"]["script_prefix"][5:].split("/", 1)
    for bucket in (config["data"]["bucket"], code_bucket):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=code_bucket, Key=f"{code_prefix}{COMMIT}/preprocess.py", Body=b"# staged")
    s3.put_object(Bucket=config["data"]["bucket"], Key=f"{config['data']['raw_prefix']}sample.csv", Body=b"id,x\n1,2\n")
    script_bucket, script_key = config["drift"]["script_uri"][5:].split("/", 1)
    s3.put_object(Bucket=script_bucket, Key=script_key, Body=DRIFT_CHECK.read_bytes())  # what the CDK stages there
    repository = config["training"]["image_repository_name"]
    ecr.create_repository(repositoryName=repository)
    pushed = ecr.put_image(repositoryName=repository, imageManifest=_manifest("w"), imageTag=COMMIT)
    info["digest"] = pushed["image"]["imageId"]["imageDigest"]
    glue.create_job(
        Name=config["preprocessing"]["glue_job_name"],
        Role=f"arn:aws:iam::{ACCOUNT}:role/glue",
        GlueVersion="5.0",
        Command={"Name": "glueetl", "ScriptLocation": "s3://assets/run_preprocessing.py", "PythonVersion": "3"},
    )
    sm.create_model_package_group(ModelPackageGroupName=config["registry"]["model_package_group_name"])
    boto3.client("sns").create_topic(Name=config["notification_topic_arn"].rsplit(":", 1)[1])
    # The drift alarm as the template defines it (its props are PutMetricAlarm's parameters).
    boto3.client("cloudwatch").put_metric_alarm(**stack.resolve(stack.resources[info["driftAlarm"]]["Properties"]))
    recorder.clear()
    yield World(stand_in, recorder, server_log)
    recorder.stop()
    os.environ.pop("AWS_ENDPOINT_URL", None)
    urllib.request.urlopen(urllib.request.Request(f"{stand_in.endpoint_url}/moto-api/reset", method="POST")).close()
    stand_in.stop()
    server_log.uninstall()


@contextlib.contextmanager
def phase(world: World, label: str) -> Iterator[None]:
    world.recorder.clear()
    with world.recorder.run():
        yield
    world.phases[label] = Recording(list(world.recorder.calls), list(world.recorder.emulated), list(world.recorder.answered))


def created(calls: list[Call]) -> list[str]:
    wanted = {"StartJobRun", "CreateTrainingJob", "CreateProcessingJob", "CreateModelPackage", "CreateEndpoint"}
    return [c.action for c in calls if c.action in wanted]


def params(calls: list[Call], action: str) -> list[dict]:
    return [c.params for c in calls if c.action == action]


# ---- the trigger's rules and events --------------------------------------------------------------------------------
def trigger_rules(stack: Stack) -> dict[str, dict]:
    """The trigger's rules: logical id -> {pattern (resolved), schedule, template (the target's input template)}."""
    rules = {}
    for logical_id, resource in stack.resources.items():
        props = resource["Properties"] if resource["Type"] == "AWS::Events::Rule" else {}
        targets = props.get("Targets", [])
        if not targets or "TriggerFunction" not in json.dumps(targets[0]["Arn"]):
            continue
        rules[logical_id] = {
            "pattern": stack.resolve(props.get("EventPattern")),
            "schedule": props.get("ScheduleExpression"),
            "template": targets[0]["InputTransformer"]["InputTemplate"],
        }
    return rules


def matches(pattern: dict, event: dict) -> bool:
    """moto's EventBridge pattern matcher (the one its PutEvents routes with)."""
    from moto.events.models import EventPattern

    return EventPattern.load(json.dumps(pattern)).matches_event(event)


def rule_input(rule_name: str, rule: dict, event: dict) -> dict:
    """What EventBridge hands the trigger function: the rule's input template with the rule's name and the event."""
    template = rule["template"].replace("<aws.events.rule-name>", rule_name)
    return json.loads(template.replace("<aws.events.event.json>", json.dumps(event)))


def _cloudwatch_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def alarm_event(alarm: dict, previous: dict) -> dict:
    """CloudWatch's "Alarm State Change" event for the moto alarm's current state, `previous` being the alarm as
    described before the change, in the documented shape (test/events/samples/cloudwatch-alarm-state-change.json,
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html)."""

    def state(described: dict) -> dict:
        found = {
            "reason": described["StateReason"],
            "timestamp": _cloudwatch_time(described["StateUpdatedTimestamp"]),
            "value": described["StateValue"],
        }
        if described.get("StateReasonData"):
            found["reasonData"] = described["StateReasonData"]
        return found

    metric = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, alarm["AlarmArn"])),
        "metricStat": {
            "metric": {
                "dimensions": {d["Name"]: d["Value"] for d in alarm["Dimensions"]},
                "name": alarm["MetricName"],
                "namespace": alarm["Namespace"],
            },
            "period": alarm["Period"],
            "stat": alarm["Statistic"],
        },
        "returnData": True,
    }
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": ACCOUNT,
        "time": alarm["StateUpdatedTimestamp"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [alarm["AlarmArn"]],
        "detail": {
            "alarmName": alarm["AlarmName"],
            "configuration": {"description": alarm.get("AlarmDescription", ""), "metrics": [metric]},
            "previousState": state(previous),
            "state": state(alarm),
        },
    }


def scheduled_event(rule_name: str, at: datetime) -> dict:
    """EventBridge's "Scheduled Event" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }


# ---- what moto does not run: the drift jobs' work, with the shipped script -----------------------------------------
def training_split(rows: int, seed: int) -> str:
    """A headerless, label-first training split of the three features (what preprocessing writes to train/)."""
    rng = random.Random(seed)
    lines = []
    for _ in range(rows):
        values = (rng.gauss(0, 1), rng.gauss(5, 2), rng.uniform(0, 10))
        lines.append(",".join([str(rng.randint(0, 1)), *(f"{v:.5f}" for v in values)]))
    return "\n".join(lines) + "\n"


def capture_record(row: tuple[float, ...], at: datetime) -> dict:
    """One invocation as SageMaker's data capture writes it (JSON Lines, CSV encoding for text/csv:
    https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html)."""
    return {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": ",".join(f"{v:.5f}" for v in row) + "\n",
                "encoding": "CSV",
            },
            "endpointOutput": {
                "observedContentType": "text/csv; charset=utf-8",
                "mode": "OUTPUT",
                "data": "0.5\n",
                "encoding": "CSV",
            },
        },
        "eventMetadata": {"eventId": str(uuid.uuid4()), "inferenceTime": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"},
        "eventVersion": "0",
    }


def put_captures(bucket: str, prefix: str, records: list[dict]) -> list[str]:
    """The records in hourly files `<prefix>yyyy/mm/dd/hh/<mm>-<ss>-<ms>-<uuid>.jsonl`, as SageMaker names them."""
    by_hour: dict[str, list[dict]] = {}
    for record in sorted(records, key=lambda r: r["eventMetadata"]["inferenceTime"]):
        by_hour.setdefault(record["eventMetadata"]["inferenceTime"][:13], []).append(record)
    keys = []
    for found in by_hour.values():
        at = datetime.strptime(found[0]["eventMetadata"]["inferenceTime"], "%Y-%m-%dT%H:%M:%S.%fZ")
        keys.append(f"{prefix}{at:%Y/%m/%d/%H/%M-%S}-{at.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl")
        boto3.client("s3").put_object(Bucket=bucket, Key=keys[-1], Body="".join(json.dumps(r) + "\n" for r in found).encode())
    return keys


def download(uri: str, into: Path) -> Path:
    """Every object under an S3 prefix (or the one object a URI names) into a folder, as a processing input is."""
    s3 = boto3.client("s3")
    bucket, _, prefix = uri[5:].partition("/")
    for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
        relative = item["Key"][len(prefix) :].lstrip("/") or item["Key"].rsplit("/", 1)[1]
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
    return into


def run_job_script(arguments: list[str], endpoint_url: str) -> None:
    """drift_check.py with `arguments` in the job's Python (against moto, should it call AWS)."""
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint_url}
    done = subprocess.run([str(JOB_PYTHON), str(DRIFT_CHECK), *arguments], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


# ---- the loop ------------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    first_package: str = ""
    retrained_package: str = ""
    states: dict[str, dict] = field(default_factory=dict)
    sent: dict[str, dict] = field(default_factory=dict)
    started: dict[str, Any] = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    rule_names: dict[str, str] = field(default_factory=dict)
    #: the runs each event sent to the trigger started (in the Airflow database)
    runs_started: dict[str, list[str]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def outcome(aws, dagbag, pipelines, stack, tmp_path_factory) -> Outcome:
    from airflow_api import airflow_api_server, send_trigger_event

    info, config = pipelines["watch"], pipelines["watch"]["config"]
    bucket, drift = config["data"]["bucket"], config["drift"]
    sagemaker, cloudwatch, s3 = boto3.client("sagemaker"), boto3.client("cloudwatch"), boto3.client("s3")
    result = Outcome()
    work = tmp_path_factory.mktemp("drift-job")
    log_capture = LogCapture()

    def newest_package() -> str:
        group = config["registry"]["model_package_group_name"]
        listed = sagemaker.list_model_packages(ModelPackageGroupName=group, SortOrder="Descending")
        return listed["ModelPackageSummaryList"][0]["ModelPackageArn"]

    def run_direct(kind: str, conf: dict, label: str):
        with phase(aws, label), log_capture.into(result.logs, label):
            dag_run = build(info, kind).test(run_conf=conf)
        result.states[label] = states_of(dag_run)
        assert dag_run.state == "success", (label, result.states[label])
        return dag_run

    def send(url: str, label: str, dag_id: str, event: dict, rule_name: str) -> set[str]:
        """The event through the bundled handler, as the rule's target hands it over; the runs it started."""
        handed = rule_input(rule_name, rules[rule_name], event)
        assert handed["dagId"] == dag_id and handed["event"] == event
        before = run_ids(dag_id)
        result.sent[label] = send_trigger_event(url, handed["dagId"], handed["event"])
        result.runs_started[label] = sorted(run_ids(dag_id) - before)
        return set(result.runs_started[label])

    def execute(kind: str, run_id: str, label: str):
        from airflow.models.dagrun import DagRun

        (started,) = DagRun.find(dag_id=info[kind], run_id=run_id)
        result.started[label] = {"run_id": run_id, "conf": dict(started.conf or {}), "state": started.state}
        with phase(aws, label), log_capture.into(result.logs, label), handing_over(run_id):
            dag_run = build(info, kind).test(run_conf=started.conf)
        assert dag_run.run_id == run_id
        result.states[label] = states_of(dag_run)
        assert dag_run.state == "success", (label, result.states[label])
        return dag_run

    rules = trigger_rules(stack)
    (schedule_rule,) = [n for n, r in rules.items() if f'"dagId":"{info["drift"]}"' in r["template"]]
    alarm_arn = stack.get_att(info["driftAlarm"], "Arn")
    (alarm_rule,) = [n for n, r in rules.items() if r["pattern"] and r["pattern"].get("resources") == [alarm_arn]]
    result.rule_names = {"schedule": schedule_rule, "alarm": alarm_rule}

    # 1. Training (started as an image push starts it): the baseline job beside training, the package records it.
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{config['training']['image_repository_name']}"
    run_direct("training", {"image_uri": f"{image}@{info['digest']}", "image_tag": COMMIT}, "training")
    result.first_package = newest_package()
    sagemaker.update_model_package(ModelPackageArn=result.first_package, ModelApprovalStatus="Approved")  # a person

    # 2. Deployment of the approved package (the conf the trigger sends for an approval).
    from test_promotion_e2e import deployment_conf

    run_direct("deployment", deployment_conf(result.first_package), "deployment")

    # The baseline job ran in moto, which runs nothing: what it writes (drift_check.py baseline on the training split
    # it was given) is written here, from a synthetic split of three features, to the URI the package records.
    baseline_uri = sagemaker.describe_model_package(ModelPackageName=result.first_package)["CustomerMetadataProperties"][
        "drift_baseline_uri"
    ]
    (baseline_job,) = [
        p for p in params(aws.phases["training"].calls, "CreateProcessingJob") if "-base-" in p["ProcessingJobName"]
    ]
    sample = baseline_job["AppSpecification"]["ContainerArguments"]
    split = work / "train"
    split.mkdir()
    (split / "part-00000.csv").write_text(training_split(2000, seed=7))
    baseline_arguments = [*sample[:2], str(split), "--output", str(work / "baseline.csv"), *sample[5:]]
    run_job_script(baseline_arguments, aws.stand_in.endpoint_url)
    baseline_bucket, baseline_key = baseline_uri[5:].split("/", 1)
    s3.put_object(Bucket=baseline_bucket, Key=baseline_key, Body=(work / "baseline.csv").read_bytes())

    # 3. Traffic captured since the deployment, feature_2 shifted; and records of before it, which do not count.
    endpoint = sagemaker.describe_endpoint(EndpointName=config["deployment"]["endpoint_name"])
    since = endpoint["LastModifiedTime"].astimezone(UTC)
    rng = random.Random(11)
    after = [
        capture_record((rng.gauss(0, 1), rng.gauss(12, 2), rng.uniform(0, 10)), since + timedelta(seconds=30 + i))
        for i in range(300)
    ]
    before = [capture_record((100.0, 5.0, 5.0), since - timedelta(hours=2, seconds=i)) for i in range(40)]
    capture_prefix = f"{drift['capture_prefix']}{endpoint['EndpointName']}/AllTraffic/"
    put_captures(bucket, capture_prefix, after + before)

    with airflow_api_server() as url:
        # The drift schedule fires: its rule's event starts the drift DAG, which submits the check.
        fired = scheduled_event(schedule_rule, datetime.now(UTC).replace(microsecond=0))
        assert rules[schedule_rule]["schedule"] == "rate(6 hours)"
        (drift_run,) = send(url, "schedule", info["drift"], fired, schedule_rule)
        checked = execute("drift", drift_run, "drift check")
        result.started["drift check"]["resolved"] = xcom(checked, "resolve_drift")

        # The check as the processing job runs it (moto runs nothing): its arguments, on its inputs downloaded from moto.
        (job,) = params(aws.phases["drift check"].calls, "CreateProcessingJob")
        inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in job["ProcessingInputs"]}
        local = {name: download(uri, work / "check" / name) for name, uri in inputs.items() if name != "code"}
        given = job["AppSpecification"]["ContainerArguments"]
        arguments = [a for a in given if a != "--publish-metrics"]
        arguments += [
            "--baseline",
            str(local["baseline"]),
            "--capture",
            str(local["capture"]),
            "--output",
            str(work / "check" / "output"),
        ]
        run_job_script(arguments, aws.stand_in.endpoint_url)
        result.report = json.loads((work / "check" / "output" / "drift_report.json").read_text())
        # With --publish-metrics the job sends drift_metrics.json's data with PutMetricData; that call is made here, from
        # this process: the job's Python (the tool venv's botocore) speaks CloudWatch's JSON protocol, which the moto
        # server of an older Airflow venv (its botocore's service model) does not answer.
        metrics = json.loads((work / "check" / "output" / "drift_metrics.json").read_text())
        assert "--publish-metrics" in given and metrics["namespace"] == given[given.index("--metric-namespace") + 1]
        published = {"Namespace": metrics["namespace"], "MetricData": metrics["metric_data"]}
        cloudwatch.put_metric_data(**published)
        aws.job_calls = [Call("cloudwatch", "PutMetricData", published)]
        report_uri = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
        for name in ("drift_report.json", "drift_metrics.json"):  # the job's output upload
            report_bucket, report_key = f"{report_uri}{name}"[5:].split("/", 1)
            s3.put_object(Bucket=report_bucket, Key=report_key, Body=(work / "check" / "output" / name).read_bytes())

        # 4. The alarm: moto evaluates nothing, so its state is set as CloudWatch would set it on the published datapoint.
        alarm_name = stack.resolve(stack.resources[info["driftAlarm"]]["Properties"]["AlarmName"])

        def change(state: str, reason: str) -> dict:
            (previous,) = cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
            cloudwatch.set_alarm_state(AlarmName=alarm_name, StateValue=state, StateReason=reason)
            (now,) = cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
            return alarm_event(now, previous)

        share = result.report["drifted_share"]
        crossed = f"Threshold Crossed: 1 out of the last 1 datapoints [{share}] was greater than or equal to the threshold"
        # The first training job was made a day ago (moto's backend, same process): the alarm is outside its cool-down.
        from moto.sagemaker.models import sagemaker_backends

        (first_job,) = params(aws.phases["training"].calls, "CreateTrainingJob")
        trained = sagemaker_backends[ACCOUNT][REGION].training_jobs[first_job["TrainingJobName"]]
        trained.creation_time -= timedelta(days=1)

        first = change("ALARM", crossed)
        result.sent["first event"] = first
        (retrain_run,) = send(url, "alarm", info["training"], first, alarm_rule)
        execute("training", retrain_run, "alarm training")
        result.retrained_package = newest_package()

        back = change("OK", "Threshold Crossed: the share fell below the threshold")
        result.sent["ok event"] = back
        assert not matches(rules[alarm_rule]["pattern"], back)  # the rule only takes ALARM: nothing is sent
        second = change("ALARM", crossed)
        result.sent["second event"] = second
        (held_run,) = send(url, "second alarm", info["training"], second, alarm_rule)
        execute("training", held_run, "cool-down")

        assert send(url, "redelivery", info["training"], first, alarm_rule) == set()
    for event in (first, second):
        assert matches(rules[alarm_rule]["pattern"], event)
    return result


class LogCapture:
    """The cdk_mwaa_mlops loggers' records of a phase (the tasks log what they decide and why)."""

    @contextlib.contextmanager
    def into(self, logs: dict[str, str], label: str) -> Iterator[None]:
        lines: list[str] = []

        class Collect(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                lines.append(record.getMessage())

        handler = Collect(logging.INFO)
        logger = logging.getLogger("cdk_mwaa_mlops")
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logs[label] = "\n".join(lines)


# ---- 1. training ----------------------------------------------------------------------------------------------------
def test_training_submits_the_baseline_job_on_the_training_split_and_registers_the_package_with_its_baseline(
    outcome, aws, pipelines
):
    config = pipelines["watch"]["config"]
    calls = aws.phases["training"].calls
    assert outcome.states["training"]["drift_baseline"] == "success"
    (start,) = params(calls, "StartJobRun")
    (training,) = params(calls, "CreateTrainingJob")
    key = training["TrainingJobName"].removeprefix("watch-train-")
    (baseline,) = [p for p in params(calls, "CreateProcessingJob") if p["ProcessingJobName"].startswith("watch-base-")]
    assert baseline["ProcessingJobName"] == f"watch-base-{key}"
    assert baseline["RoleArn"] == config["training"]["role_arn"]
    assert baseline["AppSpecification"] == {
        "ImageUri": config["drift"]["image_uri"],
        "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/drift_check.py"],
        "ContainerArguments": [
            *("baseline", "--train", "/opt/ml/processing/input/train"),
            *("--output", "/opt/ml/processing/output/baseline.csv", "--sample-rows", "10000"),
        ],
    }
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in baseline["ProcessingInputs"]}
    assert inputs == {"code": config["drift"]["script_uri"], "train": start["Arguments"]["--output_uri"] + "train/"}
    artifacts = training["OutputDataConfig"]["S3OutputPath"].removesuffix("training/")
    assert baseline["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == f"{artifacts}drift/"
    assert baseline["ProcessingOutputConfig"]["KmsKeyId"] == config["data"]["kms_key_arn"]
    (registered,) = params(calls, "CreateModelPackage")
    assert registered["CustomerMetadataProperties"]["drift_baseline_uri"] == f"{artifacts}drift/baseline.csv"
    assert registered["ModelApprovalStatus"] == "PendingManualApproval"
    package = boto3.client("sagemaker").describe_model_package(ModelPackageName=outcome.first_package)
    assert package["CustomerMetadataProperties"]["drift_baseline_uri"] == f"{artifacts}drift/baseline.csv"


# ---- 2. deployment --------------------------------------------------------------------------------------------------
def test_the_deployment_captures_the_endpoint_s_inputs_and_outputs_to_the_capture_prefix(outcome, aws, pipelines):
    config = pipelines["watch"]["config"]
    calls = aws.phases["deployment"].calls
    (endpoint_config,) = params(calls, "CreateEndpointConfig")
    expected = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://{config['data']['bucket']}/capture/watch/",
        "KmsKeyId": config["data"]["kms_key_arn"],
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
    }
    assert endpoint_config["DataCaptureConfig"] == expected
    (endpoint,) = params(calls, "CreateEndpoint")
    assert endpoint["EndpointConfigName"] == endpoint_config["EndpointConfigName"]
    described = boto3.client("sagemaker").describe_endpoint(EndpointName="watch")
    assert described["EndpointStatus"] == "InService"


# ---- 3. the drift check -----------------------------------------------------------------------------------------------
def test_the_drift_schedule_starts_the_drift_dag_which_submits_the_check_of_the_deployed_model(outcome, aws, pipelines, stack):
    config = pipelines["watch"]["config"]
    sent = outcome.sent["schedule"]["result"]
    assert (sent["outcome"], sent["dagId"]) == ("triggered", "watch_drift")
    started = outcome.started["drift check"]
    assert started["run_id"] == sent["dagRunId"]
    assert started["conf"]["source_kind"] == "schedule"
    assert started["conf"]["schedule_rule_arn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{outcome.rule_names['schedule']}"
    assert outcome.states["drift check"] == {"resolve_drift": "success", "drift_check": "success"}

    resolved = started["resolved"]
    package = boto3.client("sagemaker").describe_model_package(ModelPackageName=outcome.first_package)
    baseline = package["CustomerMetadataProperties"]["drift_baseline_uri"]
    assert (resolved["model_package_arn"], resolved["baseline_uri"]) == (outcome.first_package, baseline)
    calls = aws.phases["drift check"].calls
    assert [c.action for c in calls if c.service == "sagemaker"][:4] == [
        *("DescribeEndpoint", "DescribeEndpointConfig", "DescribeModel", "DescribeModelPackage"),
    ]
    (job,) = params(calls, "CreateProcessingJob")
    key = job["ProcessingJobName"].removeprefix("watch-drift-")
    assert len(key) == 12 and job["RoleArn"] == config["training"]["role_arn"]
    endpoint = boto3.client("sagemaker").describe_endpoint(EndpointName="watch")
    since = endpoint["LastModifiedTime"].astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert job["AppSpecification"] == {
        "ImageUri": config["drift"]["image_uri"],
        "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/drift_check.py"],
        "ContainerArguments": [
            *("check", "--since", since, "--psi-threshold", "0.2", "--ks-alpha", "0.05", "--min-rows", "50"),
            *("--publish-metrics", "--metric-namespace", "CdkMwaaMlops/Drift/watch"),
            *("--dimension", "Pipeline=watch", "--dimension", "Endpoint=watch", "--region", REGION),
        ],
    }
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in job["ProcessingInputs"]}
    assert inputs == {
        "code": config["drift"]["script_uri"],
        "baseline": baseline,
        "capture": f"s3://{config['data']['bucket']}/capture/watch/watch/AllTraffic/",
    }
    assert (
        job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
        == baseline.removesuffix("baseline.csv") + f"checks/{key}/"
    )
    assert "drift check of endpoint watch (variant AllTraffic" in outcome.logs["drift check"]


def test_the_check_flags_the_shifted_feature_and_publishes_the_metric_the_alarm_watches(outcome, aws, stack, pipelines):
    report = outcome.report
    assert report["drifted_features"] == ["feature_2"] and report["drifted_share"] == pytest.approx(1 / 3)
    assert (report["rows_used"], report["records"]["before_since"]) == (300, 40)  # what came before the deployment: ignored
    (published,) = [c.params for c in aws.job_calls if c.action == "PutMetricData"]
    assert published["Namespace"] == "CdkMwaaMlops/Drift/watch"
    alarm = stack.resolve(stack.resources[pipelines["watch"]["driftAlarm"]]["Properties"])
    (share,) = [d for d in published["MetricData"] if d["MetricName"] == alarm["MetricName"]]
    assert sorted(share["Dimensions"], key=lambda d: d["Name"]) == sorted(alarm["Dimensions"], key=lambda d: d["Name"])
    assert alarm["Namespace"] == published["Namespace"]
    stats = boto3.client("cloudwatch").get_metric_statistics(
        Namespace=alarm["Namespace"],
        MetricName=alarm["MetricName"],
        Dimensions=alarm["Dimensions"],
        StartTime=datetime.now(UTC) - timedelta(hours=1),
        EndTime=datetime.now(UTC) + timedelta(hours=1),
        Period=alarm["Period"],
        Statistics=[alarm["Statistic"]],
    )["Datapoints"]
    assert [d[alarm["Statistic"]] for d in stats] == [pytest.approx(1 / 3)]
    assert stats[0][alarm["Statistic"]] >= alarm["Threshold"] and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


# ---- 4. the alarm -----------------------------------------------------------------------------------------------------
def test_the_drift_alarm_s_state_change_starts_exactly_one_training_run_which_trains_once(outcome, aws, stack, pipelines):
    sent = outcome.sent["alarm"]["result"]
    assert (sent["outcome"], sent["dagId"]) == ("triggered", "watch_training")
    started = outcome.started["alarm training"]
    assert started["run_id"] == sent["dagRunId"]
    conf = started["conf"]
    assert conf["source_kind"] == "cloudwatch_alarm"
    previous = outcome.sent["first event"]["detail"]["previousState"]["value"]  # moto creates alarms OK
    assert (conf["alarm_name"], conf["alarm_state"], conf["alarm_previous_state"]) == ("watch-data-drift", "ALARM", previous)
    assert conf["alarm_arn"] == stack.get_att(pipelines["watch"]["driftAlarm"], "Arn")
    assert conf["alarm_reason"].startswith("Threshold Crossed")
    assert set(outcome.states["alarm training"].values()) == {"success"}, outcome.states["alarm training"]
    calls = aws.phases["alarm training"].calls
    (listed,) = params(calls, "ListTrainingJobs")
    assert listed["NameContains"] == "watch-train-"
    assert sorted(created(calls)) == sorted(
        ["StartJobRun", "CreateTrainingJob", "CreateProcessingJob", "CreateProcessingJob", "CreateModelPackage"]
    )
    assert "no training job of the pipeline was created after" in outcome.logs["alarm training"]
    # drift never deploys by itself: the retrained model waits for a person
    package = boto3.client("sagemaker").describe_model_package(ModelPackageName=outcome.retrained_package)
    assert outcome.retrained_package != outcome.first_package
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert "drift_baseline_uri" in package["CustomerMetadataProperties"]
    assert not {"CreateEndpoint", "UpdateEndpoint", "CreateEndpointConfig"} & {c.action for c in calls}


def test_a_second_alarm_inside_the_cool_down_starts_a_run_that_trains_nothing_and_says_why(outcome, aws):
    sent = outcome.sent["second alarm"]["result"]
    assert sent["outcome"] == "triggered" and sent["dagRunId"] != outcome.sent["alarm"]["result"]["dagRunId"]
    assert outcome.sent["second event"]["detail"]["previousState"]["value"] == "OK"
    states = dict(outcome.states["cool-down"])
    assert states.pop("cool_down") == "success"
    assert set(states.values()) == {"skipped"}, states
    calls = aws.phases["cool-down"].calls
    assert created(calls) == [] and [c.action for c in calls] == ["ListTrainingJobs"]
    (job,) = params(aws.phases["alarm training"].calls, "CreateTrainingJob")
    reason = outcome.logs["cool-down"]
    assert f"training job {job['TrainingJobName']}" in reason
    assert "inside the cool-down of 43200 s" in reason and "this run trains nothing" in reason


def test_a_redelivered_alarm_event_starts_no_run(outcome):
    again = outcome.sent["redelivery"]["result"]
    assert again["outcome"] == "already_triggered"
    assert again["dagRunId"] == outcome.sent["alarm"]["result"]["dagRunId"]
    assert outcome.runs_started["redelivery"] == []
    assert (outcome.runs_started["alarm"], outcome.runs_started["second alarm"]) == (
        [outcome.sent["alarm"]["result"]["dagRunId"]],
        [outcome.sent["second alarm"]["result"]["dagRunId"]],
    )


# ---- 5. IAM -----------------------------------------------------------------------------------------------------------
def _keys(pipelines: dict) -> dict[str, str]:
    return {info["config"]["data"]["bucket"]: info["config"]["data"]["kms_key_arn"] for info in pipelines.values()}


def _requests(calls: list[Call], pipelines: dict) -> list[Request]:
    return list(dict.fromkeys(r for c in calls for r in requests_for(c, ACCOUNT, REGION, _keys(pipelines))))


def _role_arn(logical_id: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{logical_id}"


def _decide(requests: list[Request], stack: Stack, role: str) -> list[str]:
    return evaluate(requests, stack.role_policies(role), ACCOUNT, _role_arn(role), stack.resource_policies())


def test_every_call_of_the_runs_was_answered_recorded_and_is_allowed_to_the_execution_role_and_the_pipeline_s_grants(
    outcome, aws, stack, pipelines
):
    for label, recording in aws.phases.items():
        not_recorded, not_answered = _unreconciled(recording, pipelines)
        assert not_recorded == not_answered == Counter(), (label, not_recorded, not_answered)
    every = [c for recording in aws.phases.values() for c in recording.calls]
    requests = _requests(every, pipelines)
    summary = {"calls": len(every), "requests": len(requests)}
    for role in (stack.output("ExecutionRole"), pipelines["watch"]["onlyRole"]):
        refused = [
            (r.action, r.resource) for r, d in zip(requests, _decide(requests, stack, role), strict=True) if d != "Allowed"
        ]
        assert refused == [], f"{role} refuses: {json.dumps(refused, indent=0)}"
    summary["by_action"] = dict(Counter(r.action for r in requests))
    print("Drift loop IAM proof:", json.dumps(summary))
    assert {"sagemaker:ListTrainingJobs", "sagemaker:DescribeEndpoint", "sagemaker:DescribeModel", "s3:ListBucket"} <= set(
        summary["by_action"]
    )


def test_the_drift_dag_s_calls_are_denied_to_the_other_pipeline_and_aimed_at_it_denied_to_this_one(
    outcome, aws, stack, pipelines
):
    watch, other = pipelines["watch"], pipelines["other"]
    calls = aws.phases["drift check"].calls
    requests = _requests(calls, pipelines)
    crossing = [
        (r.action, r.resource)
        for r, d in zip(requests, _decide(requests, stack, other["onlyRole"]), strict=True)
        if d == "Allowed"
    ]
    assert crossing == [], f"other's grants reach watch's drift check: {crossing}"
    aimed = _requests(_translate(calls, watch["config"], other["config"]), pipelines)
    assert {r.resource for r in aimed}.isdisjoint({r.resource for r in requests} - {"*"})
    reached = [
        (r.action, r.resource) for r, d in zip(aimed, _decide(aimed, stack, watch["onlyRole"]), strict=True) if d == "Allowed"
    ]
    assert reached == [], f"watch's grants reach other's endpoint, packages, captures or jobs: {reached}"
    print(
        "Drift DAG cross-pipeline proof:",
        json.dumps({"requests": len(requests), "denied_to_other": len(requests), "aimed_at_other_denied": len(aimed)}),
    )


def _job_requests(
    creates: list[Call], job_calls: list[Call], drift_image: str, keys: dict[str, str]
) -> tuple[list[Request], list[Request]]:
    """What SageMaker and the script do as the jobs' role: (evaluated, left out). The image is SageMaker's scikit-learn
    image in AWS's account: whether its pull needs the role's ECR permissions only an AWS account can show."""
    s3 = boto3.client("s3")

    def objects(bucket: str, prefix: str) -> list[str]:
        return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]

    found = [r for c in creates for r in container_requests_for(c, ACCOUNT, REGION, keys, objects, lambda arn: [])]
    repository = drift_image.split("/", 1)[1].split(":")[0]
    left_out = [r for r in found if r.action.startswith("ecr:") and r.resource != "*"]
    assert {r.resource for r in left_out} == {f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{repository}"}
    metrics = [
        Request("cloudwatch:PutMetricData", "*", (("cloudwatch:namespace", c.params["Namespace"]),))
        for c in job_calls
        if c.action == "PutMetricData"
    ]
    assert [c.action for c in job_calls] == ["PutMetricData"] * len(metrics) and metrics
    return list(dict.fromkeys([r for r in found if r not in left_out] + metrics)), left_out


def test_what_the_drift_jobs_do_as_the_sagemaker_role_is_allowed_to_it_and_denied_to_the_other_s(outcome, aws, stack, pipelines):
    watch, other = pipelines["watch"], pipelines["other"]
    creates = [
        c
        for label in ("training", "drift check", "alarm training")
        for c in aws.phases[label].calls
        if c.action == "CreateProcessingJob" and c.params["ProcessingJobName"].startswith(("watch-base-", "watch-drift-"))
    ]
    assert len(creates) == 3
    requests, left_out = _job_requests(creates, aws.job_calls, watch["config"]["drift"]["image_uri"], _keys(pipelines))
    role, other_role = (p["config"]["training"]["role_arn"].rsplit("/", 1)[1] for p in (watch, other))
    refused = [
        (r.action, r.resource, dict(r.context))
        for r, d in zip(requests, _decide(requests, stack, role), strict=True)
        if d != "Allowed"
    ]
    assert refused == [], f"watch's SageMaker role refuses what its drift jobs do: {refused}"
    crossing = [
        (r.action, r.resource) for r, d in zip(requests, _decide(requests, stack, other_role), strict=True) if d == "Allowed"
    ]
    # Each pipeline publishes to a namespace of its own (CdkMwaaMlops/Drift/<pipeline>): only the registry login is shared
    assert crossing == [("ecr:GetAuthorizationToken", "*")], crossing
    by_action = dict(Counter(r.action for r in requests))
    print(
        "Drift jobs' role proof:",
        json.dumps({"requests": len(requests), "left_out_image_pulls": len(left_out), "by_action": by_action}),
    )
    assert {"s3:GetObject", "s3:ListBucket", "s3:PutObject", "kms:Decrypt", "kms:GenerateDataKey"} <= set(by_action)


def test_the_trigger_s_calls_are_allowed_to_its_role(outcome, stack, pipelines):
    """The bundled handler's InvokeRestApi calls (through the MWAA stand-in): MWAA authorizes them as
    airflow:InvokeRestApi on the Airflow role the caller maps to (the trigger's `User`)."""
    (function,) = [
        r for lid, r in stack.resources.items() if r["Type"] == "AWS::Lambda::Function" and lid.startswith("WatchTriggerFunction")
    ]
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    environment = function["Properties"]["Environment"]["Variables"]["MWAA_ENVIRONMENT_NAME"]
    calls = [c for sent in outcome.sent.values() if "calls" in sent for c in sent["calls"]]
    paths = Counter((c["Method"], c["Path"]) for c in calls)
    assert paths == {("POST", "/dags/watch_drift/dagRuns"): 1, ("POST", "/dags/watch_training/dagRuns"): 3}, paths
    # Its statements one by one: cloud_assembly.py resolves no SQS ARN (the dead-letter queue's), and those are Allows
    # of sqs actions only, which decide nothing here.
    policies, unresolved = [], []
    for logical_id, resource in stack.resources.items():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"].get("Roles", []):
            statements = []
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                try:
                    statements.append(stack.resolve(statement))
                except KeyError:
                    unresolved.append(statement)
            policies.append({"name": logical_id, "policy": {"Version": "2012-10-17", "Statement": statements}})
    for statement in unresolved:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        assert statement["Effect"] == "Allow" and all(a.startswith("sqs:") for a in actions), statement
    request = Request("airflow:InvokeRestApi", f"arn:aws:airflow:{REGION}:{ACCOUNT}:role/{environment}/User")
    decided = evaluate([request], policies, ACCOUNT, _role_arn(role), stack.resource_policies())
    assert decided == ["Allowed"]
