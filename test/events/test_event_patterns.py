"""Every EventBridge rule the constructs create, matched by AWS's event-ruler against AWS's documented sample events
made into this deployment's events (samples/, rule_cases.py): what each rule must match and what it must not.

Two views: each rule against its own resources (every template: the example app, the option variants, every integ
snapshot), and each pipeline's resources, as the DAG config its stack deploys names them, against all of its stack's
rules (a DAG's event must reach exactly the rule meant for it, and no other pipeline's)."""

from __future__ import annotations

import json
import re

import pytest
from cdk_mwaa_mlops.naming import resource_name, run_key
from deployed import ACCOUNT, REGION, DeployedStack, Rule, rules, scheduled_rules
from event_ruler import Case, match
from rule_cases import cases_for
from samples import deployed, sample, with_fields

CONFIG_FOLDER = "cdk_mwaa_mlops_pipelines"


@pytest.fixture(scope="session")
def all_rules(app_stacks, snapshot_stacks) -> list[Rule]:
    found = [rule for stack in [*app_stacks, *snapshot_stacks] for rule in rules(stack)]
    assert len(found) >= 60, f"only {len(found)} rules found: did the app or the snapshots change?"
    return found


@pytest.fixture(scope="session")
def all_scheduled(app_stacks, snapshot_stacks):
    return [rule for stack in [*app_stacks, *snapshot_stacks] for rule in scheduled_rules(stack)]


# EventBridge's schedule expressions (eb-scheduled-rule-pattern): rate(1 minute), rate(5 days), cron(0 2 * * ? *).
SCHEDULE_EXPRESSION = re.compile(r"^(rate\((1 (minute|hour|day)|[1-9]\d* (minutes|hours|days))\)|cron\(\S+( \S+){5}\))$")
TRIGGER_INPUT = re.compile(
    r'^\{"(dagId|workflowArn)":"[^"]+","rule":"<aws\.events\.rule-name>","event":<aws\.events\.event\.json>\}$'
)


def test_scheduled_rules_hand_the_trigger_the_whole_scheduled_event(all_scheduled):
    """A scheduled rule matches no pattern: what can go wrong is its expression and the input it sends the trigger,
    which must carry the whole event (the trigger takes the rule's ARN from `resources` and the time from `time`)."""
    assert any(rule.dag_id == "nightly" for rule in all_scheduled), "the variants' schedule rule is missing"
    wrong = []
    for rule in all_scheduled:
        if not SCHEDULE_EXPRESSION.match(rule.expression):
            wrong.append(f"{rule.id}: schedule {rule.expression!r}")
        for target in rule.targets:
            template = rule.stack.resolve(target.get("InputTransformer", {}).get("InputTemplate", ""))
            if "InputTransformer" in target and not TRIGGER_INPUT.match(template):
                wrong.append(f"{rule.id}: input {template!r}")
    print(f"\nscheduled rules: {len(all_scheduled)}")
    assert wrong == []


def _report(cases: list[Case], matched: dict[str, bool]) -> list[str]:
    return [
        f"{case.id}: expected {'a match' if case.expected else 'no match'}" for case in cases if matched[case.id] != case.expected
    ]


def test_every_rule_the_constructs_create_has_cases(all_rules):
    without = sorted({f"{rule.id} {rule.kind}" for rule in all_rules if cases_for(rule) is None})
    assert without == [], "rules of a kind with no sample events (add them to rule_cases.py): " + ", ".join(without)


def test_each_rule_matches_aws_sample_events_of_its_resources_and_no_others(all_rules, event_ruler):
    cases = [case for rule in all_rules for case in cases_for(rule) or []]
    matched = match(event_ruler, cases)
    per_rule = {rule.id: [c for c in cases if c.id.startswith(rule.id + ": ")] for rule in all_rules}
    assert all(
        any(c.expected for c in rule_cases) and any(not c.expected for c in rule_cases) for rule_cases in per_rule.values()
    )
    print(
        f"\nevent-ruler: {len(cases)} cases over {len(all_rules)} rules, "
        f"{sum(c.expected for c in cases)} to match, {sum(not c.expected for c in cases)} not to"
    )
    assert _report(cases, matched) == []


