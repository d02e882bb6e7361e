"""The example app synthesizes the same stacks, with the same templates, in every language.

Run by `npx projen test:consumers` after the synth-*.sh scripts wrote each language's cloud assembly to
dist/consumers/<language>/cdk.out. The reference is examples/app.ts run against the npm package (typescript-package),
which every other language embeds; it is checked against examples/app.ts run from src/ (typescript) in turn.
"""

import json
from pathlib import Path

import pytest

CONSUMERS = Path(__file__).resolve().parents[2] / "dist" / "consumers"
REFERENCE = "typescript-package"
LANGUAGES = ["python", "java", "go"]
# npm never packs a file named .gitignore, so the starter repository asset from a package lacks the one in src/.
NPM_NEVER_PACKS = {".gitignore"}


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
def test_consumer_synthesizes_the_same_templates(language, reference):
    skipped = CONSUMERS / language / "SKIPPED"
    if skipped.is_file():
        pytest.skip(f"{language}: {skipped.read_text().strip()}")
    templates = stack_templates(language)

    assert sorted(templates) == sorted(reference), f"{language} builds other stacks than examples/app.ts"
    for stack, template in reference.items():
        found = differences(template, templates[stack])
        shown = "\n".join(found[:20])
        assert found == [], f"{language}: stack {stack} differs from examples/app.ts in {len(found)} places:\n{shown}"


def test_the_npm_package_synthesizes_what_src_does_but_the_starter_gitignore(reference):
    from_src, packaged = asset_directories("typescript"), asset_directories(REFERENCE)
    only_src, only_packaged = sorted(from_src.keys() - packaged.keys()), sorted(packaged.keys() - from_src.keys())
    assert len(only_src) == len(only_packaged) <= 1, (
        f"assets differ beyond the starter's .gitignore: {only_src} vs {only_packaged}"
    )
    templates = json.dumps(stack_templates("typescript"))
    if only_src:
        src_files, packaged_files = files_in(from_src[only_src[0]]), files_in(packaged[only_packaged[0]])
        assert src_files.keys() - packaged_files.keys() == NPM_NEVER_PACKS
        assert {name: src_files[name] for name in packaged_files} == packaged_files
        templates = templates.replace(only_src[0], only_packaged[0])

    found = differences(reference, json.loads(templates))
    assert found == [], f"examples/app.ts from src/ and from the npm package differ in {len(found)} places:\n" + "\n".join(
        found[:20]
    )
