"""cfn-lint on the committed integ snapshot of ModelBuildPipeline: one pipeline per kind of source."""

from __future__ import annotations

import json
import pathlib

from cfn_lint_check import cfn_lint, unexplained

SNAPSHOT = (
    pathlib.Path(__file__).resolve().parents[1] / "integ.model-build-pipeline.ts.snapshot" / "IntegModelBuild.template.json"
)


def test_every_source_kind_is_in_the_snapshot():
    resources = json.loads(SNAPSHOT.read_text())["Resources"].values()
    providers = {
        stage["Actions"][0]["ActionTypeId"]["Provider"]
        for r in resources
        if r["Type"] == "AWS::CodePipeline::Pipeline"
        for stage in r["Properties"]["Stages"][:1]
    }
    assert providers == {"CodeStarSourceConnection", "CodeCommit", "S3"}
    assert sum(r["Type"] == "AWS::CodeCommit::Repository" for r in resources) == 1  # the seeded one


def test_cfn_lint_reports_no_errors_and_nothing_unexplained():
    findings = cfn_lint(SNAPSHOT)
    assert [f for f in findings if f["Level"] == "Error"] == [], json.dumps(findings, indent=1)
    assert unexplained(findings) == [], json.dumps(unexplained(findings), indent=1)
