"""The drift check (assets/drift/drift_check.py) on synthetic capture files in SageMaker's exact format.

The baseline is a 5,000-row sample of five features of different shapes; the captured traffic is drawn from the
same distributions (no drift) or with one feature shifted, spread over several hours in the hourly key layout and
over the three encodings (CSV, JSON, BASE64) and several JSON payload shapes.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from capture_format import ENCODINGS, Invocation, write_baseline, write_capture
from conftest import FEATURES, sample

DEPLOYED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def invocations(rows: np.ndarray, start: datetime, *, encodings=ENCODINGS, per_request: int = 1) -> list[Invocation]:
    """Requests of `per_request` rows each, one a minute from `start` (so they span hours), cycling encodings and
    payload shapes."""
    shapes = ("instances", "records", "list")
    result = []
    for number, first in enumerate(range(0, len(rows), per_request)):
        encoding = encodings[number % len(encodings)]
        result.append(
            Invocation(
                rows=rows[first : first + per_request].tolist(),
                at=start + timedelta(minutes=number, milliseconds=number % 1000),
                encoding=encoding,
                json_shape=shapes[(number // len(encodings)) % len(shapes)],
                content_type="text/csv" if (number // len(encodings)) % 2 else "application/json",
            )
        )
    return result


@pytest.fixture
def baseline_csv(tmp_path: Path) -> Path:
    return write_baseline(tmp_path / "baseline" / "baseline.csv", FEATURES, sample(5000, seed=1).tolist())


def run(drift_check, baseline_csv: Path, capture: Path, since: datetime = DEPLOYED, **thresholds) -> dict:
    baseline = drift_check.read_baseline(baseline_csv)
    read = drift_check.read_capture(capture, baseline.features, since)
    return drift_check.check_drift(baseline, read, since=since, **thresholds)


# --- the three cases of the issue ---------------------------------------------------------------------------------


def test_traffic_like_the_training_data_does_not_drift(drift_check, baseline_csv, tmp_path):
    files = write_capture(tmp_path / "capture", invocations(sample(1200, seed=2), DEPLOYED), FEATURES)
    assert len({path.parent for path in files}) == 21  # 09:30 to 05:29 the next day, in yyyy/mm/dd/hh folders
    layout = re.compile(r"churn--prod/AllTraffic/2026/12/0[12]/\d\d/\d\d-\d\d-\d{3}-[0-9a-f-]{36}\.jsonl")
    assert all(layout.fullmatch(path.relative_to(tmp_path / "capture").as_posix()) for path in files)

    report = run(drift_check, baseline_csv, tmp_path / "capture")

    assert report["judged"] is True
    assert report["drifted_features"] == []
    assert report["missing_features"] == []
    assert report["drifted_share"] == 0.0
    assert report["records"] | {"malformed_by_reason": None} == {
        "files": len(files),
        "files_by_prefix": {"churn--prod/AllTraffic": len(files)},
        "read": 1200,
        "used": 1200,
        "before_since": 0,
        "malformed": 0,
        "malformed_by_reason": None,
        "malformed_examples": [],
        "first_inference_time": "2026-12-01T09:30:00Z",
        "last_inference_time": "2026-12-02T05:29:00.199000Z",
    }
    assert report["rows_used"] == 1200
    for name in FEATURES:
        entry = report["features"][name]
        assert entry["status"] == "no_drift", (name, entry)
        assert entry["psi"] < 0.1 and entry["ks_p_value"] >= 0.05 and entry["rows"] == 1200


def test_without_drift_a_feature_is_flagged_about_as_often_as_ks_alpha_says(drift_check):
    """The no-drift case above is not a lucky seed: over 200 samples of the baseline's distributions at twice the
    default min_rows, KS flags each feature about ks_alpha of the time (less for the discrete x5, where KS is
    conservative), and PSI stays under its threshold."""
    baseline = sample(5000, seed=1)
    flagged = np.zeros(len(FEATURES))
    worst_psi = 0.0
    for seed in range(100, 300):
        current = sample(200, seed=seed)
        for j in range(len(FEATURES)):
            flagged[j] += drift_check.ks(baseline[:, j], current[:, j])[1] < 0.05
            worst_psi = max(worst_psi, drift_check.psi(baseline[:, j], current[:, j]))
    rates = flagged / 200
    assert all(rates <= 0.1), rates
    assert rates[:4].mean() == pytest.approx(0.05, abs=0.03)
    assert worst_psi < 0.2


def test_a_shifted_feature_is_flagged_and_only_that_one(drift_check, baseline_csv, tmp_path):
    shifted = sample(1200, seed=2, shift={"x3": 0.5})  # half a standard deviation of an exponential(1)
    write_capture(tmp_path / "capture", invocations(shifted, DEPLOYED), FEATURES)

    report = run(drift_check, baseline_csv, tmp_path / "capture")

    assert report["drifted_features"] == ["x3"]
    assert report["drifted_share"] == pytest.approx(1 / 5)
    x3 = report["features"]["x3"]
    assert x3["status"] == "drift" and x3["drifted_by"] == ["psi", "ks"]
    assert x3["psi"] >= 0.2 and x3["ks_p_value"] < 1e-6
    assert all(report["features"][name]["status"] == "no_drift" for name in FEATURES if name != "x3")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_encoding_alone_carries_the_shift(drift_check, baseline_csv, tmp_path, encoding):
    shifted = sample(600, seed=3, shift={"x2": 8.0})  # 0.8 standard deviations
    write_capture(tmp_path / "capture", invocations(shifted, DEPLOYED, encodings=(encoding,), per_request=3), FEATURES)

    report = run(drift_check, baseline_csv, tmp_path / "capture")

    assert report["records"]["used"] == 200 and report["rows_used"] == 600  # three rows per request
    assert report["records"]["malformed"] == 0
    assert report["drifted_features"] == ["x2"]


def test_records_from_before_the_deployment_are_ignored_and_counted(drift_check, baseline_csv, tmp_path):
    # The previous model's traffic, under the same variant prefix (blue/green keeps the variant name), drifted badly;
    # its last records share the hour folder of the deployment.
    old = invocations(sample(300, seed=4, shift={"x1": 3.0, "x4": 0.6}), DEPLOYED - timedelta(minutes=300))
    new = invocations(sample(600, seed=5), DEPLOYED)
    files = write_capture(tmp_path / "capture", old + new, FEATURES, per_file=1000)
    mixed_hour = [path for path in files if "/2026/12/01/09/" in path.as_posix()]
    assert len(mixed_hour) == 1 and '"2026-12-01T09:29:' in mixed_hour[0].read_text()

    report = run(drift_check, baseline_csv, tmp_path / "capture")

    assert report["records"]["before_since"] == 300
    assert report["records"]["used"] == 600
    assert report["records"]["first_inference_time"] == "2026-12-01T09:30:00Z"
    assert report["drifted_features"] == []
    # The same files judged from before the old traffic: its drift shows.
    earlier = run(drift_check, baseline_csv, tmp_path / "capture", since=DEPLOYED - timedelta(hours=6))
    assert earlier["records"]["before_since"] == 0
    assert set(earlier["drifted_features"]) == {"x1", "x4"}


def test_a_record_at_exactly_the_deployment_time_counts(drift_check, baseline_csv, tmp_path):
    at = [DEPLOYED - timedelta(milliseconds=1), DEPLOYED, DEPLOYED + timedelta(milliseconds=1)]
    write_capture(tmp_path / "capture", [Invocation(rows=[[1.0] * 5], at=moment) for moment in at], FEATURES)

    report = run(drift_check, baseline_csv, tmp_path / "capture", min_rows=1)

    assert report["records"]["before_since"] == 1 and report["records"]["used"] == 2


# --- edge cases ---------------------------------------------------------------------------------------------------


def test_no_capture_at_all_judges_nothing_and_publishes_no_share(drift_check, baseline_csv, tmp_path):
    (tmp_path / "capture").mkdir()

    report = run(drift_check, baseline_csv, tmp_path / "capture")

    assert report["judged"] is False and report["drifted_share"] is None
    assert report["not_judged_features"] == FEATURES and report["missing_features"] == []
    assert report["records"]["read"] == 0 and report["records"]["files"] == 0
    metrics = drift_check.metric_data(report, {"Pipeline": "churn"})
    assert [m["MetricName"] for m in metrics] == ["CaptureRecordsUsed", "CaptureRecordsMalformed"]
    assert metrics[0]["Value"] == 0


def test_too_few_rows_are_not_judged_and_min_rows_decides(drift_check, baseline_csv, tmp_path):
    write_capture(tmp_path / "capture", invocations(sample(60, seed=6, shift={"x1": 3.0}), DEPLOYED), FEATURES)

    report = run(drift_check, baseline_csv, tmp_path / "capture")  # min_rows 100
    assert report["judged"] is False and report["drifted_features"] == []
    assert report["not_judged_features"] == FEATURES
    assert all(report["features"][name] == {"rows": 60, "baseline_rows": 5000, "status": "too_few_rows"} for name in FEATURES)

    lowered = run(drift_check, baseline_csv, tmp_path / "capture", min_rows=50)
    assert lowered["judged"] is True and lowered["not_judged_features"] == []
    assert "x1" in lowered["drifted_features"] and lowered["features"]["x1"]["ks_p_value"] < 1e-6


def test_malformed_records_are_counted_by_reason_never_dropped_silently(drift_check, baseline_csv, tmp_path):
    good = invocations(sample(400, seed=7), DEPLOYED)
    files = write_capture(tmp_path / "capture", good, FEATURES, per_file=1000)
    target = files[-1]
    good_lines = target.read_text().splitlines()
    valid = json.loads(good_lines[0])

    def variant(change) -> str:
        copy = json.loads(json.dumps(valid))
        change(copy)
        return json.dumps(copy)

    def set_input(**fields):
        return lambda r: r["captureData"]["endpointInput"].update(fields)

    bad = [
        '{"captureData": {"endpointInput": ',  # a cut line
        variant(lambda r: r["eventMetadata"].pop("inferenceTime")),
        variant(lambda r: r["eventMetadata"].update(inferenceTime="yesterday")),
        variant(lambda r: r["captureData"].pop("endpointInput")),  # Output-only capture
        variant(set_input(encoding="BASE64", data="not base64!")),
        variant(set_input(encoding="CSV", data="1,2,3\n")),
        variant(set_input(encoding="CSV", data="1,2,abc,4,5\n")),
        variant(set_input(encoding="GZIP")),
        variant(set_input(encoding="JSON", data='{"instances": [[1, 2')),
        variant(set_input(encoding="JSON", data='{"other": 1}')),
        variant(set_input(encoding="BASE64", observedContentType="application/x-npy", data="AAAA")),
    ]
    with target.open("a") as handle:
        handle.write("\n")  # a blank line is no record
        handle.write("\n".join(bad) + "\n")

    report = run(drift_check, baseline_csv, tmp_path / "capture")

    records = report["records"]
    assert records["read"] == 400 + len(bad)
    assert records["used"] == 400 and records["malformed"] == len(bad)
    assert records["malformed_by_reason"] == {
        "the line is not JSON": 1,
        "no eventMetadata.inferenceTime": 1,
        "eventMetadata.inferenceTime is not an ISO 8601 time with a zone": 1,
        "no captureData.endpointInput (is Input capture on?)": 1,
        "BASE64 data does not decode to UTF-8 text": 1,
        "a CSV row has 3 values; the baseline has 5 features": 1,
        "a CSV row has a value that is not a number": 1,
        "unknown encoding 'GZIP' (SageMaker writes CSV, JSON or BASE64)": 1,
        "JSON data does not parse": 1,
        "a JSON object has none of the baseline's features": 1,
        "unsupported content type application/x-npy (the check reads CSV and JSON)": 1,
    }
    first_bad_line = len(good_lines) + 2  # after the good lines and the blank one
    examples = records["malformed_examples"]
    assert [example["line"] for example in examples] == list(range(first_bad_line, first_bad_line + len(bad)))
    assert {example["file"] for example in examples} == {target.relative_to(tmp_path / "capture").as_posix()}
    assert report["rows_used"] == 400


def records_without(rows: np.ndarray, drop) -> list[Invocation]:
    """One JSON request per row, each an object keyed by feature name, leaving out the features `drop(i)` names."""
    requests = []
    for i, row in enumerate(rows.tolist()):
        left_out = drop(i)
        values = [None if name in left_out else value for name, value in zip(FEATURES, row, strict=True)]
        requests.append(Invocation(rows=[values], at=DEPLOYED + timedelta(seconds=i), encoding="JSON", json_shape="records"))
    return requests


def test_a_feature_the_traffic_no_longer_carries_is_missing_and_counts_as_drifted(drift_check, baseline_csv, tmp_path):
    write_capture(tmp_path / "capture", records_without(sample(300, seed=8), lambda i: {"x2"}), FEATURES)
    assert '"x2"' not in "".join(path.read_text() for path in (tmp_path / "capture").rglob("*.jsonl"))

    report = run(drift_check, baseline_csv, tmp_path / "capture")

    assert report["missing_features"] == ["x2"]
    assert report["features"]["x2"] == {"rows": 0, "baseline_rows": 5000, "status": "missing"}
    assert report["drifted_features"] == []
    assert report["drifted_share"] == pytest.approx(1 / 5)
    assert report["records"]["malformed"] == 0


def test_a_sparse_feature_below_min_rows_is_not_judged_but_the_others_are(drift_check, baseline_csv, tmp_path):
    write_capture(tmp_path / "capture", records_without(sample(300, seed=9), lambda i: {"x5"} if i % 10 else set()), FEATURES)

    report = run(drift_check, baseline_csv, tmp_path / "capture")

    assert report["features"]["x5"]["status"] == "too_few_rows" and report["features"]["x5"]["rows"] == 30
    assert report["not_judged_features"] == ["x5"] and report["drifted_share"] == 0.0


def test_empty_csv_cells_are_missing_values_not_zeros(drift_check, baseline_csv, tmp_path):
    rows = sample(300, seed=10)
    requests = [
        Invocation(rows=[[None if i % 2 and j == 0 else v for j, v in enumerate(row)]], at=DEPLOYED + timedelta(seconds=i))
        for i, row in enumerate(rows.tolist())
    ]
    write_capture(tmp_path / "capture", requests, FEATURES)

    report = run(drift_check, baseline_csv, tmp_path / "capture")

    assert report["records"]["malformed"] == 0
    assert report["features"]["x1"]["rows"] == 150 and report["features"]["x2"]["rows"] == 300
    baseline = drift_check.read_baseline(baseline_csv).values
    assert report["features"]["x1"]["psi"] == drift_check.psi(baseline[:, 0], rows[::2, 0])
    assert report["features"]["x1"]["ks_statistic"] == drift_check.ks(baseline[:, 0], rows[::2, 0])[0]


def test_the_report_says_where_the_capture_files_came_from(drift_check, baseline_csv, tmp_path):
    root = tmp_path / "capture"
    write_capture(root, invocations(sample(150, seed=11), DEPLOYED), FEATURES, endpoint="churn--prod")
    write_capture(root, invocations(sample(150, seed=12), DEPLOYED), FEATURES, endpoint="churn--staging")
    (root / "notes").mkdir()
    (root / "notes" / "copied.jsonl").write_text("")

    report = run(drift_check, baseline_csv, root)
    assert report["records"]["files_by_prefix"] == {
        "(outside the yyyy/mm/dd/hh layout)": 1,
        "churn--prod/AllTraffic": 3,  # 150 minutes from 09:30: three hour folders
        "churn--staging/AllTraffic": 3,
    }
    variant_only = run(drift_check, baseline_csv, root / "churn--prod" / "AllTraffic")
    assert variant_only["records"]["files_by_prefix"] == {"": 3} and variant_only["records"]["used"] == 150


def test_lines_written_by_hand_in_the_documented_layout_are_read(drift_check, tmp_path):
    """Not through capture_format: two lines typed in the layout of the AWS documentation's example (CSV input with
    its trailing newline, CSV output with a charset, no fraction in inferenceTime), so the writer and the reader
    cannot share a misreading of the format."""
    lines = [
        '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
        '"data":"1.5,16.0,14,23.0,0\\n","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv; '
        'charset=utf-8","mode":"OUTPUT","data":"0.0254181120544672","encoding":"CSV"}},'
        '"eventMetadata":{"eventId":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","inferenceTime":"2026-12-01T09:30:00Z"},'
        '"eventVersion":"0"}',
        '{"captureData":{"endpointInput":{"observedContentType":"application/json","mode":"INPUT",'
        '"data":"{\\"instances\\": [{\\"features\\": [-2.0, 100.2, 15.2, 9.2, 1]}]}","encoding":"JSON"},'
        '"endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT","data":"{\\"predictions\\": [0.1]}",'
        '"encoding":"JSON"}},"eventMetadata":{"eventId":"aaaaaaaa-bbbb-cccc-dddd-ffffffffffff",'
        '"inferenceTime":"2026-12-01T09:31:02Z"},"eventVersion":"0"}',
    ]
    folder = tmp_path / "capture" / "churn--prod" / "AllTraffic" / "2026" / "12" / "01" / "09"
    folder.mkdir(parents=True)
    (folder / "30-00-123-55126149-826d-415a-967b-33fa7f4666f3.jsonl").write_text("\n".join(lines) + "\n")

    read = drift_check.read_capture(tmp_path / "capture", FEATURES, DEPLOYED)

    assert read.records_used == 2 and read.records_malformed == 0
    assert read.rows.tolist() == [[1.5, 16.0, 14.0, 23.0, 0.0], [-2.0, 100.2, 15.2, 9.2, 1.0]]
    assert (read.first_inference_time, read.last_inference_time) == ("2026-12-01T09:30:00Z", "2026-12-01T09:31:02Z")
