"""The example app synthesizes the same stacks, with the same templates, in every language.

Run by `npx projen test:consumers` after the synth-*.sh scripts wrote each language's cloud assembly to
dist/consumers/<language>/cdk.out. The reference is examples/app.ts run against the npm package (typescript-package),
which every other language embeds; it is checked against examples/app.ts run from src/ (typescript) in turn.
"""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONSUMERS = ROOT / "dist" / "consumers"
REFERENCE = "typescript-package"
LANGUAGES = ["python", "java", "go"]
# Go gets a newer aws-cdk-lib than the project's minimum (examples/go/go.mod), so its reference is examples/app.ts from the
# npm package on that aws-cdk-lib (synth-go.sh); Python and Java run on the minimum, as the reference does.
REFERENCES = {"python": REFERENCE, "java": REFERENCE, "go": "go-typescript"}
# Shipped as `gitignore` (npm never packs a `.gitignore`); the seeded repository must hold it under its real name.
STARTER_GITIGNORE = ROOT / "assets" / "starter" / "gitignore"


def asset_directories(language: str) -> dict[str, Path]:
    return {p.name.removeprefix("asset."): p for p in (CONSUMERS / language / "cdk.out").glob("asset.*") if p.is_dir()}


def files_in(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def stack_templates(language: str) -> dict[str, dict]:
    assembly = CONSUMERS / language / "cdk.out"
    manifest = assembly / "manifest.json"
    assert manifest.is_file(), f"no cloud assembly from {language}: run `npx projen test:consumers`"
    artifacts = json.loads(manifest.read_text())["artifacts"]
    return {
        name: normalized(json.loads((assembly / artifact["properties"]["templateFile"]).read_text()))
        for name, artifact in artifacts.items()
        if artifact["type"] == "aws:cloudformation:stack"
    }


def normalized(template: dict) -> dict:
    # CDKMetadata records the language runtime that synthesized the stack (jsii-runtime.Python/3.11, ...).
    template.get("Resources", {}).pop("CDKMetadata", None)
    conditions = template.get("Conditions", {})
    conditions.pop("CDKMetadataAvailable", None)
    if not conditions:
        template.pop("Conditions", None)
    return template


def differences(expected, actual, path="") -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(expected.keys() | actual.keys()):
            if key not in actual:
                found.append(f"{path}/{key}: only in {REFERENCE}")
            elif key not in expected:
                found.append(f"{path}/{key}: not in {REFERENCE}")
            else:
                found += differences(expected[key], actual[key], f"{path}/{key}")
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [d for i, (e, a) in enumerate(zip(expected, actual, strict=True)) for d in differences(e, a, f"{path}[{i}]")]
    return [] if expected == actual else [f"{path}: {json.dumps(expected)[:200]} != {json.dumps(actual)[:200]}"]


@pytest.fixture(scope="module")
def reference() -> dict[str, dict]:
    templates = stack_templates(REFERENCE)
    assert templates, "the TypeScript example synthesized no stack"
    return templates


@pytest.mark.parametrize("language", LANGUAGES)
def test_consumer_synthesizes_the_same_templates(language):
    reference, templates = stack_templates(REFERENCES[language]), stack_templates(language)

    assert reference, f"the TypeScript example synthesized no stack in {REFERENCES[language]}"
    assert sorted(templates) == sorted(reference), f"{language} builds other stacks than examples/app.ts"
    for stack, template in reference.items():
        found = differences(template, templates[stack])
        shown = "\n".join(found[:20])
        assert found == [], f"{language}: stack {stack} differs from examples/app.ts in {len(found)} places:\n{shown}"


def test_the_npm_package_synthesizes_what_src_does(reference):
    from_src, packaged = asset_directories("typescript"), asset_directories(REFERENCE)

    assert sorted(from_src) == sorted(packaged), "the npm package stages other assets than src/"
    changed = [asset for asset in sorted(from_src) if files_in(from_src[asset]) != files_in(packaged[asset])]
    assert changed == [], f"these assets differ between src/ and the npm package: {changed}"
    found = differences(reference, stack_templates("typescript"))
    assert found == [], f"examples/app.ts from src/ and from the npm package differ in {len(found)} places:\n" + "\n".join(
        found[:20]
    )


@pytest.mark.parametrize("language", ["typescript", *sorted(set(REFERENCES.values())), *LANGUAGES])
def test_the_seeded_starter_repository_holds_its_gitignore(language):
    assembly = CONSUMERS / language / "cdk.out"
    keys = {
        resource["Properties"]["Code"]["S3"]["Key"]
        for template in assembly.glob("*.template.json")
        for resource in json.loads(template.read_text())["Resources"].values()
        if resource["Type"] == "AWS::CodeCommit::Repository" and "Code" in resource["Properties"]
    }
    assert keys, f"{language}: the example seeds no CodeCommit repository"
    for key in keys:
        seeded = files_in(assembly / f"asset.{key.removesuffix('.zip')}")
        assert seeded.get(".gitignore") == STARTER_GITIGNORE.read_bytes(), f"{language}: {key} lacks the starter's .gitignore"
        assert "gitignore" not in seeded, f"{language}: {key} holds the shipped name `gitignore` beside `.gitignore`"
