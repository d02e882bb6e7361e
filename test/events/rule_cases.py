"""For each kind of rule the constructs create, the AWS sample events it must match and must not match, made into
this deployment's events from the rule's own resolved names. A rule of a kind not listed here has no cases, and the
tests fail on it: a new kind of rule needs its samples and cases here first.

What a case can catch: a field name or value spelled otherwise than AWS sends it, a field at the wrong depth, a name
that resolves to another resource than the one the rule watches (the referenced resource type is checked), a status
value AWS does not use, and a pattern wider than meant (another resource, status or detail-type must not match)."""

from __future__ import annotations

from collections.abc import Callable

from deployed import ACCOUNT, REGION, Rule
from event_ruler import Case
from samples import deployed, sample, with_fields

OTHER = "another-resource-of-this-account"

# The values AWS documents for these fields (samples/ and the API references they link to).
MODEL_APPROVAL_STATUSES = ("Approved", "Rejected", "PendingManualApproval")  # API_ModelPackageSummary, ModelApprovalStatus
# ModelLifeCycle.StageStatus is free text (API_ModelLifeCycle); these are the ones the promotion DAGs set.
STAGE_STATUSES = ("Approved", "PendingApproval", "Rejected", "Deployed")
PIPELINE_EXECUTION_SAMPLES = {  # detect-state-changes-cloudwatch-events: the pipeline-level events
    "STARTED": "codepipeline-pipeline-started",
    "STOPPING": "codepipeline-pipeline-stopping",
    "SUCCEEDED": "codepipeline-pipeline-succeeded",
    "FAILED": "codepipeline-pipeline-failed",
}
# Which documented end states a failure report must catch, and which it must leave alone.
GLUE_REPORTED = {"glue-job-failed": True, "glue-job-timeout": True, "glue-job-succeeded": False, "glue-job-stopped": False}
SAGEMAKER_REPORTED = {"Failed": True, "Stopped": True, "Completed": False, "InProgress": False}


def event(name: str, names: dict[str, str], fields: dict[tuple[str, ...], object] | None = None) -> dict:
    return with_fields(deployed(sample(name), names, ACCOUNT, REGION), fields or {})


def _only(values: list, what: str, rule: Rule) -> object:
    assert len(values) == 1, f"{rule.id}: expected one {what}, found {values}"
    return values[0]


def image_pushed(rule: Rule) -> list[tuple[str, dict, bool]]:
    detail = rule.pattern["detail"]
    assert rule.referenced_type("detail", "repository-name") in ("AWS::ECR::Repository", None)
    repo = _only(detail["repository-name"], "repository", rule)
    prefixes = [p["prefix"] for p in detail.get("image-tag", [])]
    names = {"my-repository-name": repo}
    push = event("ecr-image-push", names)
    cases = [
        (f"push tagged {prefix}1.0.0", with_fields(push, {("detail", "image-tag"): f"{prefix}1.0.0"}), True)
        for prefix in prefixes
    ]
    cases += [
        ("push of the documented sample (tag latest)", push, not prefixes),
        ("push to another repository", event("ecr-image-push", {"my-repository-name": OTHER}), False),
        ("push that failed", with_fields(push, {("detail", "result"): "FAILURE"}), False),
        ("image deletion", event("ecr-image-deletion", names), False),
        ("image scan (another detail-type)", event("ecr-image-scan", names), False),
    ]
    return cases


