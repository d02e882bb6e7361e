"""The `cdk init app --language typescript` consumer synthesized clean, on the toolchain a new user gets.

Run by `npx projen test:consumers` after test/consumers/cdk-init-app.sh, which fails first on any type error or
unacknowledged cdk-nag finding; this checks what its cloud assembly holds.
"""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "test" / "consumers" / "cdk-init-app"
OUT = ROOT / "dist" / "consumers" / "cdk-init-app"
ASSEMBLY = OUT / "cdk.out"
STACKS = {
    "CdkInitAppStack": "aws://123456789012/eu-west-1",
    "ImportedEnvironmentStack": "aws://123456789012/eu-west-1",
    "NonDefaultPropsStack": "aws://123456789012/us-east-1",
}


def template(stack: str) -> dict:
    return json.loads((ASSEMBLY / f"{stack}.template.json").read_text())


def resources(stack: str, kind: str) -> list[dict]:
    return [r for r in template(stack)["Resources"].values() if r["Type"] == kind]


@pytest.fixture(scope="module")
def manifest() -> dict:
    path = ASSEMBLY / "manifest.json"
    assert path.is_file(), "no cloud assembly from the cdk-init app: run test/consumers/cdk-init-app.sh"
    return json.loads(path.read_text())


def test_it_ran_on_the_toolchain_its_lockfile_names():
    installed = json.loads((OUT / "versions.json").read_text())
    locked = json.loads((APP / "package-lock.json").read_text())["packages"]

    assert installed["typescript"].startswith("7."), "cdk init gives TypeScript 7"
    for name in ["aws-cdk", "typescript", "tsx", "aws-cdk-lib", "constructs", "cdk-nag"]:
        assert installed[name] == locked[f"node_modules/{name}"]["version"], name


def test_every_stack_synthesized_for_its_explicit_environment(manifest):
    stacks = {name: a["environment"] for name, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack"}
    assert stacks == STACKS


def test_cdk_nag_reported_no_finding():
    report = json.loads((ASSEMBLY / "validation-report.json").read_text())
    violations = [v["ruleName"] for plugin in report["pluginReports"] for v in plugin.get("violations", [])]
    # aws-cdk-lib 2.278 also reports synth warnings here; the one expected is the library's own warning on the imported
    # environment (add aiobotocore to its requirements), which names what the user must do.
    assert [v for v in violations if not v.startswith("Annotation::")] == []
    assert set(violations) <= {"Annotation::cdk-mwaa-mlops:workflow-requirements"}


def test_the_vpcs_use_the_availability_zones_cached_in_cdk_context():
    context = json.loads((APP / "cdk.context.json").read_text())
    for stack in ["CdkInitAppStack", "NonDefaultPropsStack"]:
        account, region = STACKS[stack].removeprefix("aws://").split("/")
        cached = context[f"availability-zones:account={account}:region={region}"]
        zones = {subnet["Properties"]["AvailabilityZone"] for subnet in resources(stack, "AWS::EC2::Subnet")}
        assert zones and zones <= set(cached), stack


def test_the_imported_environment_gets_the_dags_and_no_new_environment():
    assert resources("ImportedEnvironmentStack", "AWS::MWAA::Environment") == []
    deployments = resources("ImportedEnvironmentStack", "Custom::CDKBucketDeployment")
    assert [d["Properties"]["DestinationBucketName"] for d in deployments] == ["shared-airflow-source"]


def test_the_seeded_starter_repository_holds_its_gitignore():
    (repository,) = resources("CdkInitAppStack", "AWS::CodeCommit::Repository")
    seeded = ASSEMBLY / f"asset.{repository['Properties']['Code']['S3']['Key'].removesuffix('.zip')}"
    assert (seeded / ".gitignore").read_bytes() == (ROOT / "assets" / "starter" / "gitignore").read_bytes()
