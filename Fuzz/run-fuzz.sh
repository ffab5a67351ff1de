#!/usr/bin/env bash
# Builds the libFuzzer binary (Fuzz/USDTFuzz) and runs every fuzz target for a bounded time,
# then writes executions per target to $FUZZ_OUT/summary.txt. Called by `make fuzz` (Fuzz/fuzz.mk).
#
# Environment (all optional):
#   FUZZ_SECONDS   seconds per target (default 30)
#   FUZZ_TARGETS   space-separated target names (default: every target; see USDTFuzz.swift)
#   FUZZ_OUT       where corpora, crashes, logs and the summary go (default .build/fuzz)
#   FUZZ_SCRATCH   SwiftPM scratch path of the sanitizer build (default $FUZZ_OUT/scratch), kept
#                  apart from .build so the instrumented objects never mix with a normal build
#   FUZZ_FLAGS     extra libFuzzer flags, e.g. "-seed=1 -jobs=2"
#
# Exit status: 0 when no target crashed; 1 when one did (its input is in
# $FUZZ_OUT/artifacts/<target>/ and the stack in $FUZZ_OUT/logs/<target>.log); 2 on a build error.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-30}
out=${FUZZ_OUT:-.build/fuzz}
scratch=${FUZZ_SCRATCH:-$out/scratch}
architectures="x86_64 aarch64 arm i386 riscv64 riscv32 s390x ppc64le ppc64 ppc loongarch64 mips"
default_targets="elf $(for a in $architectures; do printf 'args-%s ' "$a"; done)"
targets=${FUZZ_TARGETS:-$default_targets}

# SwiftPM's own `--sanitize fuzzer` is what stops it from renaming the executable's `main` (which
# libFuzzer supplies); the `-Xswiftc -sanitize=fuzzer,address` after it is what swiftc honours,
# because swiftc keeps only the last `-sanitize=` flag: `--sanitize fuzzer --sanitize address`
# alone would build with ASan but without the coverage libFuzzer needs.
echo "fuzz: building USDTFuzz with libFuzzer and ASan (scratch path $scratch)"
swift build -c release --scratch-path "$scratch" --product USDTFuzz \
  --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -DUSDT_LIBFUZZER || exit 2
binary=$(swift build -c release --scratch-path "$scratch" --show-bin-path)/USDTFuzz
[ -x "$binary" ] || { echo "fuzz: $binary was not built" >&2; exit 2; }

mkdir -p "$out/logs"
summary="$out/summary.txt"
{
  echo "# make fuzz, $(date -u +%Y-%m-%dT%H:%M:%SZ), ${seconds}s per target, $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  printf '%-18s %12s %10s %9s %8s  %s\n' target executions exec/s new_units corpus result
} > "$summary"

stat() {  # stat NAME LOG: the value of libFuzzer's final "stat::NAME:" line, or "?"
  local value
  value=$(grep -o "^stat::$1: *[0-9]*" "$2" | tail -1 | grep -o '[0-9]*$')
  echo "${value:-?}"
}

crashed=0
for target in $targets; do
  corpus="$out/corpus/$target"
  artifacts="$out/artifacts/$target/"
  log="$out/logs/$target.log"
  mkdir -p "$corpus" "$artifacts"
  seeds=()
  [ -d "Fuzz/corpus/$target" ] && seeds+=("Fuzz/corpus/$target")
  dict=Fuzz/dict/args.dict
  if [ "$target" = elf ]; then
    dict=Fuzz/dict/elf.dict
    [ -d Tests/USDTTests/Fixtures/malformed ] && seeds+=(Tests/USDTTests/Fixtures/malformed)
  fi
  echo "fuzz: $target for ${seconds}s (log $log)"
  # The first corpus directory receives new inputs; the committed seeds are only read.
  # shellcheck disable=SC2086
  USDT_FUZZ_TARGET=$target timeout -k 10 $((seconds + 300)) "$binary" \
    -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -dict="$dict" -artifact_prefix="$artifacts" ${FUZZ_FLAGS:-} \
    "$corpus" "${seeds[@]}" > "$log" 2>&1
  status=$?
  result=ok
  if [ $status -ne 0 ]; then
    crashed=1
    artifact=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //')
    result="CRASH (exit $status${artifact:+, input $artifact})"
  fi
  printf '%-18s %12s %10s %9s %8s  %s\n' "$target" "$(stat number_of_executed_units "$log")" \
    "$(stat average_exec_per_sec "$log")" "$(stat new_units_added "$log")" \
    "$(find "$corpus" -type f | wc -l)" "$result" >> "$summary"
done

cat "$summary"
if [ $crashed -ne 0 ]; then
  echo "fuzz: a target failed. Reproduce without sanitizers: swift build --product USDTFuzz &&" \
    "USDT_FUZZ_TARGET=<target> \$(swift build --show-bin-path)/USDTFuzz <input>; the stack is in $out/logs/." >&2
fi
exit $crashed