def object_created(rule: Rule) -> list[tuple[str, dict, bool]]:
    detail = rule.pattern["detail"]
    assert rule.referenced_type("detail", "bucket", "name") in ("AWS::S3::Bucket", None)
    bucket = _only(detail["bucket"]["name"], "bucket", rule)
    keys = detail.get("object", {}).get("key", [])
    key_rule = keys and _only(keys, "key condition", rule)
    if isinstance(key_rule, dict):
        key, outside = key_rule["prefix"] + "example-key", "example-key"
    elif key_rule:
        key, outside = key_rule, key_rule + ".old"
    else:
        key, outside = "example-key", None
    names = {"DOC-EXAMPLE-BUCKET1": bucket}
    created = event("s3-object-created", names, {("detail", "object", "key"): key})
    cases = [
        (f"object {key} created", created, True),
        (
            "object created in another bucket",
            event("s3-object-created", {"DOC-EXAMPLE-BUCKET1": OTHER}, {("detail", "object", "key"): key}),
            False,
        ),
        (f"object {key} deleted", event("s3-object-deleted", names, {("detail", "object", "key"): key}), False),
    ]
    if outside:
        cases.append((f"object {outside} created", with_fields(created, {("detail", "object", "key"): outside}), False))
        cases.append((f"object data/{key} created", with_fields(created, {("detail", "object", "key"): f"data/{key}"}), False))
    return cases


def _package_event(
    names: dict[str, str], status: str, updated: list[str] | None, lifecycle: tuple[str, str] | None = None
) -> dict:
    """The documented package event with this approval status, list of changed fields (None: a new package, as in the
    page's older sample) and lifecycle stage and status (None: the sample's own)."""
    changed = event("sagemaker-model-package-state-change", names, {("detail", "ModelApprovalStatus"): status})
    if updated is None:
        del changed["detail"]["UpdatedModelPackageFields"]
    else:
        changed["detail"]["UpdatedModelPackageFields"] = updated
    if lifecycle:
        changed["detail"]["ModelLifeCycle"].update(Stage=lifecycle[0], StageStatus=lifecycle[1])
    return changed


def model_package(rule: Rule) -> list[tuple[str, dict, bool]]:
    detail = rule.pattern["detail"]
    if "ModelLifeCycle" in detail:
        return model_package_stage(rule)
    assert rule.referenced_type("detail", "ModelPackageGroupName") in ("AWS::SageMaker::ModelPackageGroup", None)
    group = _only(detail["ModelPackageGroupName"], "group", rule)
    wanted = _only(detail["ModelApprovalStatus"], "approval status", rule)
    assert wanted in MODEL_APPROVAL_STATUSES, f"{rule.id}: SageMaker never sends ModelApprovalStatus {wanted!r}"
    names = {"versionedmp-p-idy6c3e1fiqj": group}

    def package(
        status: str, updated: list[str] | None, group_names: dict[str, str] = names, lifecycle: tuple[str, str] | None = None
    ) -> dict:
        return _package_event(group_names, status, updated, lifecycle)

    # UpdatedModelPackageFields names what changed; the page's older sample of the same event has none (a new package).
    cases = [
        (f"package's approval changed to {status}", package(status, ["ModelApprovalStatus"]), status == wanted)
        for status in MODEL_APPROVAL_STATUSES
    ]
    cases += [
        (f"new package, {wanted}", package(wanted, None), True),
        (
            f"{wanted} package, only its lifecycle stage updated (the documented sample)",
            package(wanted, ["ModelLifeCycle"]),
            False,
        ),
        (
            f"{wanted} package, only its lifecycle set to stage prod Approved",
            package(wanted, ["ModelLifeCycle"], lifecycle=("prod", "Approved")),
            False,
        ),
        (
            f"package's approval changed to {wanted} together with its lifecycle",
            package(wanted, ["ModelApprovalStatus", "ModelLifeCycle"], lifecycle=("prod", "Approved")),
            True,
        ),
        (f"{wanted} package, only its approval description updated", package(wanted, ["ApprovalDescription"]), False),
        (
            "package approval changed in another group",
            package(wanted, ["ModelApprovalStatus"], {"versionedmp-p-idy6c3e1fiqj": OTHER}),
            False,
        ),
    ]
    return cases


