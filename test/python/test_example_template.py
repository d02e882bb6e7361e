"""Checks on the synthesized example template that only Python tooling can make."""

import json
import re

import pytest
from cfn_lint_check import EXAMPLE_STACKS, PROVISIONED_EXAMPLE_STACKS, cfn_lint, unexplained
from packaging.requirements import Requirement

CONSTRAINT = re.compile(
    r'^--constraint "https://raw\.githubusercontent\.com/apache/airflow/'
    r'constraints-(?P<airflow>\d+\.\d+\.\d+)/constraints-(?P<python>3\.\d+)\.txt"$'
)


def _requirements_body(template: dict) -> str:
    for resource in template["Resources"].values():
        if resource["Type"] != "Custom::AWS":
            continue
        parts = resource["Properties"]["Create"]["Fn::Join"][1]
        call = json.loads("".join(p if isinstance(p, str) else "BUCKET" for p in parts))
        if call["parameters"]["Key"] == "requirements/requirements.txt":
            return call["parameters"]["Body"]
    raise AssertionError("no requirements.txt object in the template")


def _environment(template: dict) -> dict:
    (env,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::MWAA::Environment"]
    return env["Properties"]


@pytest.mark.parametrize("stack", PROVISIONED_EXAMPLE_STACKS)
def test_requirements_start_with_the_constraint_of_the_deployed_airflow_version(example_templates, stack):
    template = example_templates[stack]
    lines = _requirements_body(template).splitlines()
    match = CONSTRAINT.match(lines[0])
    assert match, f"first line is not a constraint line: {lines[0]!r}"
    assert match["airflow"] == _environment(template)["AirflowVersion"] == "3.3.1"
    assert match["python"] == "3.12"
    for line in lines[1:]:
        Requirement(line)  # raises InvalidRequirement on anything pip would not take
    assert "aiobotocore" in lines[1:]  # what the DAGs import beyond MWAA's own packages, added once per environment


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_cfn_lint_reports_no_errors_and_nothing_unexplained(example_assembly, stack):
    findings = cfn_lint(example_assembly / f"{stack}.template.json")
    assert [f for f in findings if f["Level"] == "Error"] == [], json.dumps(findings, indent=1)
    assert unexplained(findings) == [], json.dumps(unexplained(findings), indent=1)


def test_the_shared_stack_runs_two_pipelines_on_one_environment(example_templates):
    resources = example_templates["MwaaMlopsSharedExample"]["Resources"].values()
    assert sum(r["Type"] == "AWS::MWAA::Environment" for r in resources) == 1
    groups = {r["Properties"]["ModelPackageGroupName"] for r in resources if r["Type"] == "AWS::SageMaker::ModelPackageGroup"}
    assert groups == {"fraud-models", "demand-models"}
    providers = {
        r["Properties"]["Stages"][0]["Actions"][0]["ActionTypeId"]["Provider"]
        for r in resources
        if r["Type"] == "AWS::CodePipeline::Pipeline"
    }
    assert providers == {"CodeStarSourceConnection", "CodeCommit"}
