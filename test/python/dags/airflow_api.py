"""A real Airflow API server on 127.0.0.1 over the DAG tests' own database (conftest.py's AIRFLOW_HOME), from the
running Airflow version, and the bundled trigger handler driven against it (send-trigger-event.ts)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SEND_EVENT = Path(__file__).with_name("send-trigger-event.ts")


@contextlib.contextmanager
def airflow_api_server() -> Iterator[str]:
    """Yields the server's URL; SimpleAuthManager without logins (the InvokeRestApi stand-in plays MWAA's signed hop)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True", "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"}
    airflow = Path(sys.executable).parent / "airflow"
    command = [str(airflow), "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Airflow API server did not start:\n{server.stdout.read().decode()[-5000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()


def send_trigger_event(airflow_url: str, dag_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """What the bundled handler returned for `event`, and the InvokeRestApi requests it made (send-trigger-event.ts)."""
    done = subprocess.run(
        ["npx", "ts-node", "--transpile-only", str(SEND_EVENT), airflow_url, dag_id],
        cwd=ROOT,
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env={**os.environ, "TS_NODE_PROJECT": "tsconfig.dev.json"},
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"send-trigger-event.ts failed:\n{done.stderr[-5000:]}")
    return json.loads(done.stdout)