def model_package_stage(rule: Rule) -> list[tuple[str, dict, bool]]:
    """DagTrigger.onModelPackageStageChange: an approved package set to a status for one of the listed stages."""
    detail = rule.pattern["detail"]
    assert rule.referenced_type("detail", "ModelPackageGroupName") in ("AWS::SageMaker::ModelPackageGroup", None)
    group = _only(detail["ModelPackageGroupName"], "group", rule)
    assert detail["ModelApprovalStatus"] == ["Approved"], f"{rule.id}: a stage of a package that is not approved must not run"
    assert detail["UpdatedModelPackageFields"] == ["ModelLifeCycle"], f"{rule.id}: only a change of the lifecycle may run"
    stages = detail["ModelLifeCycle"]["Stage"]
    wanted = _only(detail["ModelLifeCycle"]["StageStatus"], "stage status", rule)
    names = {"versionedmp-p-idy6c3e1fiqj": group}
    first = stages[0]
    others = [status for status in STAGE_STATUSES if status != wanted]

    def package(status: str, updated: list[str] | None, stage: str, stage_status: str, group_names=names) -> dict:
        return _package_event(group_names, status, updated, (stage, stage_status))

    cases = [
        (f"approved package set {wanted} for stage {stage}", package("Approved", ["ModelLifeCycle"], stage, wanted), True)
        for stage in stages
    ]
    cases += [
        (
            f"approved package set {status} for stage {first}",
            package("Approved", ["ModelLifeCycle"], first, status),
            False,
        )
        for status in others
    ]
    cases += [
        (
            f"{status} package set {wanted} for stage {first}",
            package(status, ["ModelLifeCycle"], first, wanted),
            False,
        )
        for status in MODEL_APPROVAL_STATUSES
        if status != "Approved"
    ]
    cases += [
        (
            f"approved package set {wanted} for a stage not listed",
            package("Approved", ["ModelLifeCycle"], "unlisted", wanted),
            False,
        ),
        (
            f"the documented sample: an approved package set {wanted} for stage Development",
            package("Approved", ["ModelLifeCycle"], "Development", wanted),
            "Development" in stages,
        ),
        (
            f"only the approval changed, of a package already {wanted} for stage {first}",
            package("Approved", ["ModelApprovalStatus"], first, wanted),
            False,
        ),
        (
            f"a new approved package, created {wanted} for stage {first}",
            package("Approved", None, first, wanted),
            False,
        ),
        (
            f"approval and lifecycle changed together: {wanted} for stage {first}",
            package("Approved", ["ModelApprovalStatus", "ModelLifeCycle"], first, wanted),
            True,
        ),
        (
            f"only the description of a package {wanted} for stage {first} changed",
            package("Approved", ["ModelPackageDescription"], first, wanted),
            False,
        ),
        (
            f"a package of another group set {wanted} for stage {first}",
            package("Approved", ["ModelLifeCycle"], first, wanted, {"versionedmp-p-idy6c3e1fiqj": OTHER}),
            False,
        ),
    ]
    return cases


def sagemaker_job(sample_name: str, other_sample: str, name_field: str, status_field: str) -> Callable[[Rule], list]:
    def cases(rule: Rule) -> list[tuple[str, dict, bool]]:
        prefix = _only(rule.pattern["detail"][name_field], "job name condition", rule)["prefix"]
        documented = sample(sample_name)["detail"][name_field]
        names = {documented: prefix + documented}
        result = [
            (f"job {status}", event(sample_name, names, {("detail", status_field): status}), reported)
            for status, reported in SAGEMAKER_REPORTED.items()
        ]
        result.append(("another pipeline's job Failed", event(sample_name, {}, {("detail", status_field): "Failed"}), False))
        other_documented = sample(other_sample)["detail"]
        other_name = next(value for key, value in other_documented.items() if key.endswith("JobName"))
        other_status = next(key for key in other_documented if key.endswith("JobStatus"))
        result.append(
            (
                "the other kind of job Failed",
                event(other_sample, {other_name: prefix + other_name}, {("detail", other_status): "Failed"}),
                False,
            )
        )
        return result

    return cases


def glue_job(rule: Rule) -> list[tuple[str, dict, bool]]:
    assert rule.referenced_type("detail", "jobName") in ("AWS::Glue::Job", None)
    job = _only(rule.pattern["detail"]["jobName"], "job", rule)
    cases = [(name.removeprefix("glue-"), event(name, {"MyJob": job}), reported) for name, reported in GLUE_REPORTED.items()]
    cases.append(("another job failed", event("glue-job-failed", {"MyJob": OTHER}), False))
    return cases


