#!/usr/bin/env bash
# A consumer app as `cdk init app --language typescript` (CDK CLI 2.1149.0) makes one: TypeScript 7, tsx, the newest
# aws-cdk-lib, cdk-nag 3 as its README says, and the library from the npm tarball in dist/js. Run with the CLI's own
# `cdk synth`, no AWS credentials. It fails on any type error and on any unacknowledged cdk-nag finding; before the real
# synth, a planted type error and a planted finding prove that it can.
#
# node_modules comes from the committed lockfile (`npm ci`), so a red run is a change of ours, never a registry release
# mid-run; refresh it to the registry's newest with `npm install` in test/consumers/cdk-init-app. `npm ci` runs once per
# lockfile into a cache outside the clone (copied in: a fresh clone takes seconds), the library once per tarball.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
app=test/consumers/cdk-init-app
out=dist/consumers/cdk-init-app
rm -rf "$out" && mkdir -p "$out"

# No credentials, no instance metadata, no version check, notices or telemetry: synth must need none of them.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE AWS_REGION AWS_DEFAULT_REGION
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=1 npm_config_update_notifier=false
synth=(npx --no-install cdk synth --no-notices --quiet)

lock_sum=$(sha256sum "$app/package-lock.json" | cut -d' ' -f1)
stamp="$app/node_modules/.installed-from-lock"
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  cache="${CDK_MWAA_MLOPS_CACHE:-$HOME/.cache/cdk-mwaa-mlops}/cdk-init-app-${lock_sum:0:16}"
  mkdir -p "$(dirname "$cache")"
  exec 9>"$cache.lock"
  flock 9
  if [ ! -f "$cache/.complete" ]; then
    rm -rf "$cache" && mkdir -p "$cache"
    cp "$app/package.json" "$app/package-lock.json" "$cache/"
    (cd "$cache" && npm ci --no-audit --no-fund)
    touch "$cache/.complete"
  fi
  flock -u 9
  rm -rf "$app/node_modules" && cp -a "$cache/node_modules" "$app/node_modules"
  echo "$lock_sum" > "$stamp"
fi
# The library as a user installs it, from the tarball (npm checks its peer dependencies); package files stay untouched.
tarball=$(ls dist/js/cdk-mwaa-mlops@*.jsii.tgz)
tarball_sum=$(sha256sum "$tarball" | cut -d' ' -f1)
if [ "$(cat "$app/node_modules/.installed-library" 2>/dev/null)" != "$tarball_sum" ]; then
  (cd "$app" && npm install --no-save --no-audit --no-fund "$root/$tarball")
  echo "$tarball_sum" > "$app/node_modules/.installed-library"
fi
(cd "$app" && node -e '
  const names = ["aws-cdk", "typescript", "tsx", "aws-cdk-lib", "constructs", "cdk-nag", "cdk-mwaa-mlops"];
  console.log(JSON.stringify(Object.fromEntries(names.map((n) => [n, require(`${n}/package.json`).version]))));
') | tee "$out/versions.json"

# A copy of the app with node_modules shared, for the planted failures.
planted_copy() {
  local dir="$out/$1"
  mkdir -p "$dir"
  (cd "$app" && tar -cf - --exclude=node_modules --exclude=cdk.out .) | tar -xf - -C "$dir"
  ln -s "$root/$app/node_modules" "$dir/node_modules"
  echo "$dir"
}
expect_synth_failure() {
  local dir=$1 expected=$2
  if (cd "$dir" && "${synth[@]}" --output cdk.out) >"$dir/synth.log" 2>&1; then
    echo "cdk-init-app: cdk synth succeeded on $dir, which plants $expected: the gate cannot fail" >&2
    exit 1
  fi
  grep -q -- "$expected" "$dir/synth.log" || { cat "$dir/synth.log" >&2; echo "cdk-init-app: $dir failed without $expected" >&2; exit 1; }
  echo "cdk-init-app: a planted $expected fails cdk synth, as it must"
}

dir=$(planted_copy planted-type-error)
echo "export const planted: number = 'not a number';" >> "$dir/lib/cdk-init-app-stack.ts"
expect_synth_failure "$dir" 'TS2322'

# The app's own plugin wiring (bin/ up to addPlugins), then one bucket with no access logs and no SSL-only policy.
dir=$(planted_copy planted-nag-error)
wiring=$(grep -n 'addPlugins(new AwsSolutionsChecks' "$app/bin/cdk-init-app.ts" | cut -d: -f1)
[ -n "$wiring" ] || { echo "cdk-init-app: bin/cdk-init-app.ts no longer adds AwsSolutionsChecks" >&2; exit 1; }
{
  head -n "$wiring" "$app/bin/cdk-init-app.ts"
  echo "import * as s3 from 'aws-cdk-lib/aws-s3';"
  echo "new s3.Bucket(new cdk.Stack(app, 'Planted'), 'Bucket');"
} > "$dir/bin/cdk-init-app.ts"
expect_synth_failure "$dir" 'AwsSolutions-S10'

(cd "$app" && npm run --silent build)   # `tsc`: the app's TypeScript 7, noEmit as cdk init configures it
if ! (cd "$app" && "${synth[@]}" --output "$root/$out/cdk.out") >"$out/synth.log" 2>&1; then
  cat "$out/synth.log" >&2
  {
    echo
    echo "cdk-init-app: cdk synth FAILED ($(grep -c '^ERROR' "$out/synth.log" || true) errors). Unacknowledged findings, by rule:"
    grep -o "Acknowledge with '[^']*'" "$out/synth.log" | sed -E "s/Acknowledge with '//; s/'$//; s/\[.*//" | sort | uniq -c
  } >&2
  exit 1
fi
echo "cdk-init-app: cdk synth is clean (templates in $out/cdk.out)"
