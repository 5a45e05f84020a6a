#!/usr/bin/env bash
# wardenctl usage mistakes: exit 2 with a message naming the flag, before any call (no
# server runs here: a call would fail with exit 1 and a transport error instead), never a
# value silently ignored or replaced.
set -euo pipefail
WARDENCTL=gateway/wardenctl
TARGET=127.0.0.1:1  # Nothing listens there.
export WARDEN_API_KEY=warden-demo-key

# usage WANT ARGS...: wardenctl ARGS exits 2 and says WANT on stderr.
usage() {
  local want=$1; shift
  local code=0
  "$WARDENCTL" "$@" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || code=$?
  [ "$code" -eq 2 ] || { echo "FAIL: wardenctl $*: exit $code, want 2: $(cat "$TEST_TMPDIR/err")" >&2; exit 1; }
  grep -qF -- "$want" "$TEST_TMPDIR/err" || { echo "FAIL: wardenctl $*: want '$want', got: $(cat "$TEST_TMPDIR/err")" >&2; exit 1; }
  echo "ok: $*: $(head -c 200 "$TEST_TMPDIR/err")"
}

# A misspelt direction checked the text against the input settings.
usage "--direction must be input or output, not outptu" --target "$TARGET" --direction outptu moderate hi
# A directory read as an empty file: the policy or prompt went out empty.
usage "cannot read $TEST_TMPDIR" --target "$TARGET" --policy_file "$TEST_TMPDIR" moderate hi
usage "cannot read $TEST_TMPDIR" --target "$TARGET" --prompt_file "$TEST_TMPDIR" generate
usage "cannot read $TEST_TMPDIR" --target "$TARGET" policies validate "$TEST_TMPDIR"
# gRPC dials 127.0.0.1:70000 as port 4464.
usage "--target 127.0.0.1:70000: the port must be a number from 1 to 65535" --target 127.0.0.1:70000 moderate hi
# Without a key every call is UNAUTHENTICATED (exit 1, as if the server refused a key).
WARDEN_API_KEY= usage "no API key: pass --api_key KEY or set WARDEN_API_KEY" --target "$TARGET" moderate hi
( unset WARDEN_API_KEY; usage "no API key" --target "$TARGET" audit query )
# Values that were silently replaced by the defaults, or made every call time out at once.
usage "--timeout_ms must be positive, not 0" --target "$TARGET" --timeout_ms 0 moderate hi
usage "--max_tokens must not be negative" --target "$TARGET" --max_tokens -3 generate --prompt hi
usage "--temperature must not be negative" --target "$TARGET" --temperature -0.5 generate --prompt hi
# --json moderate skips blank lines, whitespace-only ones too (no call, so no server needed).
printf '\n   \n\r\n\t\n' | "$WARDENCTL" --target "$TARGET" --json moderate >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" ||
  { echo "FAIL: blank JSON lines: $(cat "$TEST_TMPDIR/err")" >&2; exit 1; }
[ ! -s "$TEST_TMPDIR/out" ] || { echo "FAIL: blank JSON lines printed: $(cat "$TEST_TMPDIR/out")" >&2; exit 1; }
echo PASS