def pipeline_execution(rule: Rule) -> list[tuple[str, dict, bool]]:
    detail = rule.pattern["detail"]
    if "pipeline" in detail:
        assert rule.referenced_type("detail", "pipeline") == "AWS::CodePipeline::Pipeline"
        pipeline = _only(detail["pipeline"], "pipeline", rule)
    else:
        assert rule.referenced_type("resources") == "AWS::CodePipeline::Pipeline"
        pipeline = _only(rule.pattern["resources"], "pipeline ARN", rule).rsplit(":", 1)[1]
    wanted = _only(detail["state"], "state", rule)
    assert wanted in PIPELINE_EXECUTION_SAMPLES, f"{rule.id}: CodePipeline documents no pipeline execution state {wanted!r}"
    names = {"myPipeline": pipeline}
    cases = [(f"execution {state}", event(name, names), state == wanted) for state, name in PIPELINE_EXECUTION_SAMPLES.items()]
    cases.append(
        (f"another pipeline's execution {wanted}", event(PIPELINE_EXECUTION_SAMPLES[wanted], {"myPipeline": OTHER}), False)
    )
    cases.append(("stage execution STOPPED (another detail-type)", event("codepipeline-stage-stopped", names), False))
    return cases


def repository_change(rule: Rule) -> list[tuple[str, dict, bool]]:
    assert rule.referenced_type("resources") in ("AWS::CodeCommit::Repository", None)
    repo = _only(rule.pattern["resources"], "repository ARN", rule).rsplit(":", 1)[1]
    branch = _only(rule.pattern["detail"]["referenceName"], "branch", rule)
    names = {"myRepo": repo, "myBranch": branch}
    return [
        (f"branch {branch} created", event("codecommit-reference-created", names), True),
        (f"branch {branch} updated", event("codecommit-reference-updated", names), True),
        (f"branch {branch} deleted", event("codecommit-reference-deleted", names), False),
        ("another branch updated", event("codecommit-reference-updated", {"myRepo": repo}), False),
        (
            f"branch {branch} of another repository updated",
            event("codecommit-reference-updated", {"myRepo": OTHER, "myBranch": branch}),
            False,
        ),
    ]


def application_event(rule: Rule) -> list[tuple[str, dict, bool]]:
    source = _only(rule.pattern["source"], "source", rule)
    detail_type = _only(rule.pattern["detail-type"], "detail-type", rule)
    envelope = event("ec2-instance-state-change", {})
    own = with_fields(envelope, {("source",): source, ("detail-type",): detail_type})
    return [
        (f"{source} {detail_type}", own, True),
        (f"{source} another detail-type", with_fields(own, {("detail-type",): "Something Else"}), False),
        ("an AWS service event", envelope, False),
    ]


ALARM_STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")  # API_MetricAlarm, StateValue


def alarm_state_change(rule: Rule) -> list[tuple[str, dict, bool]]:
    """DagTrigger.onAlarm: the alarm's changes into the listed states, no other alarm's, no other detail-type."""
    assert rule.referenced_type("resources") in ("AWS::CloudWatch::Alarm", None)
    arn = _only(rule.pattern["resources"], "alarm ARN", rule)
    assert ":alarm:" in arn, f"{rule.id}: {arn} is not an alarm ARN"
    wanted = rule.pattern["detail"]["state"]["value"]
    assert set(wanted) <= set(ALARM_STATES), f"{rule.id}: CloudWatch sends no alarm state {set(wanted) - set(ALARM_STATES)}"
    names = {"ServerCpuTooHigh": arn.split(":alarm:", 1)[1]}

    def change(state: str, alarm_names: dict[str, str] = names) -> dict:
        previous = "OK" if state != "OK" else "ALARM"
        return event(
            "cloudwatch-alarm-state-change",
            alarm_names,
            {("detail", "state", "value"): state, ("detail", "previousState", "value"): previous},
        )

    cases = [(f"alarm changed to {state}", change(state), state in wanted) for state in ALARM_STATES]
    cases += [(f"another alarm changed to {state}", change(state, {"ServerCpuTooHigh": OTHER}), False) for state in wanted]
    cases.append(
        (
            "the alarm's configuration changed (another detail-type)",
            with_fields(change(wanted[0]), {("detail-type",): "CloudWatch Alarm Configuration Change"}),
            False,
        )
    )
    return cases


