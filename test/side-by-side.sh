#!/usr/bin/env bash
# Runs independent test suites side by side and reports them one after another.
#
#   test/side-by-side.sh NAME=COMMAND [NAME=COMMAND ...]
#
# Each COMMAND runs in its own shell with its output in a log; as each one ends its log is printed whole, under a
# header with its exit code and wall time, so the output reads as if the suites had run in turn. The suites overlap
# where one waits (Airflow's schedulers and triggerers poll, moto and Maven answer, jsii-pacmak writes) and the other
# computes: that is the point on a 2-core machine. At the end: one line per suite, then the tests counted from the
# runners' own closing lines (jest, pytest), and the exit code is non-zero if any suite failed.
set -uo pipefail

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
declare -A name_of start_of
names=()

for spec in "$@"; do
  name=${spec%%=*}
  command=${spec#*=}
  names+=("$name")
  start_of[$name]=$(date +%s)
  bash -c "$command" >"$logs/$name.log" 2>&1 &
  name_of[$!]=$name
  echo "side-by-side: started $name: $command"
done

declare -A status_of seconds_of
while ((${#name_of[@]} > 0)); do
  wait -n -p pid
  rc=$?
  name=${name_of[$pid]}
  unset "name_of[$pid]"
  status_of[$name]=$rc
  seconds_of[$name]=$(($(date +%s) - ${start_of[$name]}))
  echo
  echo "════════ $name: $([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc)") in ${seconds_of[$name]} s ════════"
  cat "$logs/$name.log"
done

# The runners' own closing lines: jest's "Tests:  3 failed, 2 skipped, 330 passed, 335 total", pytest's
# "1 failed, 176 passed, 2 skipped in 530.12s" (with or without its ===== frame).
counts=$(grep -hE '^Tests: +[0-9]|^(=+ )?[0-9]+ [a-z]+.* in [0-9.]+s( \([0-9:]+\))?( =+)?$' "$logs"/*.log)
passed=$(grep -oE '[0-9]+ passed' <<<"$counts" | awk '{ n += $1 } END { print n + 0 }')
failed=$(grep -oE '[0-9]+ (failed|errors?)' <<<"$counts" | awk '{ n += $1 } END { print n + 0 }')
skipped=$(grep -oE '[0-9]+ skipped' <<<"$counts" | awk '{ n += $1 } END { print n + 0 }')

echo
echo "════════ side by side: summary ════════"
failed_suites=0
for name in "${names[@]}"; do
  rc=${status_of[$name]}
  ((rc == 0)) || failed_suites=$((failed_suites + 1))
  printf '  %-28s %-16s %5s s\n' "$name" "$([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc)")" "${seconds_of[$name]}"
done
echo "suites: $((${#names[@]} - failed_suites)) ok, $failed_suites failed"
# What was skipped, and why (pytest -rs prints "SKIPPED [1] file:line: reason"): a skip is reported, never swallowed.
grep -h '^SKIPPED \[' "$logs"/*.log | sed 's/^/  /'
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $((failed_suites > 0))
