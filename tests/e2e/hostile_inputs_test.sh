#!/usr/bin/env bash
# Hostile inputs against the real warden binary (default policies, shipped classifier, the
# tiny random demo checkpoint): malformed, out-of-range, oversize and adversarial requests
# to every RPC, bad keys, unparsable bytes, abandoned long prompts and stream abuse, from
# tests/clients/hostile_client.py. Each must get its documented status code with a message
# naming the field or limit, and the server must keep serving; here we also check that it
# never crashed, logged no stack trace and stops cleanly.
set -euo pipefail
WARDEN=gateway/warden
source tests/e2e/lib.sh
ROOT=$PWD
default_policies_config "max_output_tokens: 8 tokens_per_minute: 1000000 max_concurrent_streams: 2" \
    >"$TEST_TMPDIR/config.textproto"

start_warden "$TEST_TMPDIR/config.textproto"
/usr/bin/python3 tests/clients/hostile_client.py tests/clients/python_stubs.tar "$TARGET" || fail "hostile client"
kill -0 "$WARDEN_PID" 2>/dev/null || fail "warden died"
if grep -v '^{"time"' "$TEST_TMPDIR/warden.err" | grep -Eqi 'terminate called|Aborted|Sanitizer|stack trace|Check failed'; then
  fail "warden logged a crash or a stack trace"
fi
if grep -q "warden-demo-key\|warden-demo-admin" "$TEST_TMPDIR/warden.err"; then fail "warden logged an API key"; fi
stop_warden
grep -q "stopped" "$TEST_TMPDIR/warden.out" || fail "no clean stop"
echo "PASS"
