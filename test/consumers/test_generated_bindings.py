"""What jsii generates for the languages whose apps cannot run here (Go, .NET): the static constants and the value
of version-like classes are there. Run by `npx projen test:consumers` after synth-go.sh and generate-dotnet.sh."""

from pathlib import Path

import pytest

DIST = Path(__file__).resolve().parents[2] / "dist"
GO = DIST / "go" / "cdkmwaamlops"
DOTNET = DIST / "dotnet" / "CdkMwaaMlops" / "CdkMwaaMlops"


def source(path: Path) -> str:
    assert path.is_file(), f"{path} was not generated: run `npx projen test:consumers`"
    return path.read_text()


@pytest.mark.parametrize(
    ("file", "declaration"),
    [
        ("DagTrigger.go", "func DagTrigger_METRIC_NAMESPACE() *string {"),
        ("PipelineSource.go", "func PipelineSource_STARTER_REPOSITORY_DIRECTORY() *string {"),
        ("AirflowVersion.go", "func (a *jsiiProxy_AirflowVersion) ToString() *string {"),
        ("EnvironmentClass.go", "func (e *jsiiProxy_EnvironmentClass) ToString() *string {"),
    ],
)
def test_go_module_declares(file, declaration):
    assert declaration in source(GO / file)


@pytest.mark.parametrize(
    ("file", "declaration"),
    [
        ("DagTrigger.cs", "public static string METRIC_NAMESPACE"),
        ("PipelineSource.cs", "public static string STARTER_REPOSITORY_DIRECTORY"),
        ("AirflowVersion.cs", "public override string ToString()"),
        ("EnvironmentClass.cs", "public override string ToString()"),
    ],
)
def test_dotnet_code_declares(file, declaration):
    assert declaration in source(DOTNET / file)


def test_dotnet_code_compiles():
    skipped = DIST / "consumers" / "dotnet" / "SKIPPED"
    if skipped.is_file():
        pytest.skip(f"dotnet: {skipped.read_text().strip()}")
    assert (DIST / "dotnet" / "CdkMwaaMlops" / "CdkMwaaMlops" / "bin").is_dir()
