"""cfn-lint on the committed integ snapshot of promotion: a pipeline with two stages in its own account, so the pipeline
creates both stages' PromotionTargets (deploy role, model role, key, alarms, clean-up) beside its own resources."""

from __future__ import annotations

import json
import pathlib

from cfn_lint_check import cfn_lint, unexplained

TEMPLATE = pathlib.Path(__file__).resolve().parents[1] / "integ.promotion.ts.snapshot" / "IntegPromotion.template.json"


def resources(kind: str) -> dict[str, dict]:
    return {k: r for k, r in json.loads(TEMPLATE.read_text())["Resources"].items() if r["Type"] == kind}


def test_each_stage_has_its_named_roles_and_only_the_real_time_stage_a_key_and_alarms():
    names = {r["Properties"].get("RoleName") for r in resources("AWS::IAM::Role").values()}
    assert {"mlops-churn--dev-deploy", "mlops-churn--dev-model", "mlops-churn--prod-deploy", "mlops-churn--prod-model"} <= names
    aliases = [r["Properties"]["AliasName"] for r in resources("AWS::KMS::Alias").values()]
    assert aliases == ["alias/mlops-churn--prod"]
    alarms = {r["Properties"].get("AlarmName") for r in resources("AWS::CloudWatch::Alarm").values()}
    assert {"churn--prod-invocation-5xx", "churn--prod-model-latency"} <= alarms
    assert not any(name and name.startswith("churn--dev-") for name in alarms)
    cleanups = sorted(r["Properties"]["EndpointName"] for r in resources("Custom::CdkMwaaMlopsEndpointCleanup").values())
    assert cleanups == ["churn--dev", "churn--prod"]


def test_the_stage_roles_trust_the_execution_role_alone():
    execution = next(k for k in resources("AWS::IAM::Role") if k.startswith("ChurnEnvironmentExecutionRole"))
    for role in resources("AWS::IAM::Role").values():
        if not role["Properties"].get("RoleName", "").endswith("-deploy"):
            continue
        [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": [{"Fn::GetAtt": [execution, "Arn"]}]}}


def test_cfn_lint_reports_no_errors_and_nothing_unexplained():
    findings = cfn_lint(TEMPLATE)
    assert [f for f in findings if f["Level"] == "Error"] == [], json.dumps(findings, indent=1)
    assert unexplained(findings) == [], json.dumps(unexplained(findings), indent=1)
