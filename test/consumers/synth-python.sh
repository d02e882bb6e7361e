#!/usr/bin/env bash
# Installs the wheel from dist/python (with aws-cdk-lib and constructs at the project's minimum versions, from PyPI)
# into a venv and synthesizes examples/python/app.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=dist/consumers/python
rm -rf "$out" && mkdir -p "$out"

# The venv holds only the pinned requirements, so it is kept between runs, keyed on them and on the Python version;
# a missing or half-built one is simply rebuilt.
key=$( (python3 --version; cat examples/python/requirements.txt) | sha256sum | cut -c1-16)
venv="${CDK_MWAA_MLOPS_CACHE:-$HOME/.cache/cdk-mwaa-mlops}/consumer-python-$key"
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r examples/python/requirements.txt
  touch "$venv/.complete"
fi
"$venv/bin/pip" uninstall --quiet --yes cdk-mwaa-mlops >/dev/null 2>&1 || true
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps dist/python/cdk_mwaa_mlops-*.whl
"$venv/bin/pip" check   # the wheel's own requirements are met by the pinned versions

(cd examples/python && CDK_OUTDIR="$OLDPWD/$out/cdk.out" "$venv/bin/python" app.py)
"$venv/bin/python" test/consumers/jsii_surface.py
