#!/usr/bin/env bash
# Runs the conformance suites and prints one line per test plus totals.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
swift test --filter Conformance 2>&1 | tee "$log" | grep -E '^(✔|✘|↳|􀢄|􁁛|􀟈|Test )|passed|failed|skipped' || true
status=${PIPESTATUS[0]}
echo
echo "== conformance summary =="
passed=$(grep -cE 'Test .* passed' "$log" || true)
failed=$(grep -cE 'Test .* failed' "$log" || true)
skipped=$(grep -cE 'Test .* (skipped|cancelled)' "$log" || true)
echo "passed: $passed  failed: $failed  skipped: $skipped"
rm -f "$log"
exit "$status"
