"""Synthetic SageMaker data-capture files, written the way SageMaker writes them for a real-time endpoint.

One invocation per line (JSON Lines), `captureData.endpointInput`/`endpointOutput` with `observedContentType`,
`mode`, `data` and `encoding`, `eventMetadata {eventId, inferenceTime}` and `eventVersion` "0"
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html, "View Captured Data"),
in files at `<endpoint>/<variant>/yyyy/mm/dd/hh/<mm>-<ss>-<ms>-<uuid>.jsonl`, one folder per hour of invocation
(the object names of AWS's own samples, e.g. `34-30-683-55126149-826d-415a-967b-33fa7f4666f3.jsonl`).
Encodings: CSV and JSON for content types listed in CaptureContentTypeHeader, BASE64 otherwise.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ENDPOINT = "churn--prod"
VARIANT = "AllTraffic"
ENCODINGS = ("CSV", "JSON", "BASE64")


@dataclass
class Invocation:
    """One endpoint request: its rows of features, when it happened and how its input was captured."""

    rows: Sequence[Sequence[float | None]]
    at: datetime
    encoding: str = "CSV"
    #: JSON payload shape: "instances" ({"instances": [[...]]}), "records" ([{"x1": ...}]) or "list" ([[...]])
    json_shape: str = "instances"
    #: the request's content type when it is captured as BASE64: text/csv or application/json
    content_type: str = "text/csv"


def _csv(rows: Sequence[Sequence[float | None]]) -> str:
    """CSV lines; None is an empty cell."""
    return "".join(",".join("" if value is None else repr(float(value)) for value in row) + "\n" for row in rows)


def _json(rows: Sequence[Sequence[float]], shape: str, features: Sequence[str]) -> str:
    if shape == "records":
        # None leaves the feature out of the object, as a client that does not send it
        objects = [{name: float(v) for name, v in zip(features, row, strict=True) if v is not None} for row in rows]
        return json.dumps(objects)
    matrix = [[float(value) for value in row] for row in rows]
    return json.dumps({"instances": matrix} if shape == "instances" else matrix)


def endpoint_input(invocation: Invocation, features: Sequence[str]) -> dict[str, Any]:
    if invocation.encoding == "CSV":
        return {"observedContentType": "text/csv", "mode": "INPUT", "data": _csv(invocation.rows), "encoding": "CSV"}
    if invocation.encoding == "JSON":
        data = _json(invocation.rows, invocation.json_shape, features)
        return {"observedContentType": "application/json", "mode": "INPUT", "data": data, "encoding": "JSON"}
    if invocation.encoding == "BASE64":
        # A content type not listed in CaptureContentTypeHeader: SageMaker base64-encodes the bytes.
        is_csv = invocation.content_type == "text/csv"
        text = _csv(invocation.rows) if is_csv else _json(invocation.rows, invocation.json_shape, features)
        data = base64.b64encode(text.encode()).decode()
        return {"observedContentType": invocation.content_type, "mode": "INPUT", "data": data, "encoding": "BASE64"}
    raise ValueError(invocation.encoding)


def record(invocation: Invocation, features: Sequence[str]) -> dict[str, Any]:
    output = "".join("0.5\n" for _ in invocation.rows)
    return {
        "captureData": {
            "endpointInput": endpoint_input(invocation, features),
            "endpointOutput": {
                "observedContentType": "text/csv; charset=utf-8",
                "mode": "OUTPUT",
                "data": output,
                "encoding": "CSV",
            },
        },
        "eventMetadata": {
            "eventId": str(uuid.uuid4()),
            "inferenceTime": invocation.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{invocation.at.microsecond // 1000:03d}Z",
        },
        "eventVersion": "0",
    }


def hour_folder(root: Path, at: datetime, endpoint: str = ENDPOINT, variant: str = VARIANT) -> Path:
    at = at.astimezone(UTC)
    return root / endpoint / variant / f"{at:%Y}" / f"{at:%m}" / f"{at:%d}" / f"{at:%H}"


def write_capture(
    root: Path,
    invocations: Iterable[Invocation],
    features: Sequence[str],
    *,
    endpoint: str = ENDPOINT,
    variant: str = VARIANT,
    per_file: int = 250,
) -> list[Path]:
    """Writes the invocations into hourly folders under `root`, at most `per_file` lines a file; returns the files."""
    by_hour: dict[Path, list[Invocation]] = defaultdict(list)
    for invocation in sorted(invocations, key=lambda item: item.at):
        by_hour[hour_folder(root, invocation.at, endpoint, variant)].append(invocation)
    files = []
    for folder, items in by_hour.items():
        folder.mkdir(parents=True, exist_ok=True)
        for start in range(0, len(items), per_file):
            chunk = items[start : start + per_file]
            first = chunk[0].at
            path = folder / f"{first:%M}-{first:%S}-{first.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
            path.write_text("".join(json.dumps(record(item, features)) + "\n" for item in chunk))
            files.append(path)
    return files


def write_baseline(path: Path, features: Sequence[str], rows: Iterable[Sequence[float]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(",".join(features) + "\n" + _csv(list(rows)))
    return path
