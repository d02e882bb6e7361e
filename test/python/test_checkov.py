"""checkov over the example app's template and the integ snapshots: every finding is fixed or accepted, with its
reason, in checkov_accepted.yaml; an accepted finding that no longer occurs must leave that file too."""

from __future__ import annotations

import fnmatch
import json
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-checkov.txt"
ACCEPTED = HERE / "checkov_accepted.yaml"
# checkov pins packages (boto3, packaging, termcolor, ...) that conflict with .venv's Airflow, awscli and moto.
ENV = ROOT / ".venv" / "checkov"


@pytest.fixture(scope="session")
def checkov() -> pathlib.Path:
    """checkov from requirements-checkov.txt in its own environment, reinstalled only when the pin changes."""
    executable = ENV / "bin" / "checkov"
    stamp = ENV / "requirements.installed"
    wanted = REQUIREMENTS.read_text()
    if not (executable.exists() and stamp.exists() and stamp.read_text() == wanted):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(ENV)], check=True)
        pip = [str(ENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)]
        subprocess.run(pip, check=True)
        stamp.write_text(wanted)
    return executable


def scan(checkov: pathlib.Path, templates: list[pathlib.Path]) -> list[dict]:
    """checkov's failed checks on CloudFormation templates, as `{check, resource, file}`; asserts checkov ran."""
    command = [str(checkov), "--framework", "cloudformation", "--output", "json", "--quiet", "--compact", "--skip-download"]
    for template in templates:
        command += ["--file", str(template)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    # 0: nothing failed, 1: something failed; anything else is checkov itself failing.
    assert result.returncode in (0, 1), result.stderr
    reports = json.loads(result.stdout or "[]")
    reports = reports if isinstance(reports, list) else [reports]
    assert reports and all(r.get("check_type") == "cloudformation" for r in reports), result.stdout[:2000]
    failed = [check for report in reports for check in report.get("results", {}).get("failed_checks", [])]
    return [{"check": f["check_id"], "resource": f["resource"], "file": pathlib.Path(f["file_path"]).name} for f in failed]


def accepted() -> list[dict]:
    entries = yaml.safe_load(ACCEPTED.read_text())
    for entry in entries:
        assert set(entry) == {"check", "resources", "reason"}, entry
        assert len(entry["reason"].split()) >= 8, f"{entry['check']}: say why it is acceptable"
    return entries


def is_accepted(finding: dict, entry: dict) -> bool:
    return finding["check"] == entry["check"] and any(fnmatch.fnmatchcase(finding["resource"], p) for p in entry["resources"])


def templates(example_assembly: pathlib.Path, example_stacks: list[str]) -> list[pathlib.Path]:
    integ = sorted(ROOT.glob("test/integ.*.ts.snapshot/*.template.json"))
    assert len(integ) >= 3
    return [*(example_assembly / f"{name}.template.json" for name in example_stacks), *integ]


@pytest.fixture(scope="session")
def findings(checkov, example_assembly, example_templates) -> list[dict]:
    return scan(checkov, templates(example_assembly, sorted(example_templates)))


def test_every_checkov_finding_is_accepted_with_its_reason(findings):
    unexplained = [f for f in findings if not any(is_accepted(f, e) for e in accepted())]
    assert unexplained == [], json.dumps(unexplained, indent=1)


def test_every_accepted_finding_still_occurs(findings):
    stale = [e["check"] + " " + str(e["resources"]) for e in accepted() if not any(is_accepted(f, e) for f in findings)]
    assert stale == [], "no longer found; remove from checkov_accepted.yaml: " + ", ".join(stale)


def test_the_scan_is_live(checkov, tmp_path):
    template = tmp_path / "open.template.json"
    template.write_text(json.dumps({"Resources": {"Open": {"Type": "AWS::S3::Bucket", "Properties": {}}}}))
    assert {"check": "CKV_AWS_18", "resource": "AWS::S3::Bucket.Open", "file": template.name} in scan(checkov, [template])
