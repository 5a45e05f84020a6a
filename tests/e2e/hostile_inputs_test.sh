#!/usr/bin/env bash
# Hostile inputs against the real warden binary (default policies, shipped classifier, the
# tiny random demo checkpoint): malformed, out-of-range, oversize and adversarial requests
# to every RPC, bad keys, unparsable bytes, abandoned long prompts and stream abuse, from
# tests/clients/hostile_client.py. Each must get its documented status code with a message
# naming the field or limit, and the server must keep serving; here we also check that it
# never crashed, logged no stack trace and stops cleanly.
# Then, on a scripted checkpoint with a long answer (tests/tools), a client that stops
# reading (tests/clients/stalled_reader.py): the server cancels its stream after
# stream_write_timeout_seconds and serves others; and a second SIGTERM while such a stream
# holds the drain ends the process at once with 143.
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

# A client that stops reading. The scripted model answers ~400 distinct words (~4 KB,
# well over the reader's 1 KB flow-control window); one running sequence, so a stalled
# call that kept its slot would starve the normal request after it.
WORDS=$(/usr/bin/python3 - model/tokenizer/data/o200k_base.tiktoken <<'PY'
import base64, re, sys
ranked = []
for line in open(sys.argv[1]):
    token, rank = line.split()
    text = base64.b64decode(token).decode("utf-8", "replace")
    if re.fullmatch(r" [a-z]{9,14}", text):
        ranked.append((int(rank), text))
print("".join(text for _, text in sorted(ranked)[:400]), end="")
PY
)
tests/tools/scripted_checkpoint --out "$TEST_TMPDIR/long_model" \
  --script "<|channel|>final<|message|>Listing${WORDS}.<|return|>" >/dev/null || fail "scripted checkpoint"
cat >"$TEST_TMPDIR/stall.textproto" <<CONFIG
model { model_dir: "$TEST_TMPDIR/long_model" max_running_sequences: 1 }
audit { path: "$TEST_TMPDIR/stall_audit.db" }
metrics_listen: "127.0.0.1:0"
stream_write_timeout_seconds: 2
apps {
  id: "demo"
  api_keys { sha256: "$APP_HASH" role: APP }
  input_moderation { disabled: true }
  output_moderation { disabled: true }
  limits { max_output_tokens: 2000 }
}
apps {
  id: "admin"
  api_keys { sha256: "$ADMIN_HASH" role: ADMIN }
}
CONFIG
start_warden "$TEST_TMPDIR/stall.textproto"
stalled() { /usr/bin/python3 tests/clients/stalled_reader.py tests/clients/python_stubs.tar "$TARGET" "$@"; }
stalled stall || fail "stalled reader"
metrics_port=$(sed -n "s|.*metrics on http://127.0.0.1:\([0-9]*\)/metrics|\1|p" "$TEST_TMPDIR/warden.out" | head -1)
curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$TEST_TMPDIR/metrics.txt" || fail "metrics"
grep -q '^warden_stream_write_stalls_total{app="demo"} 1$' "$TEST_TMPDIR/metrics.txt" || fail "stall not counted"
grep -q '"event":"stream_write_stall".*"app":"demo"' "$TEST_TMPDIR/warden.err" || fail "stall not logged"
if grep -q "warden-demo-key\|Listing" "$TEST_TMPDIR/warden.err"; then fail "the stall log has a key or content"; fi
stop_warden

# A second SIGTERM during the drain: a stalled stream (no write timeout to speak of now)
# would hold the drain for the whole grace period; the second signal exits at once.
sed -i 's/stream_write_timeout_seconds: 2/stream_write_timeout_seconds: 3600 shutdown_grace_seconds: 3600/' \
  "$TEST_TMPDIR/stall.textproto"
start_warden "$TEST_TMPDIR/stall.textproto"
stalled hold >"$TEST_TMPDIR/hold.out" &
HOLD_PID=$!
for _ in $(seq 1 600); do grep -q holding "$TEST_TMPDIR/hold.out" && break; sleep 0.1; done
grep -q holding "$TEST_TMPDIR/hold.out" || fail "the holding stream did not start"
kill -TERM "$WARDEN_PID"
for _ in $(seq 1 300); do grep -q draining "$TEST_TMPDIR/warden.out" && break; sleep 0.1; done
grep -q draining "$TEST_TMPDIR/warden.out" || fail "no drain after SIGTERM"
sleep 1
kill -0 "$WARDEN_PID" 2>/dev/null || fail "warden did not wait for the stalled stream in its drain"
kill -TERM "$WARDEN_PID"
for _ in $(seq 1 300); do kill -0 "$WARDEN_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$WARDEN_PID" 2>/dev/null; then
  kill -KILL "$WARDEN_PID"
  fail "a second SIGTERM during the drain did not end warden within 30 s"
fi
status=0
wait "$WARDEN_PID" || status=$?
[ "$status" -eq 143 ] || fail "warden exited with $status after a second SIGTERM, expected 143"
grep -q "signal 15 during the drain, exiting" "$TEST_TMPDIR/warden.err" || fail "no message for the second signal"
kill "$HOLD_PID" 2>/dev/null || true
wait "$HOLD_PID" 2>/dev/null || true
echo "PASS"
