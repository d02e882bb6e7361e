#!/usr/bin/env bash
# Installs the wheel from dist/python (with aws-cdk-lib and constructs at the project's minimum versions, from PyPI)
# beside a venv and synthesizes examples/python/app.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=dist/consumers/python
rm -rf "$out" && mkdir -p "$out"

venv=$(test/consumers/python-venv.sh)
# The wheel goes beside the cached venv, which stays as its requirements made it; its own requirements must be met by
# the pinned versions already there (--no-index: nothing may be fetched to satisfy them).
"$venv/bin/pip" install --quiet --disable-pip-version-check --dry-run --no-index dist/python/cdk_mwaa_mlops-*.whl
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --target "$out/site-packages" dist/python/cdk_mwaa_mlops-*.whl

export PYTHONPATH="$PWD/$out/site-packages"
(cd examples/python && CDK_OUTDIR="$OLDPWD/$out/cdk.out" "$venv/bin/python" app.py)
"$venv/bin/python" test/consumers/jsii_surface.py
