"""SageMaker serving (`python -m model serve`): gunicorn on port 8080 with `GET /ping` and `POST /invocations`.

`/invocations` takes `text/csv` rows of the features (no label, no header, FEATURES order of the
preprocessing script) and answers one probability of the positive class per row.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import joblib
import numpy as np
from flask import Flask, Response, request

from model.train import MODEL_FILE


def create_app(model_dir: str | None = None) -> Flask:
    model_path = Path(model_dir or os.environ.get("MODEL_DIR", "/opt/ml/model")) / MODEL_FILE
    model = joblib.load(model_path)
    feature_count = int(model.n_features_in_)
    app = Flask(__name__)

    @app.get("/ping")
    def ping() -> Response:
        return Response("", status=200)

    @app.post("/invocations")
    def invocations() -> Response:
        content_type = (request.content_type or "").split(";")[0].strip()
        if content_type != "text/csv":
            return Response(f"unsupported content type {content_type!r}; send text/csv\n", status=415, mimetype="text/plain")
        body = request.get_data(as_text=True)
        if not body.strip():
            return Response(
                f"the body is empty; send rows of {feature_count} numeric features\n", status=400, mimetype="text/plain"
            )
        try:
            rows = np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2)
        except ValueError as error:
            return Response(f"could not parse the CSV body: {error}\n", status=400, mimetype="text/plain")
        if rows.shape[1] != feature_count:
            return Response(
                f"expected rows of {feature_count} numeric features, got shape {list(rows.shape)}\n",
                status=400,
                mimetype="text/plain",
            )
        probabilities = model.predict_proba(rows)[:, 1]
        return Response("".join(f"{p:.6f}\n" for p in probabilities), status=200, mimetype="text/csv")

    return app


def main(argv: list[str]) -> int:
    workers = os.environ.get("SAGEMAKER_MODEL_SERVER_WORKERS", str(os.cpu_count() or 1))
    timeout = os.environ.get("SAGEMAKER_MODEL_SERVER_TIMEOUT", "60")
    # SageMaker sends requests to port 8080; MODEL_SERVER_BIND is for running the server elsewhere (tests, laptops).
    bind = os.environ.get("MODEL_SERVER_BIND", "0.0.0.0:8080")
    os.execvp(
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            bind,
            "--workers",
            workers,
            "--timeout",
            timeout,
            *argv,
            "model.serve:create_app()",
        ],
    )