def _pipeline_events(config: dict, stack: DeployedStack | None = None) -> dict[str, tuple[dict, str]]:
    """What a pipeline's resources send, by what should receive it: a trigger's DAG id, or `topic` for a report."""
    pipeline = config["pipeline_name"]
    key = run_key(f"{pipeline}_training", "manual__2026-01-01T00:00:00+00:00")

    def evt(name: str, names: dict[str, str], fields: dict | None = None) -> dict:
        return with_fields(deployed(sample(name), names, ACCOUNT, REGION), fields or {})

    raw_key = config["data"]["raw_prefix"] + "churn.csv"
    training = sample("sagemaker-training-job-state-change")["detail"]["TrainingJobName"]
    evaluation = sample("sagemaker-processing-job-state-change")["detail"]["ProcessingJobName"]
    events = {
        "image pushed": (
            evt("ecr-image-push", {"my-repository-name": config["training"]["image_repository_name"]}),
            f"{pipeline}_training",
        ),
        "raw data created": (
            evt("s3-object-created", {"DOC-EXAMPLE-BUCKET1": config["data"]["bucket"]}, {("detail", "object", "key"): raw_key}),
            f"{pipeline}_training",
        ),
        "Glue job failed": (evt("glue-job-failed", {"MyJob": config["preprocessing"]["glue_job_name"]}), "topic"),
        "training job failed": (
            evt(
                "sagemaker-training-job-state-change",
                {training: resource_name(pipeline, "train", key)},
                {("detail", "TrainingJobStatus"): "Failed"},
            ),
            "topic",
        ),
        "evaluation job failed": (
            evt("sagemaker-processing-job-state-change", {evaluation: resource_name(pipeline, "eval", key)}),
            "topic",
        ),
    }
    group = config["registry"]["model_package_group_name"]
    if config.get("deployment") or config.get("stages"):
        approved = evt(
            "sagemaker-model-package-state-change",
            {"versionedmp-p-idy6c3e1fiqj": group},
            {("detail", "ModelApprovalStatus"): "Approved", ("detail", "UpdatedModelPackageFields"): ["ModelApprovalStatus"]},
        )
        events["package approved"] = (approved, f"{pipeline}_deployment")
    for stage in config.get("stages", []):
        # A person (or the automatic gate) sets the approved package Approved for the stage: the deployment runs for it.
        promoted = evt(
            "sagemaker-model-package-state-change",
            {"versionedmp-p-idy6c3e1fiqj": group},
            {
                ("detail", "ModelApprovalStatus"): "Approved",
                ("detail", "ModelLifeCycle"): {"Stage": stage["name"], "StageStatus": "Approved", "StageDescription": "promoted"},
            },
        )
        events[f"package approved for stage {stage['name']}"] = (promoted, f"{pipeline}_deployment")
    if config.get("drift") and stack is not None:
        # The drift alarm going into ALARM starts training (DagTrigger.onAlarm), and reaches no other rule.
        alarm = _drift_alarm(stack, pipeline, config["drift"]["metric_namespace"])
        drifted = evt("cloudwatch-alarm-state-change", {"ServerCpuTooHigh": alarm})
        events["drift alarm in ALARM"] = (drifted, f"{pipeline}_training")
    return events


def _drift_alarm(stack: DeployedStack, pipeline: str, namespace: str) -> str:
    """The name of the pipeline's drift alarm: the stack's alarm on the drift namespace with dimension Pipeline."""
    found = [
        stack.name_of(logical_id)
        for logical_id, resource in stack.resources.items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and stack.resolve(resource["Properties"].get("Namespace")) == namespace
        and {"Name": "Pipeline", "Value": pipeline} in stack.resolve(resource["Properties"].get("Dimensions", []))
    ]
    assert len(found) == 1, f"{stack.name}: expected one drift alarm for {pipeline}, found {found}"
    return found[0]


def test_each_pipelines_events_reach_exactly_the_rule_meant_for_them(app_stacks, event_ruler):
    expected_receivers, cases = {}, []
    for stack in app_stacks:
        stack_rules = rules(stack)
        for path in stack.dag_files(CONFIG_FOLDER):
            config = json.loads(stack.dag_file(path))
            for what, (evt, receiver) in _pipeline_events(config, stack).items():
                label = f"{stack.name} {config['pipeline_name']} {what}"
                expected_receivers[label] = receiver
                cases += [Case(f"{label} -> {rule.logical_id}", rule.pattern, evt, False) for rule in stack_rules]
    assert len(expected_receivers) >= 20
    assert any(label.endswith(" drift alarm in ALARM") for label in expected_receivers), "no pipeline of the app has drift"
    matched = match(event_ruler, cases)
    wrong = []
    for label, receiver in expected_receivers.items():
        receivers = [case.id.split(" -> ")[1] for case in cases if case.id.startswith(label + " -> ") and matched[case.id]]
        stack = next(s for s in app_stacks if label.startswith(s.name + " "))
        got = [(r.dag_id or ("topic" if r.notifies_topic else "nothing")) for r in rules(stack) if r.logical_id in receivers]
        if got != [receiver]:
            wrong.append(f"{label}: reached {list(zip(receivers, got, strict=True))}, expected exactly one rule for {receiver}")
    assert wrong == []
