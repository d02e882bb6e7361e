#!/usr/bin/env bash
# Resolves the jar from dist/java (with aws-cdk-lib and constructs at the project's minimum versions, from Maven
# Central) and synthesizes examples/java.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=dist/consumers/java
rm -rf "$out" && mkdir -p "$out"

# Every build is version 0.0.0 (or the release's version): Maven would keep using the copy it cached from an earlier
# build, so drop that copy first.
rm -rf "$HOME/.m2/repository/io/github/cdkmwaamlops"
version=$(node -p "require('./package.json').version")
CDK_OUTDIR="$PWD/$out/cdk.out" mvn --batch-mode --quiet -Dstyle.color=never --file examples/java/pom.xml \
  -DcdkMwaaMlops.version="$version" -DcdkMwaaMlops.repository="file://$PWD/dist/java" \
  compile exec:java
mvn --batch-mode --quiet -Dstyle.color=never --file examples/java/pom.xml \
  -DcdkMwaaMlops.version="$version" -DcdkMwaaMlops.repository="file://$PWD/dist/java" \
  dependency:build-classpath -Dmdep.outputFile="$PWD/$out/classpath.txt"
java -cp "$(cat "$out/classpath.txt")" test/consumers/JsiiSurface.java
