"""cfn-lint on the committed integ snapshot of ModelWorkflow: two pipelines on a created environment, one on an imported one.

The only findings accepted are cfn_lint_check's role-dependency warnings (W3005). Here they come from aws-cdk-lib's
functions and providers, and from each Glue job, which depends on its role construct so that the role's
DefaultPolicy exists before the job (src/ml/private/glue-job.ts): the same kind, a role named in DependsOn and GetAtt.
"""

from __future__ import annotations

import json
import pathlib

import pytest
from cfn_lint_check import cfn_lint, unexplained

SNAPSHOT = pathlib.Path(__file__).resolve().parents[1] / "integ.model-workflow.ts.snapshot"
CREATED = SNAPSHOT / "IntegModelWorkflow.template.json"
IMPORTED = SNAPSHOT / "IntegModelWorkflowImported.template.json"


def resources(template: pathlib.Path, kind: str) -> dict[str, dict]:
    return {k: r for k, r in json.loads(template.read_text())["Resources"].items() if r["Type"] == kind}


def test_the_created_environment_runs_both_pipelines_and_is_deleted_before_their_clean_ups():
    (environment,) = resources(CREATED, "AWS::MWAA::Environment").values()
    assert environment["Properties"]["AirflowVersion"] == "3.3.1"
    cleanups = resources(CREATED, "Custom::CdkMwaaMlopsEndpointCleanup")
    assert sorted(r["Properties"]["EndpointName"] for r in cleanups.values()) == ["churn", "fraud"]
    assert set(cleanups) <= set(environment["DependsOn"])  # no DAG run re-creates an endpoint after its clean-up
    groups = resources(CREATED, "AWS::SageMaker::ModelPackageGroup").values()
    assert sorted(g["Properties"]["ModelPackageGroupName"] for g in groups) == ["churn-models", "fraud-models"]
    assert {g["DeletionPolicy"] for g in groups} == {"Retain"}
    # rollback alarms for the real-time endpoint only; the serverless one has none
    alarms = resources(CREATED, "AWS::CloudWatch::Alarm").values()
    assert sorted(a["Properties"]["MetricName"] for a in alarms) == ["Invocation5XXErrors", "ModelLatency"]
    assert {d["Value"] for a in alarms for d in a["Properties"]["Dimensions"]} == {"churn", "AllTraffic"}
    assert len(resources(CREATED, "AWS::Glue::Job")) == 2


def test_the_imported_environment_gets_its_pipeline_and_its_roles_grants():
    assert resources(IMPORTED, "AWS::MWAA::Environment") == {}
    (cleanup,) = resources(IMPORTED, "Custom::CdkMwaaMlopsEndpointCleanup").values()
    assert cleanup["Properties"]["EndpointName"] == "demand"
    policies = resources(IMPORTED, "AWS::IAM::Policy")
    on_the_role = {k for k, p in policies.items() if p["Properties"]["Roles"] == ["integ-mwaa-execution"]}
    # the scoped grants in one policy; the actions that take no resource in their own, acknowledged alone
    (unscoped,) = (k for k in on_the_role if k.startswith("DemandDagRunUnscopedPolicy"))
    assert policies[unscoped]["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "sagemaker:ListModelPackages", "Effect": "Allow", "Resource": "*"}
    ]
    (scoped,) = on_the_role - {unscoped}
    statements = policies[scoped]["Properties"]["PolicyDocument"]["Statement"]
    granted = [r for s in statements for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
    assert "*" not in granted
    (deployment,) = resources(IMPORTED, "Custom::CDKBucketDeployment").values()
    assert deployment["Properties"]["Prune"] is False  # the environment's own DAGs are left alone


@pytest.mark.parametrize("template", [CREATED, IMPORTED], ids=lambda t: t.stem)
def test_cfn_lint_reports_no_errors_and_nothing_unexplained(template: pathlib.Path):
    findings = cfn_lint(template)
    assert [f for f in findings if f["Level"] == "Error"] == [], json.dumps(findings, indent=1)
    assert unexplained(findings) == [], json.dumps(unexplained(findings), indent=1)
