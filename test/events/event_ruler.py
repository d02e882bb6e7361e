"""Runs (pattern, event) cases through AWS's event-ruler (Maven Central), the engine EventBridge's matching derives
from. Maven resolves the jar into ~/.m2 and gives its class path; MatchEvents.java (run as a single source file, so
nothing is compiled or kept) matches every case in one JVM."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Case:
    id: str
    pattern: dict[str, Any]
    event: dict[str, Any]
    expected: bool


def class_path(workdir: Path) -> str:
    """The class path of event-ruler and its dependencies, resolved by Maven from test/events/pom.xml."""
    out = workdir / "classpath.txt"
    subprocess.run(
        ["mvn", "-q", "-B", "-f", str(HERE / "pom.xml"), "dependency:build-classpath", f"-Dmdep.outputFile={out}"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.read_text().strip()


def match(classpath: str, cases: list[Case]) -> dict[str, bool]:
    """Case id -> whether event-ruler matched its event against its pattern."""
    ids = [case.id for case in cases]
    assert len(set(ids)) == len(ids), "case ids must be unique"
    request = [{"id": case.id, "pattern": case.pattern, "event": case.event} for case in cases]
    run = subprocess.run(
        ["java", "-cp", classpath, str(HERE / "MatchEvents.java")],
        input=json.dumps(request),
        check=True,
        capture_output=True,
        text=True,
    )
    return {result["id"]: result["matched"] for result in json.loads(run.stdout)}
