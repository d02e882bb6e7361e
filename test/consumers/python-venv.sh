#!/usr/bin/env bash
# Prints the path of a venv holding examples/python/requirements.txt (aws-cdk-lib, constructs), building it if needed.
# The venv is kept between runs, keyed on the requirements and the Python version; a missing or half-built one is
# rebuilt. test:consumers starts it with --background while it packages, and synth-python.sh waits for it.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = --background ]; then
  "$0" >/dev/null 2>&1 &
  exit 0
fi
key=$( (python3 --version; cat examples/python/requirements.txt) | sha256sum | cut -c1-16)
cache="${CDK_MWAA_MLOPS_CACHE:-$HOME/.cache/cdk-mwaa-mlops}"
venv="$cache/consumer-python-$key"
mkdir -p "$cache"
exec 9>"$venv.lock"
flock 9
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r examples/python/requirements.txt >&2
  touch "$venv/.complete"
fi
echo "$venv"
