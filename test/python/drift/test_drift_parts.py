"""The drift check's parts: times, PSI, KS, the baseline file and its builder, payload shapes and the metrics."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from conftest import FEATURES, sample

# --- times --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-02-14T17:25:49Z", datetime(2022, 2, 14, 17, 25, 49, tzinfo=UTC)),
        ("2025-11-15T10:30:45.123Z", datetime(2025, 11, 15, 10, 30, 45, 123000, tzinfo=UTC)),
        ("2025-11-15T10:30:45.123456789Z", datetime(2025, 11, 15, 10, 30, 45, 123456, tzinfo=UTC)),
        ("2025-11-15T11:30:45+01:00", datetime(2025, 11, 15, 10, 30, 45, tzinfo=UTC)),
        ("2025-11-15T05:00:00-0530", datetime(2025, 11, 15, 10, 30, tzinfo=UTC)),
        ("2025-11-15 10:30:45z", datetime(2025, 11, 15, 10, 30, 45, tzinfo=UTC)),
    ],
)
def test_times_are_read_as_utc(drift_check, text, expected):
    parsed = drift_check.parse_time(text)
    assert parsed == expected and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-11-15T10:30:45", "has no time zone; add Z (UTC) or an offset"),
        ("yesterday", "is not an ISO 8601 date-time such as 2026-12-01T09:30:00Z"),
        ("2025-13-15T10:30:45Z", "month must be in 1..12"),
    ],
)
def test_times_without_a_zone_or_not_iso_are_refused(drift_check, text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        drift_check.parse_time(text)


def test_read_capture_refuses_a_naive_since(drift_check, tmp_path):
    with pytest.raises(ValueError, match="since must be an aware datetime"):
        drift_check.read_capture(tmp_path, FEATURES, datetime(2026, 12, 1))


# --- PSI and KS ---------------------------------------------------------------------------------------------------


def test_psi_is_zero_for_the_same_values_and_grows_with_the_shift(drift_check):
    values = sample(5000, seed=1)[:, 0]
    assert drift_check.psi(values, values) == pytest.approx(0.0, abs=1e-12)
    scores = [drift_check.psi(values, values + shift) for shift in (0.1, 0.25, 0.5, 1.0)]
    assert scores == sorted(scores) and scores[0] < 0.1 < scores[-1]


def test_psi_of_disjoint_values_is_large_but_finite_through_epsilon(drift_check):
    expected = np.arange(1000, dtype=float)
    actual = expected + 10_000  # every value beyond the baseline's largest: all in the top bin
    score = drift_check.psi(expected, actual)
    # nine bins fall from 10% to epsilon; the top one rises from 10% to 100%
    manual = 9 * (1e-4 - 0.1) * np.log(1e-4 / 0.1) + (1.0 - 0.1) * np.log(1.0 / 0.1)
    assert np.isfinite(score) and score == pytest.approx(manual)
    assert drift_check.psi(expected, actual, epsilon=1e-2) < score


def test_psi_bins_follow_the_baseline_quantiles_and_merge_ties(drift_check):
    binary = np.array([0.0] * 700 + [1.0] * 300)
    # ties leave two bins (0 and 1): 70/30 against 50/50
    manual = (0.5 - 0.7) * np.log(0.5 / 0.7) + (0.5 - 0.3) * np.log(0.5 / 0.3)
    assert drift_check.psi(binary, np.array([0.0, 1.0] * 500)) == pytest.approx(manual)
    with pytest.raises(ValueError, match="at least one expected and one actual value"):
        drift_check.psi(binary, np.array([]))


def test_psi_without_drift_shrinks_with_the_rows_as_the_module_says(drift_check):
    """The docstring's guide: about (bins - 1) * (1/rows + 1/baseline rows) without drift, 0.2 passed ~2% of the
    time at 100 rows, never at 300."""
    rng = np.random.default_rng(0)
    baseline = rng.normal(size=10_000)
    for rows, chance in ((100, 0.05), (300, 0.0)):
        scores = np.array([drift_check.psi(baseline, rng.normal(size=rows)) for _ in range(400)])
        assert scores.mean() == pytest.approx(9 * (1 / rows + 1 / 10_000), rel=0.15)
        assert (scores >= 0.2).mean() <= chance


def test_ks_matches_scipy(drift_check):
    from scipy import stats

    a, b = sample(500, seed=1)[:, 1], sample(300, seed=2)[:, 1]
    expected = stats.ks_2samp(a, b)
    assert drift_check.ks(a, b) == (pytest.approx(expected.statistic), pytest.approx(expected.pvalue))


# --- thresholds ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ({"psi_threshold": 0}, "psi_threshold must be a positive number, not 0"),
        ({"psi_threshold": float("inf")}, "psi_threshold must be a positive number"),
        ({"ks_alpha": 1.0}, r"ks_alpha must be between 0 and 1 \(exclusive\), not 1.0"),
        ({"min_rows": 0}, "min_rows must be at least 1, not 0"),
        ({"bins": 1}, "bins must be at least 2, not 1"),
        ({"psi_epsilon": 0}, "psi_epsilon must be between 0 and 1"),
    ],
)
def test_thresholds_out_of_range_are_refused_by_name(drift_check, thresholds, message):
    baseline = drift_check.Baseline(FEATURES, sample(200, seed=1))
    capture = drift_check.Capture(FEATURES, sample(200, seed=2))
    with pytest.raises(ValueError, match=message):
        drift_check.check_drift(baseline, capture, since=datetime(2026, 12, 1, tzinfo=UTC), **thresholds)


def test_a_baseline_smaller_than_min_rows_is_an_error_naming_the_feature(drift_check):
    baseline = drift_check.Baseline(FEATURES, sample(50, seed=1))
    capture = drift_check.Capture(FEATURES, sample(200, seed=2))
    with pytest.raises(drift_check.BaselineError, match="baseline feature 'x1' has 50 values; min_rows is 100"):
        drift_check.check_drift(baseline, capture, since=datetime(2026, 12, 1, tzinfo=UTC))


# --- the baseline file --------------------------------------------------------------------------------------------


def test_the_baseline_is_a_csv_with_a_header_and_may_be_split_over_files(drift_check, tmp_path):
    folder = tmp_path / "baseline"
    folder.mkdir()
    (folder / "part-0.csv").write_text("a,b\n1,2\n3,\n")
    (folder / "part-1.csv").write_text("a,b\n5,6\n\n")
    baseline = drift_check.read_baseline(folder)
    assert baseline.features == ["a", "b"]
    np.testing.assert_array_equal(baseline.values, [[1, 2], [3, np.nan], [5, 6]])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the first line must be a header naming the features"),
        ("a,,c\n1,2,3\n", "column 2 of the header has no name"),
        ("1.5,2\n3,4\n", "the first line is numbers; it must be a header naming the features"),
        ("a,b,a\n1,2,3\n", "the header names a more than once"),
        ("a,b\n1,2,3\n", "line 2: 3 values, the header names 2 features"),
        ("a,colour\n1,red\n", "line 2: feature 'colour' has the value 'red'; the drift check compares numeric features only"),
        ("a,b\n1,inf\n", "feature 'b' has the value 'inf'"),
    ],
)
def test_an_unusable_baseline_is_refused_with_the_file_line_and_feature(drift_check, tmp_path, content, message):
    path = tmp_path / "baseline.csv"
    path.write_text(content)
    with pytest.raises(drift_check.BaselineError, match=message):
        drift_check.read_baseline(path)


def test_a_missing_baseline_or_files_that_disagree_are_refused(drift_check, tmp_path):
    with pytest.raises(drift_check.BaselineError, match=r"no baseline.csv \(or other .csv file\) found"):
        drift_check.read_baseline(tmp_path / "nowhere")
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    (tmp_path / "b.csv").write_text("y,x\n1,2\n")
    with pytest.raises(drift_check.BaselineError, match=r"its header \['y', 'x'\] differs from the first file's"):
        drift_check.read_baseline(tmp_path)


def test_build_baseline_samples_the_labelled_training_split_uniformly_and_repeatably(drift_check, tmp_path):
    train = tmp_path / "train"
    train.mkdir()
    # The preprocessing job's layout: headerless CSV part files, label first. Row i has feature values i and -i.
    for part in range(4):
        rows = range(part * 2500, (part + 1) * 2500)
        (train / f"part-{part:05d}.csv").write_text("".join(f"{i % 2},{i},{-i}\n" for i in rows))
    (train / "part-empty.csv").write_text("")

    out = tmp_path / "model" / "baseline.csv"
    written = drift_check.build_baseline(train, out, feature_names=["size", "depth"], sample_rows=1000, seed=7)

    assert written == 1000
    baseline = drift_check.read_baseline(out)
    assert baseline.features == ["size", "depth"]
    np.testing.assert_array_equal(baseline.values[:, 1], -baseline.values[:, 0])  # rows kept whole, label dropped
    ids = baseline.values[:, 0]
    assert len(set(ids)) == 1000
    counts = np.histogram(ids, bins=4, range=(0, 10_000))[0]  # every part file is sampled about equally
    assert all(200 <= count <= 300 for count in counts), counts
    again = tmp_path / "again.csv"
    drift_check.build_baseline(train, again, feature_names=["size", "depth"], sample_rows=1000, seed=7)
    assert again.read_text() == out.read_text()


def test_build_baseline_keeps_everything_when_the_split_is_small_and_names_features_by_default(drift_check, tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "part.csv").write_text("1.5,2.5,0\n3.5,4.5,1\n")
    out = tmp_path / "baseline.csv"
    assert drift_check.build_baseline(tmp_path / "train", out, label_column="last") == 2
    assert out.read_text() == "feature_1,feature_2\n1.5,2.5\n3.5,4.5\n"


@pytest.mark.parametrize(
    ("files", "kwargs", "message"),
    [
        ({}, {}, "no non-empty .csv files"),
        ({"p.csv": "0,1,2\n1,3\n"}, {}, "line 2: 1 features, not 2"),
        ({"p.csv": "0,1,2\n"}, {"feature_names": ["a"]}, "feature_names has 1 names; the training split has 2 features"),
        ({"p.csv": "0,1,2\n"}, {"label_column": "middle"}, "label_column must be first, last or none, not 'middle'"),
        ({"p.csv": "0,1,2\n"}, {"sample_rows": 0}, "sample_rows must be at least 1, not 0"),
    ],
)
def test_build_baseline_refuses_bad_input_by_name(drift_check, tmp_path, files, kwargs, message):
    (tmp_path / "train").mkdir()
    for name, text in files.items():
        (tmp_path / "train" / name).write_text(text)
    with pytest.raises(ValueError, match=message):
        drift_check.build_baseline(tmp_path / "train", tmp_path / "baseline.csv", **kwargs)


# --- payloads -----------------------------------------------------------------------------------------------------

INDEX = {name: i for i, name in enumerate(FEATURES)}


@pytest.mark.parametrize(
    "payload",
    [
        [1, 2, 3, 4, 5],
        [[1, 2, 3, 4, 5]],
        {"instances": [[1, 2, 3, 4, 5]]},
        {"instances": [1, 2, 3, 4, 5]},
        {"inputs": [{"x1": 1, "x2": 2, "x3": 3, "x4": 4, "x5": 5}]},
        {"instances": [{"features": [1, 2, 3, 4, 5]}]},
        {"instances": [{"data": {"features": {"values": [1, 2, 3, 4, 5]}}}]},
        {"data": {"features": {"keys": [4, 0, 1, 2, 3], "shape": [5], "values": [5, 1, 2, 3, 4]}}},
        {"x5": 5, "x4": 4, "x3": "3", "x2": 2, "x1": 1, "id": "not a feature"},
    ],
)
def test_json_payload_shapes(drift_check, payload):
    assert drift_check.json_rows(payload, FEATURES, INDEX) == [[1.0, 2.0, 3.0, 4.0, 5.0]]


def test_json_lines_payloads_captured_as_json_or_base64(drift_check):
    text = '{"x1": 1, "x2": 2, "x3": 3, "x4": 4, "x5": 5}\n[6, 7, 8, 9, 10]\n'
    side = {"observedContentType": "application/jsonlines", "mode": "INPUT", "data": text, "encoding": "JSON"}
    record = {"captureData": {"endpointInput": side}}
    expected = [[1.0, 2.0, 3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.0, 10.0]]
    assert drift_check.record_rows(record, FEATURES, INDEX) == expected
    side.update(encoding="BASE64", data=base64.b64encode(text.encode()).decode())
    assert drift_check.record_rows(record, FEATURES, INDEX) == expected


def test_csv_payloads_with_several_rows_quotes_and_crlf(drift_check):
    text = '1,2,3,4,5\r\n"6","7",8,9,10\r\n\r\n'
    assert drift_check.csv_rows(text, 5) == [[1.0, 2.0, 3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.0, 10.0]]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([1, 2, 3], "a JSON row has 3 values; the baseline has 5 features"),
        ([[1, 2, 3, 4, 5], [1, 2, 3, 4, "x"]], "a JSON row has a value that is not a number"),
        ({"x1": [1]}, "a JSON row has a value that is not a number"),
        ("1,2,3,4,5", "JSON payload of type str is not a row of features"),
        ({"features": {"keys": [0], "shape": [6], "values": [1]}}, "a JSON row has 6 values; the baseline has 5 features"),
        ({"features": {"keys": [5], "shape": [5], "values": [1]}}, "a sparse JSON row has a key outside its shape"),
        ({"features": {"keys": [0, 1], "shape": [5], "values": [1]}}, "a sparse JSON row needs keys and values of one"),
    ],
)
def test_json_payloads_that_are_not_rows_are_malformed(drift_check, payload, message):
    with pytest.raises(drift_check.MalformedRecord, match=message):
        drift_check.json_rows(payload, FEATURES, INDEX)


@pytest.mark.parametrize("text", ["1,2,inf,4,5\n", "1,2,-Infinity,4,5\n", "1,,inf,4,5\n", "1,2,1e999,4,5\n"])
def test_csv_rows_with_an_infinite_value_are_malformed(drift_check, text):
    with pytest.raises(drift_check.MalformedRecord, match="a CSV row has a value that is not a number"):
        drift_check.csv_rows(text, 5)


def test_json_rows_with_an_infinite_value_are_malformed(drift_check):
    for payload in (json.loads("[1, 2, Infinity, 4, 5]"), json.loads('{"x1": -Infinity}'), [1, 2, None, 4, "inf"]):
        with pytest.raises(drift_check.MalformedRecord, match="a JSON row has a value that is not a number"):
            drift_check.json_rows(payload, FEATURES, INDEX)


def test_sparse_json_rows_fill_the_features_they_do_not_name_with_zeros(drift_check):
    payload = {"instances": [{"data": {"features": {"keys": [1, 3], "shape": [5], "values": [7, 9]}}}]}
    assert drift_check.json_rows(payload, FEATURES, INDEX) == [[0.0, 7.0, 0.0, 9.0, 0.0]]


def test_json_nulls_are_missing_values(drift_check):
    rows = drift_check.json_rows([[1, None, 3, 4, 5]], FEATURES, INDEX)
    assert rows[0][0] == 1.0 and np.isnan(rows[0][1])


def test_an_input_with_no_rows_is_malformed(drift_check):
    record = {"captureData": {"endpointInput": {"observedContentType": "text/csv", "data": "\n", "encoding": "CSV"}}}
    with pytest.raises(drift_check.MalformedRecord, match="the input holds no rows"):
        drift_check.record_rows(record, FEATURES, INDEX)


# --- metrics ------------------------------------------------------------------------------------------------------


def test_metric_data_is_put_metric_data_shaped(drift_check):
    baseline = drift_check.Baseline(FEATURES, sample(1000, seed=1))
    capture = drift_check.Capture(FEATURES, sample(300, seed=2, shift={"x4": 0.5}), records_used=300, records_malformed=2)
    report = drift_check.check_drift(baseline, capture, since=datetime(2026, 12, 1, tzinfo=UTC))
    data = drift_check.metric_data(report, {"Pipeline": "churn", "Stage": "prod"})

    dims = [{"Name": "Pipeline", "Value": "churn"}, {"Name": "Stage", "Value": "prod"}]
    assert data[0] == {"MetricName": "DriftedFeatureShare", "Dimensions": dims, "Value": 0.2, "Unit": "None"}
    psi = {item["Dimensions"][-1]["Value"]: item["Value"] for item in data if item["MetricName"] == "FeaturePSI"}
    assert psi == {name: report["features"][name]["psi"] for name in FEATURES}
    assert max(psi, key=psi.get) == "x4"
    assert all(item["Dimensions"][:2] == dims for item in data)
    assert data[-2:] == [
        {"MetricName": "CaptureRecordsUsed", "Dimensions": dims, "Value": 300, "Unit": "Count"},
        {"MetricName": "CaptureRecordsMalformed", "Dimensions": dims, "Value": 2, "Unit": "Count"},
    ]
    json.dumps(data, allow_nan=False)  # CloudWatch refuses NaN and Infinity


def test_publish_metrics_sends_at_most_1000_metrics_a_call(drift_check):
    class Client:
        def __init__(self):
            self.calls = []

        def put_metric_data(self, **kwargs):
            self.calls.append(kwargs)

    client = Client()
    data = [{"MetricName": "FeaturePSI", "Value": float(i)} for i in range(2001)]
    assert drift_check.publish_metrics(data, "Ns", client) == 3
    assert [len(call["MetricData"]) for call in client.calls] == [1000, 1000, 1]
    assert {call["Namespace"] for call in client.calls} == {"Ns"}
