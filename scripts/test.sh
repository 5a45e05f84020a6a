#!/usr/bin/env bash
# Sets up the machine (Debian packages), builds everything and runs the whole test suite:
#   1. every test target under AddressSanitizer + UndefinedBehaviorSanitizer
#      (bazel test --config=asan //...): unit, integration, end-to-end (real server, real
#      clients in C++, Python and Node), load + SIGKILL and fault tests;
#   2. the server's concurrency tests under ThreadSanitizer;
#   3. every libFuzzer target for WARDEN_FUZZ_SECONDS (default 30) seconds.
# Ends with "N passed, N failed" (test targets and fuzz targets). Exit status 0 only if all
# pass. `scripts/test.sh --quick` runs the suite once without sanitizers and fuzzing.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Runs `bazel test` with the given arguments and adds its target results to the counts.
run_stage() {
  local name=$1; shift
  echo "=== $name"
  bazel test --test_summary=short --test_output=errors "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local stage_passed stage_failed
  stage_passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log" || true)
  stage_failed=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD|INCOMPLETE|FLAKY)' "$log" || true)
  if [ "$status" -ne 0 ] && [ "$stage_failed" -eq 0 ]; then
    stage_failed=1  # The build failed before any test ran.
  fi
  echo "=== $name: $stage_passed passed, $stage_failed failed"
  passed=$((passed + stage_passed))
  failed=$((failed + stage_failed))
}

if [ "${1:-}" = "--quick" ]; then
  run_stage "tests" //...
else
  run_stage "tests under ASan + UBSan" --config=asan //...
  run_stage "concurrency tests under TSan" --config=tsan \
      //tests/gateway:generate_call_test //tests/gateway:limits_test //tests/gateway:metrics_test \
      //tests/gateway:metrics_http_test \
      //tests/policies:policy_store_test //tests/model:thread_pool_test
  echo "=== fuzzing"
  bash scripts/fuzz.sh "${WARDEN_FUZZ_SECONDS:-30}" 2>&1 | tee "$log"
  fuzz_status=${PIPESTATUS[0]}
  fuzz_total=$(grep -cE '^fuzz [a-z_]+: ' "$log" || true)
  fuzz_passed=$(grep -cE '^fuzz [a-z_]+: .* 0 crashes$' "$log" || true)
  fuzz_failed=$((fuzz_total - fuzz_passed))
  if [ "$fuzz_status" -ne 0 ] && [ "$fuzz_failed" -eq 0 ]; then fuzz_failed=1; fi
  echo "=== fuzzing: $fuzz_passed passed, $fuzz_failed failed"
  passed=$((passed + fuzz_passed))
  failed=$((failed + fuzz_failed))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
