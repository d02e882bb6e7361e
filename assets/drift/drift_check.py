"""Data drift check for a SageMaker real-time endpoint: captured inputs against the model's training baseline.

Runs as a SageMaker Processing job on the scikit-learn framework image, which ships numpy, scipy and boto3, so
nothing is installed at start (the 1.2-1 image runs Python 3.9, the 1.4-2 image Python 3.10 with numpy 2.1:
https://github.com/aws/sagemaker-scikit-learn-container, docker/<version>/base/Dockerfile.cpu). It never runs on
the Airflow worker. Two commands:

    drift_check.py check --since 2026-12-01T09:30:00Z [--publish-metrics --dimension Pipeline=churn ...]
    drift_check.py baseline --train <training split dir> --output <dir>/baseline.csv [--feature-names a,b,...]

`check` reads the baseline from /opt/ml/processing/input/baseline (a `baseline.csv` file or a folder of them), the
capture files from /opt/ml/processing/input/capture (every `*.jsonl` below it, any depth) and writes
`drift_report.json` and `drift_metrics.json` to /opt/ml/processing/output. A drifting model is not a failed job:
it exits 0 and the verdict is in the report and the metrics. Bad arguments or an unusable baseline exit 2.

The baseline is a sample of the training split, not per-feature statistics: the two-sample KS test needs the
values themselves, and PSI's quantile bins can be cut from the sample. `baseline.csv` is UTF-8 CSV with one header
row naming the features in the order the endpoint receives them (the order of a `text/csv` request's columns),
then numeric rows, no label column, at most --sample-rows rows (default 10,000: about 1 MB for 30 features, and
KS and decile PSI are stable far below that). `baseline` writes it from the headerless, label-first training split
the preprocessing job produces, with a uniform, seeded reservoir sample.

Capture files are what SageMaker writes for an endpoint with DataCaptureConfig: JSON Lines under
`<destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl`, one invocation per line, e.g.
{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"69,0,153.7\\n",
"encoding":"CSV"},"endpointOutput":{...}},"eventMetadata":{"eventId":"...","inferenceTime":"2022-02-14T17:25:49Z"},
"eventVersion":"0"}
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html, "View Captured Data").
`encoding` is CSV or JSON for content types listed in CaptureContentTypeHeader, else BASE64 ("If no headers are
specified SageMaker AI will by default base64 encode",
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataCaptureConfig.html). Blue/green deployments
keep the variant name, so the old model's captures share the prefix
(https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html): only records with
inferenceTime >= --since (the current deployment's time) count; older ones are counted and ignored. A record that
cannot be read is counted as malformed, by reason, with examples; it never vanishes silently.

Per feature: PSI over quantile bins cut from the baseline (an empty bin counts as --psi-epsilon) and the
two-sample Kolmogorov-Smirnov test (scipy.stats.ks_2samp,
https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.ks_2samp.html). A feature drifts when
PSI >= --psi-threshold (0.2: the usual "significant shift" band, also AWS's fraud-detection sample's alarm level,
aws-samples/sample-mlops-bestpractices) or the KS p-value < --ks-alpha. A feature with fewer than --min-rows
captured values is not judged. A feature the traffic no longer carries at all (no value in --min-rows or more
rows) is "missing" and counts as drifted. Only numeric features are compared.

Reading the numbers: without drift, PSI still grows as samples shrink (about (bins - 1) * (1/rows + 1/baseline
rows): 0.09 at 100 rows and 10 bins, so 0.2 is passed by chance about 2% of the time there), and KS flags a feature
ks_alpha of the time (5%); with many rows KS also flags shifts too small to matter, which PSI does not. Judge the
drifted share, not single features: with 30 undrifted features about 1.5 are flagged on average, so an alarm on
DriftedFeatureShare belongs well above ks_alpha (e.g. 0.3, the share the README of AWS's batch-monitoring sample alerts at).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import csv
import json
import math
import random
import re
import sys
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

BASELINE_INPUT = "/opt/ml/processing/input/baseline"
CAPTURE_INPUT = "/opt/ml/processing/input/capture"
OUTPUT_DIR = "/opt/ml/processing/output"
BASELINE_FILE = "baseline.csv"
REPORT_FILE = "drift_report.json"
METRICS_FILE = "drift_metrics.json"

DEFAULT_PSI_THRESHOLD = 0.2
DEFAULT_KS_ALPHA = 0.05
DEFAULT_MIN_ROWS = 100
DEFAULT_BINS = 10
DEFAULT_PSI_EPSILON = 1e-4
DEFAULT_SAMPLE_ROWS = 10_000
DEFAULT_NAMESPACE = "CdkMwaaMlops/Drift"
MALFORMED_EXAMPLES = 20
# "Each request is also limited to no more than 1000 different metrics", and NaN/Infinity are refused
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
PUT_METRIC_DATA_BATCH = 1000

REPORT_SCHEMA_VERSION = 1


class BaselineError(ValueError):
    """The baseline cannot be used; the message names the file and what is wrong."""


class MalformedRecord(ValueError):
    """One capture record cannot be read; the message is the reason reported for it."""


@dataclass
class Baseline:
    features: list[str]
    values: np.ndarray  # (rows, features), float64, NaN where a value is empty


@dataclass
class Capture:
    """The feature rows of the records that count, and how every record read was accounted for."""

    features: list[str]
    rows: np.ndarray  # (rows, features), float64, NaN where a record did not carry the feature
    files_read: int = 0
    #: files per folder above the hourly layout (`<endpoint>/<variant>` when the whole destination is mounted)
    files_by_prefix: dict[str, int] = field(default_factory=dict)
    records_read: int = 0
    records_used: int = 0
    records_before_since: int = 0
    records_malformed: int = 0
    malformed_by_reason: dict[str, int] = field(default_factory=dict)
    malformed_examples: list[dict[str, Any]] = field(default_factory=list)
    first_inference_time: str | None = None
    last_inference_time: str | None = None


# ---------------------------------------------------------------------------------------------------------------
# Times

_ISO_8601 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE
)


def parse_time(text: str) -> datetime:
    """An ISO 8601 date-time with a time zone (`Z` or an offset), as an aware UTC datetime; ValueError otherwise.

    Python 3.9's datetime.fromisoformat takes neither `Z` nor 1-9 fractional digits, so this parses them itself."""
    match = _ISO_8601.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not an ISO 8601 date-time such as 2026-12-01T09:30:00Z")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone is None:
        raise ValueError(f"{text!r} has no time zone; add Z (UTC) or an offset such as +01:00")
    if zone.upper() == "Z":
        tz = timezone.utc
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz)
    return moment.astimezone(timezone.utc)


