from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from model.__main__ import main as entry_point
from model.data import read_split
from model.serve import create_app

REPOSITORY = Path(__file__).resolve().parents[1]


def train_command(splits: Path, model_dir: Path, hyperparameters: Path) -> list[str]:
    return [
        "train",
        *("--train-dir", str(splits / "train"), "--validation-dir", str(splits / "validation")),
        *("--model-dir", str(model_dir), "--hyperparameters", str(hyperparameters)),
    ]


@pytest.fixture(scope="module")
def model_dir(splits, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("model")
    hyperparameters = directory.parent / "hyperparameters.json"
    hyperparameters.write_text(json.dumps({"C": "0.5"}))  # SageMaker passes strings
    assert entry_point(train_command(splits, directory, hyperparameters)) == 0
    return directory


def test_training_writes_a_model_and_prints_validation_metrics_for_the_metric_definitions(splits, tmp_path, capsys):
    assert entry_point(train_command(splits, tmp_path, tmp_path / "absent.json")) == 0
    assert (tmp_path / "model.joblib").stat().st_size > 0
    printed = dict(line.rstrip(";").split("=") for line in capsys.readouterr().out.splitlines() if line.startswith("validation:"))
    assert set(printed) == {f"validation:{m}" for m in ("auc", "accuracy", "precision", "recall", "f1")}
    assert float(printed["validation:auc"]) > 0.95


def test_unknown_hyperparameters_fail_instead_of_being_ignored(splits, tmp_path):
    hyperparameters = tmp_path / "hyperparameters.json"
    hyperparameters.write_text(json.dumps({"learning_rate": "0.1"}))
    with pytest.raises(ValueError, match=r"unknown hyperparameters \['learning_rate'\]"):
        entry_point(train_command(splits, tmp_path, hyperparameters))


def test_evaluation_scores_the_packed_model_on_the_test_split(model_dir, splits, tmp_path):
    packed = tmp_path / "model"
    packed.mkdir()
    with tarfile.open(packed / "model.tar.gz", "w:gz") as tar:  # what SageMaker uploads from /opt/ml/model
        tar.add(model_dir / "model.joblib", arcname="model.joblib")
    assert (
        entry_point(
            ["evaluate", "--model-dir", str(packed), "--test-dir", str(splits / "test"), "--output-dir", str(tmp_path / "eval")]
        )
        == 0
    )
    report = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert report["test_rows"] == len(read_split(splits / "test")[1])
    metrics = report["binary_classification_metrics"]
    assert set(metrics) == {"auc", "accuracy", "precision", "recall", "f1"}
    assert all(0.0 <= entry["value"] <= 1.0 for entry in metrics.values())
    assert metrics["auc"]["value"] > 0.95


def test_the_entry_point_refuses_an_unknown_command(capsys):
    assert entry_point(["fit"]) == 2
    assert "usage: python -m model {train|serve|evaluate}" in capsys.readouterr().err


class TestServing:
    @pytest.fixture
    def client(self, model_dir):
        return create_app(str(model_dir)).test_client()

    def test_ping_answers_200(self, client):
        assert client.get("/ping").status_code == 200

    def test_invocations_answer_one_probability_per_csv_row(self, client, model_dir, splits):
        features, labels = read_split(splits / "test")
        body = "\n".join(",".join(repr(float(v)) for v in row) for row in features)
        response = client.post("/invocations", data=body, content_type="text/csv")
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        probabilities = np.array([float(line) for line in response.get_data(as_text=True).splitlines()])
        assert len(probabilities) == len(labels)
        assert ((probabilities >= 0) & (probabilities <= 1)).all()
        assert ((probabilities >= 0.5).astype(int) == labels).mean() > 0.9

    @pytest.mark.parametrize(
        "body, content_type, status, message",
        [
            ('{"x": 1}', "application/json", 415, "send text/csv"),
            ("1,2,3", "text/csv", 400, "expected rows of 30 numeric features, got shape [1, 3]"),
            ("a,b,c", "text/csv", 400, "could not parse the CSV body"),
            ("", "text/csv", 400, "the body is empty"),
        ],
    )
    def test_bad_requests_get_a_clear_4xx(self, client, body, content_type, status, message):
        response = client.post("/invocations", data=body, content_type=content_type)
        assert response.status_code == status
        assert message in response.get_data(as_text=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_serve_command_runs_gunicorn_that_answers_sagemaker_requests(model_dir, splits):
    port = free_port()
    env = {
        **os.environ,
        "MODEL_DIR": str(model_dir),
        "MODEL_SERVER_BIND": f"127.0.0.1:{port}",
        "SAGEMAKER_MODEL_SERVER_WORKERS": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "model", "serve"], cwd=REPOSITORY, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        # A readiness wait, not a speed target: loading the model can take long on a busy machine.
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as response:
                    assert response.status == 200
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # not up yet, or still loading the model
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not answer /ping within 120 s"
                time.sleep(0.2)
        features, _ = read_split(splits / "test")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            method="POST",
            data=",".join(repr(float(v)) for v in features[0]).encode(),
            headers={"Content-Type": "text/csv"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert 0.0 <= float(response.read().decode().strip()) <= 1.0
    finally:
        server.terminate()
        server.wait(timeout=10)
