#!/usr/bin/env bash
# The reference templates: examples/app.ts run from src/ (as `npx projen synth:example` does), and the same file run
# against the npm package from dist/js, the way a TypeScript user gets the library.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=dist/consumers
rm -rf "$out/typescript" "$out/typescript-package"

CDK_OUTDIR="$out/typescript/cdk.out" ts-node --transpile-only examples/app.ts

app="$out/typescript-package"
mkdir -p "$app/node_modules/cdk-mwaa-mlops"
tar -xzf dist/js/cdk-mwaa-mlops@*.jsii.tgz --strip-components=1 -C "$app/node_modules/cdk-mwaa-mlops"
# aws-cdk-lib and constructs resolve from the project's node_modules (the minimum versions, pinned by projen).
sed "s#from '../src'#from 'cdk-mwaa-mlops'#" examples/app.ts > "$app/app.ts"
if grep -n "from '\.\./" "$app/app.ts"; then
  echo "examples/app.ts imports more than '../src': teach $0 to resolve it from the package" >&2
  exit 1
fi
CDK_OUTDIR="$app/cdk.out" ts-node --transpile-only "$app/app.ts"
