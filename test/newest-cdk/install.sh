#!/bin/sh
# Brings test/newest-cdk/node_modules to the newest aws-cdk-lib, cdk-nag and constructs on the registry (one
# `npm outdated` call when they already are), and prints the versions the matrix tests.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
if [ "$(npm outdated --prefix "$dir" --json || true)" != "{}" ]; then
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error
fi
for name in aws-cdk-lib cdk-nag constructs; do
  printf '%s %s (newest)   floor: %s\n' "$name" \
    "$(node -p "require('$dir/node_modules/$name/package.json').version")" \
    "$(node -p "require('$dir/../../node_modules/$name/package.json').version")"
done
