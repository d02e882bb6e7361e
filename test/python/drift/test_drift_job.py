"""The drift check run as the SageMaker Processing job runs it: `python3 drift_check.py <command> ...` in a fresh
process, reading its inputs from folders and writing the report and the metrics to its output folder; with
--publish-metrics its boto3 talks to a moto server (through AWS_ENDPOINT_URL, with dummy credentials)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from capture_format import Invocation, write_baseline, write_capture
from conftest import FEATURES, SCRIPT, sample
from moto.server import ThreadedMotoServer

DEPLOYED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
REGION = "eu-west-1"


def job(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    """/opt/ml/processing/input/{baseline,capture} and /opt/ml/processing/output, as temporary folders."""
    baseline = write_baseline(tmp_path / "input" / "baseline" / "baseline.csv", FEATURES, sample(3000, seed=1).tolist())
    old = [Invocation(rows=[row], at=DEPLOYED - timedelta(minutes=i + 1)) for i, row in enumerate(sample(50, seed=3).tolist())]
    new = [
        Invocation(rows=[row], at=DEPLOYED + timedelta(minutes=i), encoding=("CSV", "JSON", "BASE64")[i % 3])
        for i, row in enumerate(sample(400, seed=2, shift={"x5": 2.0}).tolist())
    ]
    write_capture(tmp_path / "input" / "capture", old + new, FEATURES)
    return {"baseline": baseline.parent, "capture": tmp_path / "input" / "capture", "output": tmp_path / "output"}


def check_args(inputs: dict[str, Path], *extra: str) -> list[str]:
    return [
        "check",
        "--since",
        "2026-12-01T09:30:00Z",
        "--baseline",
        str(inputs["baseline"]),
        "--capture",
        str(inputs["capture"]),
        "--output",
        str(inputs["output"]),
        *extra,
    ]


def test_the_job_writes_the_report_and_the_metrics_and_exits_0_on_drift(inputs):
    result = job(*check_args(inputs, "--dimension", "Pipeline=churn", "--dimension", "Stage=prod"))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "drift check since 2026-12-01T09:30:00Z: drifted share 0.200; drifted ['x5'], missing none; "
        "records used 400, before since 50, malformed 0 of 450"
    )
    report = json.loads((inputs["output"] / "drift_report.json").read_text())
    assert report["drifted_features"] == ["x5"] and report["records"]["before_since"] == 50
    assert report["thresholds"] == {"psi": 0.2, "ks_alpha": 0.05, "min_rows": 100, "bins": 10, "psi_epsilon": 0.0001}
    metrics = json.loads((inputs["output"] / "drift_metrics.json").read_text())
    assert metrics["namespace"] == "CdkMwaaMlops/Drift"
    assert metrics["metric_data"][0] == {
        "MetricName": "DriftedFeatureShare",
        "Dimensions": [{"Name": "Pipeline", "Value": "churn"}, {"Name": "Stage", "Value": "prod"}],
        "Value": 0.2,
        "Unit": "None",
    }


def test_the_job_warns_when_it_mixes_capture_files_from_several_endpoints(inputs):
    other = [Invocation(rows=[row], at=DEPLOYED + timedelta(minutes=i)) for i, row in enumerate(sample(5, seed=9).tolist())]
    write_capture(inputs["capture"], other, FEATURES, endpoint="churn--staging")
    result = job(*check_args(inputs))
    assert result.returncode == 0, result.stderr
    # the fixture's 50 old and 400 new minutes of churn--prod span nine hour folders
    assert result.stdout.splitlines()[0] == (
        "warning: capture files from several places are compared as one: "
        "{'churn--prod/AllTraffic': 9, 'churn--staging/AllTraffic': 1}"
    )


def test_thresholds_come_from_the_arguments(inputs):
    result = job(*check_args(inputs, "--psi-threshold", "50", "--ks-alpha", "1e-300", "--min-rows", "10", "--bins", "4"))

    assert result.returncode == 0, result.stderr
    report = json.loads((inputs["output"] / "drift_report.json").read_text())
    assert report["thresholds"] | {"psi_epsilon": None} == {
        "psi": 50.0,
        "ks_alpha": 1e-300,
        "min_rows": 10,
        "bins": 4,
        "psi_epsilon": None,
    }
    assert report["drifted_features"] == []  # nothing reaches those thresholds


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-12-01T09:30:00"], "argument --since: --since: '2026-12-01T09:30:00' has no time zone"),
        (["--since", "last week"], "argument --since: --since: 'last week' is not an ISO 8601 date-time"),
        (["--ks-alpha", "5"], "argument --ks-alpha: --ks-alpha must be a number between 0 and 1 (exclusive), not '5'"),
        (["--psi-threshold", "-1"], "argument --psi-threshold: --psi-threshold must be a positive number, not '-1'"),
        (["--min-rows", "ten"], "argument --min-rows: --min-rows must be a whole number of at least 1, not 'ten'"),
        (["--bins", "1"], "argument --bins: --bins must be a whole number of at least 2, not '1'"),
        (["--dimension", "Pipeline"], "argument --dimension: --dimension must be Name=Value, not 'Pipeline'"),
        (
            ["--metric-namespace", "AWS/SageMaker"],
            "--metric-namespace must be a custom namespace, not starting with AWS/: 'AWS/SageMaker'",
        ),
    ],
)
def test_bad_arguments_exit_2_naming_the_argument(inputs, args, message):
    result = job(*check_args(inputs), *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_an_unusable_baseline_exits_2_naming_the_file(inputs, tmp_path):
    result = job(*check_args(inputs, "--baseline", str(tmp_path / "nowhere")))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"drift_check.py: error: baseline {tmp_path / 'nowhere'}: no baseline.csv (or other .csv file) found"
    )
    assert not inputs["output"].exists()


def test_the_baseline_command_writes_the_file_the_check_reads(tmp_path):
    train = tmp_path / "train"
    train.mkdir()
    rows = sample(2000, seed=4)
    (train / "part-00000.csv").write_text("".join("1," + ",".join(map(str, row)) + "\n" for row in rows.tolist()))

    out = tmp_path / "model" / "baseline.csv"
    names = ",".join(FEATURES)
    result = job("baseline", "--train", str(train), "--output", str(out), "--feature-names", names, "--sample-rows", "500")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"baseline: wrote 500 rows to {out}"
    assert out.read_text().splitlines()[0] == names and len(out.read_text().splitlines()) == 501


def test_the_module_needs_only_numpy_and_scipy_to_load(tmp_path):
    """The SageMaker scikit-learn image has numpy, scipy and boto3, nothing is installed at start; boto3 is only
    imported when metrics are published."""
    probe = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('drift_check', {str(SCRIPT)!r})\n"
        "module = importlib.util.module_from_spec(spec); sys.modules['drift_check'] = module\n"
        "spec.loader.exec_module(module)\n"
        "top = {name.split('.')[0] for name in sys.modules}\n"
        "print(sorted(top & {'boto3', 'botocore', 'pandas', 'sklearn'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def moto_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_publish_metrics_puts_them_in_cloudwatch(inputs, moto_server):
    env = {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    result = job(
        *check_args(inputs, "--publish-metrics", "--metric-namespace", "Test/Drift", "--dimension", "Pipeline=churn"),
        env=env,
    )
    assert result.returncode == 0, result.stderr

    cloudwatch = boto3.client(
        "cloudwatch",
        region_name=REGION,
        endpoint_url=moto_server,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    listed = cloudwatch.list_metrics(Namespace="Test/Drift")["Metrics"]
    names = sorted((metric["MetricName"], tuple((d["Name"], d["Value"]) for d in metric["Dimensions"])) for metric in listed)
    assert names == sorted(
        [
            ("DriftedFeatureShare", (("Pipeline", "churn"),)),
            ("CaptureRecordsUsed", (("Pipeline", "churn"),)),
            ("CaptureRecordsMalformed", (("Pipeline", "churn"),)),
            *[("FeaturePSI", (("Pipeline", "churn"), ("Feature", name))) for name in FEATURES],
        ]
    )
    now = datetime.now(UTC)
    share = cloudwatch.get_metric_statistics(
        Namespace="Test/Drift",
        MetricName="DriftedFeatureShare",
        Dimensions=[{"Name": "Pipeline", "Value": "churn"}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert [point["Maximum"] for point in share] == [0.2]