# MWAA Serverless's workflow-run detail-types (events-ref-airflow-serverless). AWS publishes no sample event of these:
# the cases put the workflow's ARN in the envelope's `resources`, as AWS service events do, which is the assumption
# src/monitoring/private/event-patterns.ts (serverlessWorkflowRuns) makes and the README lists as unproven.
RUN = "MWAA Serverless Workflow Run "
SERVERLESS_RUN_STATES = ("Started", "Queued", "Running", "Succeeded", "Failed", "Stopped", "Timeout")


def serverless_workflow_runs(rule: Rule) -> list[tuple[str, dict, bool]]:
    (matcher,) = rule.pattern["resources"]
    workflow = matcher["prefix"]
    assert ":airflow-serverless:" in workflow and ":workflow/" in workflow, f"{rule.id}: {workflow} is not a workflow ARN"
    wanted = set(rule.pattern["detail-type"])
    envelope = event("ec2-instance-state-change", {})

    def run(detail_type: str, arn: str) -> dict:
        return with_fields(
            envelope,
            {("source",): "aws.airflow-serverless", ("detail-type",): detail_type, ("resources",): [arn], ("detail",): {}},
        )

    cases = [(f"run {state}", run(RUN + state, workflow), RUN + state in wanted) for state in SERVERLESS_RUN_STATES]
    other = workflow.rsplit("/", 1)[0] + f"/{OTHER}-AbCdE12345"
    cases += [(f"another workflow's {detail_type}", run(detail_type, other), False) for detail_type in sorted(wanted)]
    cases.append(("a task of the workflow failed", run("MWAA Serverless Task Failed", workflow), False))
    return cases


KINDS: dict[tuple[str, str], Callable[[Rule], list]] = {
    ("aws.ecr", "ECR Image Action"): image_pushed,
    ("aws.s3", "Object Created"): object_created,
    ("aws.sagemaker", "SageMaker Model Package State Change"): model_package,
    ("aws.sagemaker", "SageMaker Training Job State Change"): sagemaker_job(
        "sagemaker-training-job-state-change", "sagemaker-processing-job-state-change", "TrainingJobName", "TrainingJobStatus"
    ),
    ("aws.sagemaker", "SageMaker Processing Job State Change"): sagemaker_job(
        "sagemaker-processing-job-state-change", "sagemaker-training-job-state-change", "ProcessingJobName", "ProcessingJobStatus"
    ),
    ("aws.glue", "Glue Job State Change"): glue_job,
    ("aws.codepipeline", "CodePipeline Pipeline Execution State Change"): pipeline_execution,
    ("aws.codecommit", "CodeCommit Repository State Change"): repository_change,
    ("aws.cloudwatch", "CloudWatch Alarm State Change"): alarm_state_change,
    ("aws.airflow-serverless", f"{RUN}Failed,{RUN}Timeout"): serverless_workflow_runs,
    ("aws.airflow-serverless", f"{RUN}Succeeded"): serverless_workflow_runs,
}

# Patterns a user passes to DagTrigger.onEvent: the app's own events, by source (integ.dag-trigger.ts, the variants).
APPLICATION_SOURCES = ("integ.app", "acme.data")


def cases_for(rule: Rule) -> list[Case] | None:
    """The rule's cases, None when its kind has none (the tests fail on it)."""
    build = KINDS.get(rule.kind)
    if build is None and rule.kind[0] in APPLICATION_SOURCES:
        build = application_event
    if build is None:
        return None
    try:
        expectations = build(rule)
    except KeyError as missing:
        raise AssertionError(f"{rule.id}: no {missing} in its pattern, where AWS's {rule.kind[1]!r} events carry it") from None
    return [Case(f"{rule.id}: {label}", rule.pattern, evt, expected) for label, evt, expected in expectations]
