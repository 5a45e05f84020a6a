#!/usr/bin/env bash
# Contract checks of `oss` (ARCHITECTURE.md, "Tools the checks call") on hostile arguments:
# a clear error and exit 1, never a crash, a hang or a value silently wrapped or ignored.
set -euo pipefail
OSS=model/oss
MODEL=tests/data/gpt-oss-tiny

# refused WANT ARGS...: oss ARGS exits 1 (not a signal) and says WANT on stderr.
refused() {
  local want=$1; shift
  local code=0
  timeout 60 "$OSS" "$@" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || code=$?
  [ "$code" -eq 1 ] || { echo "FAIL: oss $*: exit $code, want 1: $(head -c 300 "$TEST_TMPDIR/err")" >&2; exit 1; }
  grep -qF -- "$want" "$TEST_TMPDIR/err" || { echo "FAIL: oss $*: want '$want', got: $(cat "$TEST_TMPDIR/err")" >&2; exit 1; }
  echo "ok: $*: $(head -c 200 "$TEST_TMPDIR/err")"
}

# Counts beyond int wrapped: 4294967297 tokens became 1, a huge prompt ended in bad_alloc,
# 100000 threads in an uncaught std::system_error.
refused "flag --max_tokens must be in [0, 2147483647]" generate --model_dir "$MODEL" --prompt_tokens "1 2" --max_tokens 4294967297
refused "flag --top_k must be in" generate --model_dir "$MODEL" --prompt_tokens "1 2" --max_tokens 1 --top_k 4294967297
refused "flag --threads must be in [0, 1024]" generate --model_dir "$MODEL" --prompt_tokens "1 2" --max_tokens 1 --threads 100000
refused "flag --threads must be in [0, 1024]" logits --model_dir "$MODEL" --tokens "1 2" --out "$TEST_TMPDIR/l.bin" --threads -1
refused "flag --gen_tokens must be in [1, 2147483647]" bench --model_dir "$MODEL" --prompt_tokens 16 --gen_tokens 4294967297
refused "flag --prompt_tokens must be in [2, 2147483647]" bench --model_dir "$MODEL" --prompt_tokens 100000000000
refused "the model allows 131072" bench --model_dir "$MODEL" --prompt_tokens 2000000000 --gen_tokens 4
refused "flag --max_shard_mb must be in" make-checkpoint --out "$TEST_TMPDIR/ckpt" --preset tiny --max_shard_mb 8796093022208
# Output that cannot be written is an error, not exit 0 with the output lost.
code=0
"$OSS" generate --model_dir "$MODEL" --prompt_tokens "1 2" --max_tokens 2 >/dev/full 2>"$TEST_TMPDIR/err" || code=$?
[ "$code" -eq 1 ] && grep -q "writing standard output failed" "$TEST_TMPDIR/err" ||
  { echo "FAIL: generate >/dev/full: exit $code: $(cat "$TEST_TMPDIR/err")" >&2; exit 1; }
# --prompt and --prompt_tokens: exactly one (with both, --prompt_tokens was dropped).
refused "give exactly one of --prompt TEXT and --prompt_tokens" generate --model_dir "$MODEL" --prompt hi --prompt_tokens "1 2" --max_tokens 1
refused "give exactly one of --prompt TEXT and --prompt_tokens" generate --model_dir "$MODEL" --max_tokens 1

# A batch list with an empty item ran as if it were not there; a repeated size was measured
# twice and reported once.
for batch in "1,,8" "1," ",1" "" "0" "1,1" "1025" "1,x"; do
  refused "flag --batch" bench --model_dir "$MODEL" --prompt_tokens 16 --gen_tokens 2 --batch "$batch"
done
# `oss COMMAND --help` prints that command's usage and exits 0 (it was "flag --help needs
# a value", exit 1).
for command in tokenize logits generate make-checkpoint quantize-experts bench; do
  "$OSS" "$command" --help >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || { echo "FAIL: oss $command --help: $(cat "$TEST_TMPDIR/err")" >&2; exit 1; }
  grep -q "^usage: oss $command " "$TEST_TMPDIR/out" || { echo "FAIL: oss $command --help printed: $(cat "$TEST_TMPDIR/out")" >&2; exit 1; }
done
"$OSS" help 2>/dev/null | grep -q "^  make-checkpoint --out DIR" || { echo "FAIL: oss help printed no usage on stdout" >&2; exit 1; }
"$OSS" logits --model_dir "$MODEL" -h | grep -q -- "--threads N" || { echo "FAIL: logits usage lacks --threads" >&2; exit 1; }
echo PASS