def format_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------------------------
# The baseline


def _parse_number(text: str) -> float:
    """A CSV cell as a float; an empty cell is NaN (a missing value); anything else raises ValueError."""
    text = text.strip()
    if not text:
        return math.nan
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text!r} is not a finite number")
    return number


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def baseline_files(path: str | Path) -> list[Path]:
    """The baseline's CSV files: `path` itself, or every `*.csv` below the folder `path`, sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*.csv") if p.is_file()) if path.is_dir() else []
    if not files:
        raise BaselineError(f"baseline {path}: no {BASELINE_FILE} (or other .csv file) found")
    return files


def read_baseline(path: str | Path) -> Baseline:
    """Reads the baseline: CSV with a header row of feature names, then numeric rows (see the module's docstring)."""
    features: list[str] | None = None
    flat = array("d")
    for file in baseline_files(path):
        with open(file, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header or not any(name.strip() for name in header):
                raise BaselineError(f"baseline {file}: the first line must be a header naming the features")
            names = [name.strip() for name in header]
            if any(not name for name in names):
                raise BaselineError(f"baseline {file}: column {names.index('') + 1} of the header has no name")
            if all(_is_number(name) for name in names):
                raise BaselineError(f"baseline {file}: the first line is numbers; it must be a header naming the features")
            duplicates = sorted({name for name in names if names.count(name) > 1})
            if duplicates:
                raise BaselineError(f"baseline {file}: the header names {', '.join(duplicates)} more than once")
            if features is None:
                features = names
            elif names != features:
                raise BaselineError(f"baseline {file}: its header {names} differs from the first file's {features}")
            for line_number, row in enumerate(reader, start=2):
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != len(features):
                    raise BaselineError(
                        f"baseline {file} line {line_number}: {len(row)} values, the header names {len(features)} features"
                    )
                for name, cell in zip(features, row):
                    try:
                        flat.append(_parse_number(cell))
                    except ValueError:
                        raise BaselineError(
                            f"baseline {file} line {line_number}: feature {name!r} has the value {cell!r}; "
                            "the drift check compares numeric features only"
                        ) from None
    assert features is not None  # baseline_files returned at least one file and each has a header
    values = np.frombuffer(flat, dtype=np.float64).reshape(-1, len(features)) if flat else np.empty((0, len(features)))
    return Baseline(features=features, values=values)


def build_baseline(
    train: str | Path,
    output: str | Path,
    *,
    feature_names: list[str] | None = None,
    label_column: str = "first",
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    seed: int = 0,
) -> int:
    """Writes `output` (baseline.csv) from the headerless CSV files below `train`; returns the rows written.

    `label_column` is where the training split keeps its label: "first" (the preprocessing job's layout), "last" or
    "none". Rows are a uniform reservoir sample of at most `sample_rows`, the same for the same seed and files."""
    if label_column not in ("first", "last", "none"):
        raise ValueError(f"label_column must be first, last or none, not {label_column!r}")
    if sample_rows < 1:
        raise ValueError(f"sample_rows must be at least 1, not {sample_rows}")
    files = sorted(p for p in Path(train).rglob("*.csv") if p.is_file() and p.stat().st_size > 0)
    if not files:
        raise BaselineError(f"training split {train}: no non-empty .csv files")
    rng = random.Random(seed)
    sample: list[list[str]] = []
    seen = 0
    width: int | None = None
    for file in files:
        with open(file, newline="", encoding="utf-8") as handle:
            for line_number, row in enumerate(csv.reader(handle), start=1):
                if not row:
                    continue
                if label_column == "first":
                    row = row[1:]
                elif label_column == "last":
                    row = row[:-1]
                if width is None:
                    width = len(row)
                elif len(row) != width:
                    raise BaselineError(f"training split {file} line {line_number}: {len(row)} features, not {width}")
                seen += 1
                if len(sample) < sample_rows:
                    sample.append(row)
                else:
                    slot = rng.randrange(seen)
                    if slot < sample_rows:
                        sample[slot] = row
    if width is None:
        raise BaselineError(f"training split {train}: no rows")
    names = feature_names or [f"feature_{i}" for i in range(1, width + 1)]
    if len(names) != width:
        raise BaselineError(f"feature_names has {len(names)} names; the training split has {width} features")
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(sample)
    return len(sample)


# ---------------------------------------------------------------------------------------------------------------
# Capture records


def decode_payload(side: Any) -> tuple[str, Any]:
    """The payload of `captureData.endpointInput` as ("csv", its text) or ("json", its parsed value)."""
    if not isinstance(side, dict):
        raise MalformedRecord("no captureData.endpointInput (is Input capture on?)")
    content_type = side.get("observedContentType")
    content_type = content_type.split(";")[0].strip().lower() if isinstance(content_type, str) else ""
    encoding = side.get("encoding")
    data = side.get("data")
    if data is None:
        raise MalformedRecord("endpointInput has no data")
    if encoding == "CSV":
        if not isinstance(data, str):
            raise MalformedRecord("CSV data is not a string")
        return "csv", data
    if encoding == "JSON":
        return "json", _load_json(data, content_type) if isinstance(data, str) else data
    if encoding == "BASE64":
        if not isinstance(data, str):
            raise MalformedRecord("BASE64 data is not a string")
        try:
            text = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise MalformedRecord("BASE64 data does not decode to UTF-8 text") from None
        if "csv" in content_type:
            return "csv", text
        if "json" in content_type:
            return "json", _load_json(text, content_type)
        raise MalformedRecord(f"unsupported content type {content_type or 'none'!s} (the check reads CSV and JSON)")
    raise MalformedRecord(f"unknown encoding {encoding!r} (SageMaker writes CSV, JSON or BASE64)")


def _load_json(text: str, content_type: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        if "jsonlines" not in content_type:
            raise MalformedRecord("JSON data does not parse") from None
    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError:
        raise MalformedRecord("JSON Lines data does not parse") from None


def csv_rows(text: str, width: int) -> list[list[float]]:
    """The feature rows of a CSV payload: one row per line, no header, the baseline's column order."""
    rows = []
    lines = text.splitlines()
    if any('"' in line for line in lines):
        lines_cells = list(csv.reader(lines))
    else:
        lines_cells = [line.split(",") for line in lines]
    for cells in lines_cells:
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if len(cells) != width:
            raise MalformedRecord(f"a CSV row has {len(cells)} values; the baseline has {width} features")
        try:
            rows.append(_parse_row(cells))
        except ValueError:
            raise MalformedRecord("a CSV row has a value that is not a number") from None
    return rows


def _parse_row(cells: list[str]) -> list[float]:
    """CSV cells as floats, as _parse_number does, with a fast path for a row without empty cells."""
    try:
        row = list(map(float, cells))
    except ValueError:
        row = [_parse_number(cell) for cell in cells]
    if math.inf in row or -math.inf in row:
        raise ValueError("not a finite number")
    return row


def _number(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, (bool, int, float)):
        number = float(value)
    elif isinstance(value, str):
        number = _parse_number(value)
    else:
        raise ValueError(value)
    if math.isinf(number):
        raise ValueError(value)
    return number


def json_rows(payload: Any, features: list[str], index: dict[str, int]) -> list[list[float]]:
    """The feature rows of a JSON payload. Understood shapes: a row (a list of numbers in the baseline's order, an
    object keyed by feature name, or one of the instance formats of SageMaker's built-in algorithms), a list of
    rows, or {"instances"|"inputs": rows} (https://docs.aws.amazon.com/sagemaker/latest/dg/cdf-inference.html)."""
    if isinstance(payload, dict):
        for key in ("instances", "inputs"):
            if key in payload:
                inner = payload[key]
                return json_rows(inner if isinstance(inner, list) else [inner], features, index)
    if isinstance(payload, list) and payload and all(isinstance(item, (list, dict)) for item in payload):
        rows: list[list[float]] = []
        for item in payload:
            rows.append(_json_row(item, features, index))
        return rows
    return [_json_row(payload, features, index)]


def _unwrap(item: Any, width: int) -> Any:
    """The features of one instance of SageMaker's JSON formats: {"features": [...]}, {"data": {"features":
    {"values": [...]}}} or the sparse {"keys": [...], "shape": [n], "values": [...]} (as a dense list)."""
    if isinstance(item, dict) and isinstance(item.get("data"), dict) and "features" in item["data"]:
        item = item["data"]["features"]
    elif isinstance(item, dict) and isinstance(item.get("features"), (list, dict)):
        item = item["features"]
    if not (isinstance(item, dict) and isinstance(item.get("values"), list)):
        return item
    keys, values = item.get("keys"), item["values"]
    if keys is None:
        return values
    shape = item.get("shape")
    size = shape[0] if isinstance(shape, list) and len(shape) == 1 and isinstance(shape[0], int) else None
    if size is None or not isinstance(keys, list) or len(keys) != len(values):
        raise MalformedRecord("a sparse JSON row needs keys and values of one length and a one-number shape")
    if size != width:
        raise MalformedRecord(f"a JSON row has {size} values; the baseline has {width} features")
    dense: list[Any] = [0.0] * size
    for key, value in zip(keys, values):
        if not (isinstance(key, int) and 0 <= key < size):
            raise MalformedRecord("a sparse JSON row has a key outside its shape")
        dense[key] = value
    return dense


def _json_row(item: Any, features: list[str], index: dict[str, int]) -> list[float]:
    item = _unwrap(item, len(features))
    try:
        if isinstance(item, list):
            if len(item) != len(features):
                raise MalformedRecord(f"a JSON row has {len(item)} values; the baseline has {len(features)} features")
            try:
                row = list(map(float, item))  # the common case: numbers only
            except (TypeError, ValueError):
                return [_number(value) for value in item]
            if math.inf in row or -math.inf in row:
                raise ValueError("not a finite number")
            return row
        if isinstance(item, dict):
            row = [math.nan] * len(features)
            known = 0
            for key, value in item.items():
                position = index.get(key)
                if position is not None:
                    row[position] = _number(value)
                    known += 1
            if not known:
                raise MalformedRecord("a JSON object has none of the baseline's features")
            return row
    except ValueError as error:
        if isinstance(error, MalformedRecord):
            raise
        raise MalformedRecord("a JSON row has a value that is not a number") from None
    raise MalformedRecord(f"JSON payload of type {type(item).__name__} is not a row of features")


def record_rows(record: Any, features: list[str], index: dict[str, int]) -> list[list[float]]:
    """The feature rows of one parsed capture record's input."""
    capture = record.get("captureData") if isinstance(record, dict) else None
    if not isinstance(capture, dict):
        raise MalformedRecord("no captureData")
    kind, payload = decode_payload(capture.get("endpointInput"))
    if kind == "csv":
        rows = csv_rows(payload, len(features))
    else:
        rows = json_rows(payload, features, index)
    if not rows:
        raise MalformedRecord("the input holds no rows")
    return rows


def record_time(record: Any) -> datetime:
    metadata = record.get("eventMetadata") if isinstance(record, dict) else None
    text = metadata.get("inferenceTime") if isinstance(metadata, dict) else None
    if not isinstance(text, str):
        raise MalformedRecord("no eventMetadata.inferenceTime")
    try:
        return parse_time(text)
    except ValueError:
        raise MalformedRecord("eventMetadata.inferenceTime is not an ISO 8601 time with a zone") from None


def capture_files(path: str | Path) -> list[Path]:
    """Every `*.jsonl` file below `path` (the capture prefix, mounted at any level of its hourly layout), sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*.jsonl") if p.is_file()) if path.is_dir() else []


_HOURLY = re.compile(r"^(?:(.*)/)?\d{4}/\d{2}/\d{2}/\d{2}/[^/]+$")
OUTSIDE_LAYOUT = "(outside the yyyy/mm/dd/hh layout)"


def layout_prefix(relative: str) -> str:
    """The folders above `yyyy/mm/dd/hh/<file>` in a capture file's path relative to the capture input ("" when the
    input is mounted at the variant's prefix), or OUTSIDE_LAYOUT."""
    match = _HOURLY.match(relative)
    return (match.group(1) or "") if match else OUTSIDE_LAYOUT


def read_capture(path: str | Path, features: list[str], since: datetime) -> Capture:
    """Reads the capture files below `path`; rows of records with inferenceTime >= `since` count."""
    if since.tzinfo is None:
        raise ValueError("since must be an aware datetime (with a time zone)")
    base = Path(path)
    index = {name: position for position, name in enumerate(features)}
    flat = array("d")
    result = Capture(features=features, rows=np.empty((0, len(features))))
    first: datetime | None = None
    last: datetime | None = None

    def malformed(file: Path, line_number: int, reason: str) -> None:
        result.records_malformed += 1
        result.malformed_by_reason[reason] = result.malformed_by_reason.get(reason, 0) + 1
        if len(result.malformed_examples) < MALFORMED_EXAMPLES:
            where = file.relative_to(base).as_posix() if base.is_dir() else file.name
            result.malformed_examples.append({"file": where, "line": line_number, "reason": reason})

    for file in capture_files(base):
        result.files_read += 1
        prefix = layout_prefix(file.relative_to(base).as_posix() if base.is_dir() else file.name)
        result.files_by_prefix[prefix] = result.files_by_prefix.get(prefix, 0) + 1
        with open(file, encoding="utf-8", errors="replace") as handle:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                result.records_read += 1
                try:
                    record = json.loads(line)
                except ValueError:
                    malformed(file, line_number, "the line is not JSON")
                    continue
                try:
                    moment = record_time(record)
                    if moment < since:
                        result.records_before_since += 1
                        continue
                    rows = record_rows(record, features, index)
                except MalformedRecord as error:
                    malformed(file, line_number, str(error))
                    continue
                for row in rows:
                    flat.extend(row)
                result.records_used += 1
                first = moment if first is None or moment < first else first
                last = moment if last is None or moment > last else last
    if flat:
        result.rows = np.frombuffer(flat, dtype=np.float64).reshape(-1, len(features))
    result.first_inference_time = format_time(first) if first else None
    result.last_inference_time = format_time(last) if last else None
    return result


# ---------------------------------------------------------------------------------------------------------------
# Statistics


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = DEFAULT_BINS, epsilon: float = DEFAULT_PSI_EPSILON) -> float:
    """Population stability index of `actual` against `expected`, over `bins` quantile bins of `expected`.

    Ties merge bins (a feature with few distinct values gets fewer bins); values outside the baseline's range fall
    into the outer bins. An empty bin counts as the share `epsilon` so that the logarithm stays finite."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    if expected.size == 0 or actual.size == 0:
        raise ValueError("psi needs at least one expected and one actual value")
    edges = np.unique(np.quantile(expected, np.linspace(0.0, 1.0, bins + 1))[1:-1])
    expected_share = np.bincount(np.searchsorted(edges, expected, side="right"), minlength=edges.size + 1) / expected.size
    actual_share = np.bincount(np.searchsorted(edges, actual, side="right"), minlength=edges.size + 1) / actual.size
    expected_share = np.maximum(expected_share, epsilon)
    actual_share = np.maximum(actual_share, epsilon)
    return float(np.sum((actual_share - expected_share) * np.log(actual_share / expected_share)))


def ks(expected: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    """The two-sample Kolmogorov-Smirnov statistic and p-value (two-sided)."""
    result = stats.ks_2samp(expected, actual)
    return float(result.statistic), float(result.pvalue)


def _check_thresholds(psi_threshold: float, ks_alpha: float, min_rows: int, bins: int, psi_epsilon: float) -> None:
    if not (psi_threshold > 0 and math.isfinite(psi_threshold)):
        raise ValueError(f"psi_threshold must be a positive number, not {psi_threshold}")
    if not 0 < ks_alpha < 1:
        raise ValueError(f"ks_alpha must be between 0 and 1 (exclusive), not {ks_alpha}")
    if min_rows < 1:
        raise ValueError(f"min_rows must be at least 1, not {min_rows}")
    if bins < 2:
        raise ValueError(f"bins must be at least 2, not {bins}")
    if not 0 < psi_epsilon < 1:
        raise ValueError(f"psi_epsilon must be between 0 and 1 (exclusive), not {psi_epsilon}")


def check_drift(
    baseline: Baseline,
    capture: Capture,
    *,
    since: datetime,
    psi_threshold: float = DEFAULT_PSI_THRESHOLD,
    ks_alpha: float = DEFAULT_KS_ALPHA,
    min_rows: int = DEFAULT_MIN_ROWS,
    bins: int = DEFAULT_BINS,
    psi_epsilon: float = DEFAULT_PSI_EPSILON,
    checked_at: datetime | None = None,
) -> dict[str, Any]:
    """The drift report (a JSON-ready dict) of `capture` against `baseline`."""
    _check_thresholds(psi_threshold, ks_alpha, min_rows, bins, psi_epsilon)
    if capture.features != baseline.features:
        raise ValueError("capture was read for other features than the baseline's")
    rows_used = int(capture.rows.shape[0])
    features: dict[str, dict[str, Any]] = {}
    for position, name in enumerate(baseline.features):
        expected = baseline.values[:, position]
        expected = expected[~np.isnan(expected)]
        actual = capture.rows[:, position]
        actual = actual[~np.isnan(actual)]
        entry: dict[str, Any] = {"rows": int(actual.size), "baseline_rows": int(expected.size)}
        if expected.size < min_rows:
            raise BaselineError(
                f"baseline feature {name!r} has {expected.size} values; min_rows is {min_rows}: "
                "write a larger baseline sample or lower min_rows"
            )
        if actual.size == 0 and rows_used >= min_rows:
            entry["status"] = "missing"
        elif actual.size < min_rows:
            entry["status"] = "too_few_rows"
        else:
            score = psi(expected, actual, bins, psi_epsilon)
            statistic, p_value = ks(expected, actual)
            drifted_by = [test for test, hit in (("psi", score >= psi_threshold), ("ks", p_value < ks_alpha)) if hit]
            entry.update(
                status="drift" if drifted_by else "no_drift",
                psi=score,
                ks_statistic=statistic,
                ks_p_value=p_value,
                drifted_by=drifted_by,
            )
        features[name] = entry
    by_status: dict[str, list[str]] = {"drift": [], "no_drift": [], "missing": [], "too_few_rows": []}
    for name, entry in features.items():
        by_status[entry["status"]].append(name)
    counted = len(by_status["drift"]) + len(by_status["no_drift"]) + len(by_status["missing"])
    share = (len(by_status["drift"]) + len(by_status["missing"])) / counted if counted else None
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "checked_at": format_time(checked_at or datetime.now(timezone.utc)),
        "since": format_time(since),
        "judged": share is not None,
        "drifted_share": share,
        "drifted_features": by_status["drift"],
        "missing_features": by_status["missing"],
        "not_judged_features": by_status["too_few_rows"],
        "thresholds": {
            "psi": psi_threshold,
            "ks_alpha": ks_alpha,
            "min_rows": min_rows,
            "bins": bins,
            "psi_epsilon": psi_epsilon,
        },
        "baseline": {"rows": int(baseline.values.shape[0]), "features": list(baseline.features)},
        "records": {
            "files": capture.files_read,
            "files_by_prefix": dict(sorted(capture.files_by_prefix.items())),
            "read": capture.records_read,
            "used": capture.records_used,
            "before_since": capture.records_before_since,
            "malformed": capture.records_malformed,
            "malformed_by_reason": dict(sorted(capture.malformed_by_reason.items())),
            "malformed_examples": list(capture.malformed_examples),
            "first_inference_time": capture.first_inference_time,
            "last_inference_time": capture.last_inference_time,
        },
        "rows_used": rows_used,
        "features": features,
    }


# ---------------------------------------------------------------------------------------------------------------
# Metrics


def metric_data(report: dict[str, Any], dimensions: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The report's CloudWatch metrics, shaped as PutMetricData's MetricData items: DriftedFeatureShare (only when
    some feature was judged, so an alarm keeps its state when there is too little traffic), FeaturePSI per judged
    feature (dimension Feature added), CaptureRecordsUsed and CaptureRecordsMalformed."""
    base = [{"Name": name, "Value": value} for name, value in (dimensions or {}).items()]
    data: list[dict[str, Any]] = []
    if report["drifted_share"] is not None:
        data.append({"MetricName": "DriftedFeatureShare", "Dimensions": base, "Value": report["drifted_share"], "Unit": "None"})
    for name, entry in report["features"].items():
        if "psi" in entry:
            data.append(
                {
                    "MetricName": "FeaturePSI",
                    "Dimensions": [*base, {"Name": "Feature", "Value": name}],
                    "Value": entry["psi"],
                    "Unit": "None",
                }
            )
    records = report["records"]
    data.append({"MetricName": "CaptureRecordsUsed", "Dimensions": base, "Value": records["used"], "Unit": "Count"})
    data.append({"MetricName": "CaptureRecordsMalformed", "Dimensions": base, "Value": records["malformed"], "Unit": "Count"})
    return data


def publish_metrics(data: list[dict[str, Any]], namespace: str, client: Any) -> int:
    """Sends `data` with PutMetricData through `client` (a boto3 CloudWatch client); returns the calls made."""
    calls = 0
    for start in range(0, len(data), PUT_METRIC_DATA_BATCH):
        client.put_metric_data(Namespace=namespace, MetricData=data[start : start + PUT_METRIC_DATA_BATCH])
        calls += 1
    return calls


# ---------------------------------------------------------------------------------------------------------------
# Command line


def _positive_float(flag: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (value > 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"{flag} must be a positive number, not {text!r}")
        return value

    return parse


def _fraction(flag: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not 0 < value < 1:
            raise argparse.ArgumentTypeError(f"{flag} must be a number between 0 and 1 (exclusive), not {text!r}")
        return value

    return parse


def _int_at_least(flag: str, least: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = least - 1
        if value < least:
            raise argparse.ArgumentTypeError(f"{flag} must be a whole number of at least {least}, not {text!r}")
        return value

    return parse


def _since(text: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--since: {error}") from None


def _dimension(text: str) -> tuple[str, str]:
    name, _, value = text.partition("=")
    if not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"--dimension must be Name=Value, not {text!r}")
    return name.strip(), value.strip()


def _namespace(text: str) -> str:
    # "You cannot specify a namespace that begins with "AWS/"" (PutMetricData, Namespace).
    if not text.strip() or text.startswith("AWS/"):
        raise argparse.ArgumentTypeError(f"--metric-namespace must be a custom namespace, not starting with AWS/: {text!r}")
    return text


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="drift_check.py", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="compare captured endpoint inputs with the baseline")
    check.add_argument("--since", type=_since, required=True, help="the deployment time (ISO 8601 with a zone)")
    check.add_argument("--baseline", default=BASELINE_INPUT, help="baseline.csv, or a folder with it")
    check.add_argument("--capture", default=CAPTURE_INPUT, help="folder of capture files (*.jsonl at any depth)")
    check.add_argument("--output", default=OUTPUT_DIR, help="folder for the report and the metrics")
    check.add_argument("--psi-threshold", type=_positive_float("--psi-threshold"), default=DEFAULT_PSI_THRESHOLD)
    check.add_argument("--ks-alpha", type=_fraction("--ks-alpha"), default=DEFAULT_KS_ALPHA)
    check.add_argument("--min-rows", type=_int_at_least("--min-rows", 1), default=DEFAULT_MIN_ROWS)
    check.add_argument("--bins", type=_int_at_least("--bins", 2), default=DEFAULT_BINS)
    check.add_argument("--psi-epsilon", type=_fraction("--psi-epsilon"), default=DEFAULT_PSI_EPSILON)
    check.add_argument("--publish-metrics", action="store_true", help="send the metrics to CloudWatch")
    check.add_argument("--metric-namespace", type=_namespace, default=DEFAULT_NAMESPACE)
    check.add_argument("--dimension", type=_dimension, action="append", default=[], help="Name=Value, repeatable")
    check.add_argument("--region", default=None, help="CloudWatch's region (default: the job's)")

    make = commands.add_parser("baseline", help="write baseline.csv from the training split")
    make.add_argument("--train", required=True, help="folder of the training split's headerless CSV files")
    make.add_argument("--output", required=True, help="the baseline.csv to write")
    make.add_argument("--feature-names", default=None, help="comma-separated, in column order")
    make.add_argument("--label-column", choices=("first", "last", "none"), default="first")
    make.add_argument("--sample-rows", type=_int_at_least("--sample-rows", 1), default=DEFAULT_SAMPLE_ROWS)
    make.add_argument("--seed", type=int, default=0)
    return root


def run_check(args: argparse.Namespace, cloudwatch: Any = None) -> dict[str, Any]:
    baseline = read_baseline(args.baseline)
    capture = read_capture(args.capture, baseline.features, args.since)
    report = check_drift(
        baseline,
        capture,
        since=args.since,
        psi_threshold=args.psi_threshold,
        ks_alpha=args.ks_alpha,
        min_rows=args.min_rows,
        bins=args.bins,
        psi_epsilon=args.psi_epsilon,
    )
    dimensions = dict(args.dimension)
    data = metric_data(report, dimensions)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    metrics = {"namespace": args.metric_namespace, "metric_data": data}
    (output / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    if args.publish_metrics:
        if cloudwatch is None:
            import boto3  # in the SageMaker scikit-learn image; only needed when publishing

            cloudwatch = boto3.client("cloudwatch", region_name=args.region)
        publish_metrics(data, args.metric_namespace, cloudwatch)
    return report


def main(argv: list[str] | None = None, cloudwatch: Any = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "baseline":
            names = [name.strip() for name in args.feature_names.split(",")] if args.feature_names else None
            written = build_baseline(
                args.train,
                args.output,
                feature_names=names,
                label_column=args.label_column,
                sample_rows=args.sample_rows,
                seed=args.seed,
            )
            print(f"baseline: wrote {written} rows to {args.output}")
            return 0
        report = run_check(args, cloudwatch)
    except (BaselineError, ValueError) as error:
        print(f"drift_check.py: error: {error}", file=sys.stderr)
        return 2
    records = report["records"]
    if len(records["files_by_prefix"]) > 1:
        print(f"warning: capture files from several places are compared as one: {records['files_by_prefix']}")
    verdict = "not judged (too few rows)" if not report["judged"] else f"drifted share {report['drifted_share']:.3f}"
    print(
        f"drift check since {report['since']}: {verdict}; drifted {report['drifted_features'] or 'none'}, "
        f"missing {report['missing_features'] or 'none'}; records used {records['used']}, "
        f"before since {records['before_since']}, malformed {records['malformed']} of {records['read']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
