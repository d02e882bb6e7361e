#!/usr/bin/env bash
# Compiles the .NET code test:consumers generated into dist/dotnet, where a .NET SDK is installed. None is here: Debian's
# packages have no dotnet-sdk-* (`apt-cache policy dotnet-sdk-8.0` finds nothing) and NuGet, where the jsii runtime
# for .NET comes from, is not reachable, so the compile is skipped with that reason (dist/consumers/dotnet/SKIPPED).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=dist/consumers/dotnet
rm -rf "$out" && mkdir -p "$out"

if ! command -v dotnet >/dev/null; then
  echo "no .NET SDK (dotnet) on PATH: the generated C# was not compiled" | tee "$out/SKIPPED"
  exit 0
fi
dotnet build dist/dotnet/CdkMwaaMlops/CdkMwaaMlops/CdkMwaaMlops.csproj
