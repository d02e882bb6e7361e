"""The stacks whose rules are matched, and the matcher: synthesized once per session."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "test" / "python" / "dags"), str(ROOT / "assets" / "dags")]

from cloud_assembly import synthesize  # noqa: E402
from deployed import ACCOUNT, REGION, DeployedStack  # noqa: E402
from event_ruler import class_path  # noqa: E402

# The example app's stacks and the options it leaves out (event-rules-app.ts), then every integ snapshot.
APP = "test/events/event-rules-app.ts"
APP_STACKS = ("MwaaMlopsExample", "MwaaMlopsSharedExample", "EventRuleVariants")


@pytest.fixture(scope="session")
def app_stacks(tmp_path_factory) -> list[DeployedStack]:
    assembly = synthesize(APP, tmp_path_factory.mktemp("event-rules.out"))
    return [DeployedStack(assembly, name, ACCOUNT, REGION) for name in APP_STACKS]


@pytest.fixture(scope="session")
def snapshot_stacks() -> list[DeployedStack]:
    return [
        DeployedStack(template.parent, template.name.removesuffix(".template.json"), ACCOUNT, REGION)
        for template in sorted(ROOT.glob("test/integ.*.ts.snapshot/*.template.json"))
        if "Resources" in json.loads(template.read_text())  # the integ runner's assertion stacks may be empty
    ]


@pytest.fixture(scope="session")
def event_ruler(tmp_path_factory) -> str:
    return class_path(tmp_path_factory.mktemp("event-ruler"))
