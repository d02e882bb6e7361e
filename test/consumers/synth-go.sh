#!/usr/bin/env bash
# Synthesizes examples/go against the Go module test:consumers generated into dist/go (code only), with aws-cdk-go and
# constructs-go from the Go module proxy. examples/go requires aws-cdk-go v2.277.0: the library's module names its minimum,
# v2.257.0, whose pinned modules the proxy does not all serve; minimal version selection must pick v2.277.0 over it.
# Any module that does not resolve fails the synth. Downloads are cached in GOMODCACHE (~/go/pkg/mod). The TypeScript
# templates Go's are compared with are synthesized here too, on the aws-cdk-lib version Go resolved.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=dist/consumers/go
rm -rf "$out" && mkdir -p "$out"

app="$out/app"
mkdir -p "$app"
cp examples/go/go.mod examples/go/main.go "$app/"
(cd "$app" && go mod edit -replace "github.com/cdk-mwaa-mlops/cdk-mwaa-mlops-go/cdkmwaamlops=$OLDPWD/dist/go/cdkmwaamlops")

# The module proxy here has no checksum database, so go.sum is written from the proxy's own downloads.
export GOFLAGS="-mod=mod -buildvcs=false" GOSUMDB=off
(cd "$app" && go mod tidy)

awscdk=github.com/aws/aws-cdk-go/awscdk/v2
floor=$(sed -n "s#^\s*$awscdk \(v[^ ]*\).*#\1#p" dist/go/cdkmwaamlops/go.mod)
chosen=$(cd "$app" && go list -m -f '{{.Version}}' "$awscdk")
wanted=$(sed -n "s#^\s*$awscdk \(v[^ ]*\).*#\1#p" examples/go/go.mod)
echo "aws-cdk-go: the library's module names $floor, examples/go $wanted, minimal version selection chose $chosen"
if [ "$chosen" != "$wanted" ]; then
  echo "minimal version selection chose aws-cdk-go $chosen, not examples/go's $wanted" >&2
  exit 1
fi

(cd "$app" && go vet . && CDK_OUTDIR="$OLDPWD/$out/cdk.out" go run .)

# The templates to compare with: examples/app.ts from the npm package on the aws-cdk-lib and constructs that Go resolved
# (aws-cdk-go embeds that aws-cdk-lib), cached per version; the other references run on the project's minimum.
lib_version=${chosen#v}
constructs_version=$(cd "$app" && go list -m -f '{{.Version}}' github.com/aws/constructs-go/constructs/v10)
constructs_version=${constructs_version#v}
cache="${CDK_MWAA_MLOPS_CACHE:-$HOME/.cache/cdk-mwaa-mlops}/aws-cdk-lib-$lib_version-constructs-$constructs_version"
if [ ! -f "$cache/.complete" ]; then
  rm -rf "$cache" && mkdir -p "$cache"
  (cd "$cache" && npm install --no-save --no-package-lock --no-audit --no-fund "aws-cdk-lib@$lib_version" "constructs@$constructs_version")
  touch "$cache/.complete"
fi
reference=dist/consumers/go-typescript
rm -rf "$reference" && mkdir -p "$reference/node_modules/cdk-mwaa-mlops"
tar -xzf dist/js/cdk-mwaa-mlops@*.jsii.tgz --strip-components=1 -C "$reference/node_modules/cdk-mwaa-mlops"
ln -s "$cache/node_modules/aws-cdk-lib" "$cache/node_modules/constructs" "$reference/node_modules/"
sed "s#from '../src'#from 'cdk-mwaa-mlops'#" examples/app.ts > "$reference/app.ts"
CDK_OUTDIR="$reference/cdk.out" ts-node --transpile-only "$reference/app.ts"
(cd "$reference" && node -p "require('aws-cdk-lib/package.json').version" | grep -qx "$lib_version")
