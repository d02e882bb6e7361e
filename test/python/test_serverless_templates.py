"""cfn-lint on the committed integ snapshot of the serverless mode: a pipeline on MWAA Serverless and a workflow of its own.

cfn-lint's resource schema for AWS::MWAAServerless::Workflow (cfn-lint 1.58) includes `Code`, which aws-cdk-lib 2.257 (the
floor) has no property for: the construct writes it as an override, and this check is what says the override is valid.
"""

from __future__ import annotations

import json
import pathlib

from cfn_lint_check import cfn_lint, unexplained

TEMPLATE = pathlib.Path(__file__).resolve().parents[1] / "integ.serverless.ts.snapshot" / "IntegServerless.template.json"


def resources(kind: str) -> dict[str, dict]:
    return {k: r for k, r in json.loads(TEMPLATE.read_text())["Resources"].items() if r["Type"] == kind}


def test_no_environment_and_no_network_only_workflows():
    for kind in ("AWS::MWAA::Environment", "AWS::EC2::VPC", "AWS::EC2::NatGateway", "AWS::EC2::EIP"):
        assert resources(kind) == {}, kind
    workflows = resources("AWS::MWAAServerless::Workflow")
    assert len(workflows) == 3  # training, deployment, and the fixture's own
    with_code = [w for w in workflows.values() if "Code" in w["Properties"]]
    assert len(with_code) == 2  # the pipeline's two run the DAG package


def test_cfn_lint_reports_no_errors_and_nothing_unexplained():
    findings = cfn_lint(TEMPLATE)
    assert [f for f in findings if f["Level"] == "Error"] == [], json.dumps(findings, indent=1)
    assert unexplained(findings) == [], json.dumps(unexplained(findings), indent=1)


def test_cfn_lint_refuses_a_property_the_workflow_does_not_have(tmp_path):
    """The check is live: the same template with an unknown workflow property is an error."""
    template = json.loads(TEMPLATE.read_text())
    workflow = next(r for r in template["Resources"].values() if r["Type"] == "AWS::MWAAServerless::Workflow")
    workflow["Properties"]["Codes"] = workflow["Properties"].get("Code", {})
    planted = tmp_path / "planted.template.json"
    planted.write_text(json.dumps(template))
    assert any(f["Level"] == "Error" and "Codes" in f["Message"] for f in cfn_lint(planted))
