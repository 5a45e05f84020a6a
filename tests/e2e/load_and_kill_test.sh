#!/usr/bin/env bash
# Load, then SIGKILL under load, against the real warden binary:
#  1. N concurrent clients (streams, cancels, tight deadlines, Moderate, oversize) for a
#     bounded time: no crash, bounded memory, Moderate p99 under a bound, and every
#     request whose client received a final message has exactly one audit record, a
#     final one (not a stream's IN_PROGRESS).
#  2. The same load, SIGKILL in the middle, restart on the same audit file: it opens
#     cleanly and still holds a record for every acknowledged request.
set -euo pipefail
WARDEN=gateway/warden
source tests/e2e/lib.sh
ROOT=$PWD
CLIENTS=${LOAD_CLIENTS:-8}
SECONDS_PER_PHASE=${LOAD_SECONDS:-8}
MODERATE_P99_BOUND_MS=${MODERATE_P99_BOUND_MS:-1500}   # Generous: CI shares 2 cores with the build.
RSS_BOUND_MB=${RSS_BOUND_MB:-1500}

cat >"$TEST_TMPDIR/config.textproto" <<CONFIG
model { model_dir: "$TEST_TMPDIR/model" create_demo_if_missing: true }
audit { path: "$TEST_TMPDIR/audit.db" }
policy_files: ["$ROOT/policies/default/pii.textproto", "$ROOT/policies/default/blocklist.textproto"]
max_queued_requests: 64
apps {
  id: "demo"
  api_keys { sha256: "$APP_HASH" role: APP }
  input_policy_sets: ["default-pii", "default-blocklist"]
  output_policy_sets: ["default-pii", "default-blocklist"]
  limits { max_output_tokens: 16 max_concurrent_streams: 64 }
}
apps {
  id: "admin"
  api_keys { sha256: "$ADMIN_HASH" role: ADMIN }
}
CONFIG
load() {
  /usr/bin/python3 tests/clients/load_client.py tests/clients/python_stubs.tar "$TARGET" \
      --clients "$CLIENTS" --seconds "$SECONDS_PER_PHASE" --acked "$TEST_TMPDIR/acked.txt" "$@"
}
rss_mb() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$WARDEN_PID/status"; }

# Phase 1: load.
start_warden "$TEST_TMPDIR/config.textproto"
load --seed 1 | tee "$TEST_TMPDIR/phase1.json"
kill -0 "$WARDEN_PID" || fail "warden died under load"
rss=$(rss_mb)
echo "server RSS after load: ${rss} MB"
[ "$rss" -lt "$RSS_BOUND_MB" ] || fail "resident memory ${rss} MB over ${RSS_BOUND_MB} MB"
p99=$(sed -n 's/.*"moderate_p99_ms": \([0-9.]*\).*/\1/p' "$TEST_TMPDIR/phase1.json")
awk -v p="$p99" -v b="$MODERATE_P99_BOUND_MS" 'BEGIN { exit !(p < b) }' || fail "Moderate p99 ${p99} ms over ${MODERATE_P99_BOUND_MS} ms"
load --verify || fail "acknowledged requests without exactly one final audit record"

# Phase 2: SIGKILL under load, restart.
load --seed 2 >"$TEST_TMPDIR/phase2.json" 2>&1 &
LOAD_PID=$!
sleep $((SECONDS_PER_PHASE / 2))
kill -KILL "$WARDEN_PID"
wait "$WARDEN_PID" 2>/dev/null || true
wait "$LOAD_PID" || true  # Clients see UNAVAILABLE after the kill; that is expected.
cat "$TEST_TMPDIR/phase2.json"
start_warden "$TEST_TMPDIR/config.textproto"
load --verify | tee "$TEST_TMPDIR/verify.json"
stop_warden
echo PASS
