"""Every built package carries assets/ exactly as the constructs need it: the tracked files and the handler bundle.

Run by `npx projen test:consumers` after it packaged each language; a missing package fails, as a missing asset does.
"""

import io
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
HANDLER_BUNDLE = "assets/trigger/dag-trigger.lambda/index.js"
# npm never packs a file named .gitignore, and every other language ships the npm tarball: the starter's is shipped under
# this name, and newCodeCommitRepository restores `.gitignore` when it seeds the repository.
STARTER_GITIGNORE = "assets/starter/gitignore"


def tracked_assets() -> set[str]:
    listed = subprocess.run(["git", "ls-files", "assets"], cwd=ROOT, check=True, capture_output=True, text=True)
    return set(listed.stdout.split())


def only(paths: list[Path], what: str) -> Path:
    assert len(paths) == 1, f"expected one {what}, found {[str(p) for p in paths]}: run `npx projen test:consumers`"
    return paths[0]


def npm_tarball() -> bytes:
    return only(sorted((DIST / "js").glob("cdk-mwaa-mlops@*.jsii.tgz")), "npm tarball in dist/js").read_bytes()


def embedded_tarball(archive: Path) -> bytes:
    with zipfile.ZipFile(archive) as zf:
        tarballs = [name for name in zf.namelist() if name.endswith(".jsii.tgz")]
        assert len(tarballs) == 1, f"expected one npm tarball in {archive.name}, found {tarballs}"
        return zf.read(tarballs[0])


def wheel_tarball() -> bytes:
    return embedded_tarball(only(sorted((DIST / "python").glob("cdk_mwaa_mlops-*.whl")), "wheel in dist/python"))


def jar_tarball() -> bytes:
    jars = [p for p in (DIST / "java").rglob("cdk-mwaa-mlops-*.jar") if not p.name.endswith(("-sources.jar", "-javadoc.jar"))]
    return embedded_tarball(only(jars, "jar in dist/java"))


def go_module_tarball() -> bytes:
    return only(sorted((DIST / "go" / "cdkmwaamlops" / "jsii").glob("*.tgz")), "npm tarball in the Go module").read_bytes()


PACKAGES = {"npm": npm_tarball, "wheel": wheel_tarball, "jar": jar_tarball, "go module": go_module_tarball}


def packed_assets(tarball: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(tarball)) as tf:
        return {
            member.name.removeprefix("package/"): tf.extractfile(member).read()
            for member in tf.getmembers()
            if member.isfile() and member.name.startswith("package/assets/")
        }


@pytest.mark.parametrize("package", PACKAGES)
def test_package_ships_every_asset_as_on_disk(package):
    packed = packed_assets(PACKAGES[package]())
    expected = tracked_assets() | {HANDLER_BUNDLE}

    assert sorted(expected - packed.keys()) == [], f"missing from the {package}"
    assert sorted(packed.keys() - expected) == [], f"not tracked in git, yet in the {package}"
    changed = [name for name in sorted(expected) if packed[name] != (ROOT / name).read_bytes()]
    assert changed == [], f"the {package} ships a different version of these files than assets/ holds"


@pytest.mark.parametrize("package", PACKAGES)
def test_package_ships_the_starter_gitignore(package):
    gitignore = packed_assets(PACKAGES[package]()).get(STARTER_GITIGNORE, b"").decode()

    assert gitignore == (ROOT / STARTER_GITIGNORE).read_text(), f"the {package} lacks the starter's .gitignore"
    assert {"__pycache__/", "data/raw/"} <= set(gitignore.split()), "the starter's .gitignore lost its caches and raw data"


def test_the_handler_bundle_is_not_empty():
    assert len(packed_assets(npm_tarball())[HANDLER_BUNDLE]) > 10_000
