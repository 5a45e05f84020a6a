#!/usr/bin/env bash
# Fuzzes the hostile-input surfaces (tests/fuzz/) with libFuzzer + ASan + UBSan.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
#
# Builds //tests/fuzz:all_fuzzers with Debian's clang-14 in a separate Bazel output base
# (the gcc build cache of `bazel test //...` is left alone), runs each fuzzer on a copy of
# its seed corpus in a temporary directory (never writing into the repository) and prints
#   fuzz <name>: <executions> execs in <s> s, <n> crashes
# per target. Exits non-zero when a target crashed (the crasher's path is printed; copy it
# to tests/fuzz/regressions/<name>/ so the regression test replays it) or did not build.
# Needs: clang-14, libclang-rt-14-dev (libFuzzer and the sanitizer runtimes).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(tokenizer harmony tools_schema safetensors model_config classifier_model policy_loader normalizer stream_scanner)
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
fi
for tool in clang-14 clang++-14; do
  command -v "$tool" >/dev/null || { echo "fuzz: $tool missing (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }
done

# One output base per checkout (as Bazel's default is), apart from the gcc one.
checkout_hash=$(pwd | md5sum | cut -c1-12)
output_base="${WARDEN_FUZZ_OUTPUT_BASE:-$HOME/.cache/warden-fuzz/$checkout_hash}"
# The fuzz build's Bazel server quits when idle instead of holding memory for hours.
bazel=(bazel --output_base="$output_base" --max_idle_secs=300)
sanitizers=address,undefined
bazel_flags=(
  --repo_env=CC=clang-14
  --repo_env=CXX=clang++-14
  --copt=-fsanitize=fuzzer-no-link,$sanitizers
  --copt=-fno-sanitize-recover=undefined
  --copt=-fno-omit-frame-pointer
  --copt=-g1
  --linkopt=-fsanitize=fuzzer,$sanitizers
  --linkopt=-fsanitize-link-c++-runtime
  --jobs=2
)
fuzz_targets=()
for t in "${targets[@]}"; do fuzz_targets+=("//tests/fuzz:${t}_fuzzer"); done

echo "fuzz: building ${#fuzz_targets[@]} fuzzers (clang-14, output base $output_base)"
build_start=$(date +%s)
if ! "${bazel[@]}" build "${bazel_flags[@]}" "${fuzz_targets[@]}" \
    >"${TMPDIR:-/tmp}/warden-fuzz-build.log" 2>&1; then
  tail -40 "${TMPDIR:-/tmp}/warden-fuzz-build.log"
  echo "fuzz: build failed (log: ${TMPDIR:-/tmp}/warden-fuzz-build.log)" >&2
  exit 1
fi
echo "fuzz: built in $(( $(date +%s) - build_start )) s"
bin_dir=$("${bazel[@]}" info "${bazel_flags[@]}" bazel-bin 2>/dev/null)

work=$(mktemp -d "${TMPDIR:-/tmp}/warden-fuzz.XXXXXX")
failed=0
for t in "${targets[@]}"; do
  binary="$bin_dir/tests/fuzz/${t}_fuzzer"
  corpus="$work/$t/corpus"
  artifacts="$work/$t/artifacts"
  log="$work/$t/fuzz.log"
  mkdir -p "$corpus" "$artifacts"
  cp -r "tests/fuzz/corpus/$t/." "$corpus/"
  if [ -d "tests/fuzz/regressions/$t" ]; then cp -r "tests/fuzz/regressions/$t/." "$corpus/"; fi
  dict=()
  if [ -f "tests/fuzz/$t.dict" ]; then dict=(-dict="tests/fuzz/$t.dict"); fi
  start=$(date +%s)
  # Runfiles (vocabulary, default policies) are found next to the binary.
  ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "${dict[@]}" "$corpus" >"$log" 2>&1
  status=$?
  elapsed=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  crashes=$(find "$artifacts" -type f | wc -l)
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
  echo "fuzz $t: ${execs:-0} execs in $elapsed s, $crashes crashes"
  if [ "$crashes" -ne 0 ]; then
    failed=1
    grep -E "ERROR: |FUZZ_CHECK|SUMMARY|runtime error" "$log" | head -5 | sed 's/^/  /'
    find "$artifacts" -type f | sed 's/^/  crasher: /'
    echo "  log: $log"
  fi
done
if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "fuzz: outputs kept in $work"; fi
exit "$failed"
