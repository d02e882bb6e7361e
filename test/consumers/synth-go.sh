#!/usr/bin/env bash
# Synthesizes examples/go against the Go module test:consumers generated into dist/go, with aws-cdk-go and constructs-go at
# the project's minimum versions from the Go module proxy. Where the proxy does not serve every module that needs,
# the synth is skipped with the reason (dist/consumers/go/SKIPPED), and the module's assets are still checked.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=dist/consumers/go
rm -rf "$out" && mkdir -p "$out"

# dist/go holds the generated code only: jsii-pacmak's own `go mod tidy` (package:go) needs the same modules as the app.
gofmt -l -e examples/go >/dev/null   # the app at least parses, skipped or not

app="$out/app"
mkdir -p "$app"
cp examples/go/go.mod examples/go/main.go "$app/"
(cd "$app" && go mod edit -replace "github.com/cdk-mwaa-mlops/cdk-mwaa-mlops-go/cdkmwaamlops=$OLDPWD/dist/go/cdkmwaamlops")

# The module proxy here has no checksum database, so go.sum is written from the proxy's own downloads.
export GOFLAGS=-mod=mod GOSUMDB=off
if ! (cd "$app" && go mod tidy) >"$out/go-mod-tidy.log" 2>&1; then
  if grep -qE 'not available|404 Not Found|403 Forbidden|410 Gone' "$out/go-mod-tidy.log"; then
    {
      echo "the Go module proxy does not serve every module aws-cdk-go needs:"
      grep -E 'not available|404 Not Found|403 Forbidden|410 Gone|reading https' "$out/go-mod-tidy.log" | sed 's/^/  /' | sort -u
    } | tee "$out/SKIPPED"
    exit 0
  fi
  cat "$out/go-mod-tidy.log" >&2
  exit 1
fi
(cd "$app" && CDK_OUTDIR="$OLDPWD/$out/cdk.out" go run .)
