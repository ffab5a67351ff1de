#!/usr/bin/env bash
# Runs the conformance suites and prints one line per test plus totals.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
swift test --filter Conformance 2>&1 | tee "$log" | grep -E '^(✔|✘|↳|􀢄|􁁛|􀟈|Test )|passed|failed|skipped' || true
status=${PIPESTATUS[0]}
echo
echo "== conformance summary =="
passed=$(grep -cE '^✔ Test "' "$log" || true)
failed=$(grep -cE '^✘ Test "' "$log" || true)
skipped=$(grep -cE 'Test "[^"]*" (was skipped|was cancelled|skipped|cancelled)' "$log" || true)
grep -E '^(✔|✘) Test run' "$log" || true
echo "tests passed: $passed  failed: $failed  skipped or cancelled: $skipped"
rm -f "$log"
exit "$status"
