"""cfn-lint and the shapes that matter on the committed integ snapshot of drift detection: one pipeline on an MWAA
environment and one on MWAA Serverless, each with a captured real-time endpoint, a scheduled drift check and the drift
alarm starting training."""

from __future__ import annotations

import json
import pathlib

from cfn_lint_check import cfn_lint, unexplained

TEMPLATE = pathlib.Path(__file__).resolve().parents[1] / "integ.drift.ts.snapshot" / "IntegDrift.template.json"


def resources(kind: str) -> dict[str, dict]:
    return {k: r for k, r in json.loads(TEMPLATE.read_text())["Resources"].items() if r["Type"] == kind}


def drift_alarms() -> dict[str, dict]:
    return {
        k: r for k, r in resources("AWS::CloudWatch::Alarm").items() if r["Properties"].get("MetricName") == "DriftedFeatureShare"
    }


def test_each_pipeline_has_one_drift_alarm_on_its_own_endpoint_that_keeps_its_state_without_data():
    alarms = {r["Properties"]["AlarmName"]: r["Properties"] for r in drift_alarms().values()}
    assert sorted(alarms) == ["churn-data-drift", "fraud-data-drift"]
    for name, alarm in alarms.items():
        pipeline = name.removesuffix("-data-drift")
        assert alarm["Namespace"] == f"CdkMwaaMlops/Drift/{pipeline}"
        assert alarm["Dimensions"] == [{"Name": "Endpoint", "Value": pipeline}, {"Name": "Pipeline", "Value": pipeline}]
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Maximum", 86400, 1)
        assert alarm["TreatMissingData"] == "ignore"
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert len(alarm["AlarmActions"]) == 1  # the pipeline's topic
    assert (alarms["churn-data-drift"]["Threshold"], alarms["fraud-data-drift"]["Threshold"]) == (0.3, 0.5)


def test_a_rule_per_drift_alarm_matches_only_its_alarm_going_off():
    alarm_ids = set(drift_alarms())
    matched = []
    for rule in resources("AWS::Events::Rule").values():
        pattern = rule["Properties"].get("EventPattern") or {}
        if pattern.get("source") != ["aws.cloudwatch"]:
            continue
        assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
        assert pattern["detail"] == {"state": {"value": ["ALARM"]}}
        [resource] = pattern["resources"]
        matched.append(resource["Fn::GetAtt"][0])
    assert sorted(matched) == sorted(alarm_ids)


def test_one_daily_schedule_per_pipeline_starts_its_drift_check():
    scheduled = [r["Properties"] for r in resources("AWS::Events::Rule").values() if "ScheduleExpression" in r["Properties"]]
    assert [s["ScheduleExpression"] for s in scheduled] == ["rate(1 day)", "rate(1 day)"]
    inputs = json.dumps([s["Targets"] for s in scheduled])
    assert "churn_drift" in inputs
    assert "DriftWorkflow" in inputs


def test_the_serverless_pipeline_has_a_drift_workflow_and_the_sagemaker_roles_may_publish_the_drift_metrics():
    workflows = list(resources("AWS::MWAAServerless::Workflow"))
    assert len(workflows) == 3
    assert sum("DriftWorkflow" in k for k in workflows) == 1, workflows
    namespaces = [
        s["Condition"]["StringLike"]["cloudwatch:namespace"]
        for p in resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Action") == "cloudwatch:PutMetricData" and "StringLike" in s.get("Condition", {})
    ]
    # one namespace per pipeline: PutMetricData is scoped by namespace only, so no pipeline can raise another's alarm
    assert sorted(namespaces) == [["/aws/sagemaker/*", f"CdkMwaaMlops/Drift/{p}"] for p in ("churn", "fraud")]


def test_cfn_lint_reports_no_errors_and_nothing_unexplained():
    findings = cfn_lint(TEMPLATE)
    assert [f for f in findings if f["Level"] == "Error"] == [], json.dumps(findings, indent=1)
    assert unexplained(findings) == [], json.dumps(unexplained(findings), indent=1)
