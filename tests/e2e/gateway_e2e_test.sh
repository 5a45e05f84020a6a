#!/usr/bin/env bash
# End-to-end: the real warden binary (default policies, shipped classifier, a real gpt-oss
# engine on a tiny random checkpoint, SQLite audit) on a loopback port, called by three
# real clients: wardenctl (C++), Python (python3-grpcio) and Node (@grpc/grpc-js).
set -euo pipefail
WARDEN=gateway/warden
WARDENCTL=gateway/wardenctl
source tests/e2e/lib.sh
ROOT=$PWD
LIMITED_HASH=$(printf %s limited-key | sha256sum | cut -d' ' -f1)
WINDOWS_HASH=$(printf %s windows-key | sha256sum | cut -d' ' -f1)

{
  default_policies_config "max_output_tokens: 16"
  cat <<CONFIG
metrics_listen: "127.0.0.1:0"
apps {
  id: "limited"
  api_keys { sha256: "$LIMITED_HASH" role: APP }
  limits { requests_per_minute: 2 max_output_tokens: 4 }
}
apps {
  id: "windows"
  api_keys { sha256: "$WINDOWS_HASH" role: APP }
  input_moderation { categories { category: VIOLENCE threshold: 0.45 action: BLOCK } }
  output_moderation {
    long_text_window_words: 64
    categories { category: VIOLENCE threshold: 0.45 action: BLOCK }
  }
}
CONFIG
} >"$TEST_TMPDIR/config.textproto"

start_warden "$TEST_TMPDIR/config.textproto"
ctl() { "$WARDENCTL" --target "$TARGET" "$@"; }
export WARDEN_API_KEY=warden-demo-key

# --- wardenctl (C++) ---------------------------------------------------------------
ctl generate --prompt "Say hello." --max_tokens 8 >"$TEST_TMPDIR/gen.out" || fail "generate failed"
grep -q -- "-- .* request_id=" "$TEST_TMPDIR/gen.out" || fail "no summary line: $(cat "$TEST_TMPDIR/gen.out")"

# Input blocked by the block list: the model is never called, the audit record says so.
ctl --json --stream=false generate --prompt "tell me about Project  N1ghtingale" >"$TEST_TMPDIR/blocked.json"
grep -q '"finishReason":"BLOCKED"' "$TEST_TMPDIR/blocked.json" || fail "block list did not block: $(cat "$TEST_TMPDIR/blocked.json")"
blocked_id=$(sed -n 's/.*"requestId":"\([0-9a-f]*\)".*/\1/p' "$TEST_TMPDIR/blocked.json")
WARDEN_API_KEY=warden-demo-admin ctl --json audit show "$blocked_id" >"$TEST_TMPDIR/blocked_record.json"
grep -q '"action":"BLOCK"' "$TEST_TMPDIR/blocked_record.json" || fail "audit record lacks BLOCK"
if grep -q '"completionTokens"' "$TEST_TMPDIR/blocked_record.json"; then fail "blocked input reached the model"; fi

# Input redacted: the model sees (and the audit keeps) the placeholder, never the address.
ctl --json --stream=false generate --prompt "write to alice.smith@example.org please" >"$TEST_TMPDIR/redacted.json"
grep -q '"action":"REDACT"' "$TEST_TMPDIR/redacted.json" || fail "email not redacted: $(cat "$TEST_TMPDIR/redacted.json")"
redacted_id=$(sed -n 's/.*"requestId":"\([0-9a-f]*\)".*/\1/p' "$TEST_TMPDIR/redacted.json")
WARDEN_API_KEY=warden-demo-admin ctl --json audit show "$redacted_id" >"$TEST_TMPDIR/redacted_record.json"
grep -q '\[EMAIL\]' "$TEST_TMPDIR/redacted_record.json" || fail "audit input lacks the placeholder"
if grep -q "alice.smith" "$TEST_TMPDIR/redacted_record.json"; then fail "PII reached the audit file"; fi

# Moderate with JSON lines.
printf '%s\n' '{"text": "my card is 4111 1111 1111 1111"}' '{"txt": "typo"}' '{"text": "lovely day"}' |
  ctl --json moderate >"$TEST_TMPDIR/moderate.jsonl" 2>/dev/null && fail "a bad JSON line must give exit 2"
[ "$(wc -l <"$TEST_TMPDIR/moderate.jsonl")" -eq 3 ] || fail "moderate --json must answer one line per input"
sed -n 2p "$TEST_TMPDIR/moderate.jsonl" | grep -q '^{"error":{"code":"INVALID_ARGUMENT","message":"line 2: ' ||
  fail "a bad line must get an error line: $(sed -n 2p "$TEST_TMPDIR/moderate.jsonl")"
sed -n 3p "$TEST_TMPDIR/moderate.jsonl" | grep -q '"results"' || fail "the line after a bad one lost its answer"
grep -q "CREDIT_CARD" "$TEST_TMPDIR/moderate.jsonl" || fail "card not found"
if grep -q "4111 1111 1111 1111" "$TEST_TMPDIR/moderate.jsonl"; then fail "card not redacted"; fi
grep '"rpc":"Moderate"' "$TEST_TMPDIR/warden.err" | grep -c '"input_action":"REDACT"' >/dev/null ||
  fail "the request log does not show the Moderate call's action: $(grep '"rpc":"Moderate"' "$TEST_TMPDIR/warden.err" | head -2)"

# Auth failures and admin RPCs with an app key.
expect_fail UNAUTHENTICATED "$WARDENCTL" --target "$TARGET" --api_key wrong moderate hi
expect_fail PERMISSION_DENIED ctl policies list
WARDEN_API_KEY=warden-demo-admin ctl --json policies list | grep -c default-pii >/dev/null || fail "policies list"
WARDEN_API_KEY=warden-demo-admin ctl policies reload >/dev/null || fail "policies reload"

# Limits: the limited app gets 2 requests a minute.
WARDEN_API_KEY=limited-key ctl moderate one >/dev/null
WARDEN_API_KEY=limited-key ctl moderate two >/dev/null
WARDEN_API_KEY=limited-key expect_fail "RESOURCE_EXHAUSTED: limit requests_per_minute" ctl moderate three

# Long texts: a threat inside neutral prose is diluted when scored whole (the app's input
# settings) and found by the output settings' windows (long_text_window_words).
calm="The weather was calm and the lake was quiet all day long. We walked home along the shore."
long_text="$calm $calm $calm $calm I am going to find you and kill you. $calm $calm $calm $calm"
WARDEN_API_KEY=windows-key ctl moderate "I am going to find you and kill you." | grep -q "action: BLOCK" ||
  fail "the threat alone was not blocked (the test below proves nothing)"
WARDEN_API_KEY=windows-key ctl moderate "$long_text" >"$TEST_TMPDIR/long_whole.out"
grep -q "action: ALLOW" "$TEST_TMPDIR/long_whole.out" || fail "the whole long text was not diluted: $(cat "$TEST_TMPDIR/long_whole.out")"
WARDEN_API_KEY=windows-key ctl --direction output moderate "$long_text" >"$TEST_TMPDIR/long_windows.out"
grep -q "action: BLOCK" "$TEST_TMPDIR/long_windows.out" || fail "windows missed the threat: $(cat "$TEST_TMPDIR/long_windows.out")"

# --- Python and Node clients ---------------------------------------------------------
/usr/bin/python3 tests/clients/python_client.py tests/clients/python_stubs.tar "$TARGET" \
    health reflection auth moderate generate invalid_utf8
NODE_PATH=$(bash tests/clients/node_modules.sh) node tests/clients/node_client.js "$ROOT" "$TARGET" \
    auth moderate stream

# --- The README's app examples (Python, Node): redaction seen, a stream with its summary ---
/usr/bin/python3 tests/clients/example_app.py tests/clients/python_stubs.tar "$TARGET" >"$TEST_TMPDIR/example_py.out" ||
  fail "example_app.py: $(cat "$TEST_TMPDIR/example_py.out")"
NODE_PATH=$(bash tests/clients/node_modules.sh) node tests/clients/example_app.js "$ROOT" "$TARGET" \
  >"$TEST_TMPDIR/example_js.out" || fail "example_app.js: $(cat "$TEST_TMPDIR/example_js.out")"
for out in example_py example_js; do
  grep -q "^moderate: REDACT \"mail \[EMAIL\]\"\|^moderate: REDACT 'mail \[EMAIL\]'" "$TEST_TMPDIR/$out.out" ||
    fail "$out: no redacted e-mail: $(cat "$TEST_TMPDIR/$out.out")"
  grep -q "^moderate: ALLOW" "$TEST_TMPDIR/$out.out" || fail "$out: the benign text was not allowed"
  # The demo model's unseeded gibberish decides how the stream ends; any ending has a summary.
  grep -q "^generate: [A-Z_]* output=[A-Z_]* request_id=[0-9a-f]\{32\}" "$TEST_TMPDIR/$out.out" ||
    fail "$out: no stream summary: $(cat "$TEST_TMPDIR/$out.out")"
done

# --- Audit trail: every call above that got an answer is recorded and queryable --------
WARDEN_API_KEY=warden-demo-admin ctl --json --limit 1000 audit query --app demo >"$TEST_TMPDIR/audit.json"
records=$(grep -o '"requestId"' "$TEST_TMPDIR/audit.json" | wc -l)
[ "$records" -ge 8 ] || fail "expected at least 8 audit records for app demo, found $records"
# By category and time: the redacted e-mail (pii) and the block-list hit are told apart.
admin_ctl() { WARDEN_API_KEY=warden-demo-admin ctl "$@"; }
admin_ctl --json --limit 1000 --category pii --since 1h audit query --app demo >"$TEST_TMPDIR/audit_pii.json"
grep -q "$redacted_id" "$TEST_TMPDIR/audit_pii.json" || fail "--category pii --since 1h misses the redacted request"
if grep -q "$blocked_id" "$TEST_TMPDIR/audit_pii.json"; then fail "--category pii returned the block-list hit"; fi
admin_ctl --json --limit 1000 --category blocklist audit query >"$TEST_TMPDIR/audit_blocklist.json"
grep -q "$blocked_id" "$TEST_TMPDIR/audit_blocklist.json" || fail "--category blocklist misses the block-list hit"
admin_ctl --json --from 2100-01-01T00:00:00Z audit query >"$TEST_TMPDIR/audit_future.json"
if grep -q '"requestId"' "$TEST_TMPDIR/audit_future.json"; then fail "--from in the future returned records"; fi
expect_fail "unknown category" admin_ctl --category no-such-category audit query
# In write order from the start: every record above, and where the trail ends now.
admin_ctl --json --limit 1000 --after_sequence 0 audit query --app demo >"$TEST_TMPDIR/audit_seq.json"
[ "$(grep -o '"requestId"' "$TEST_TMPDIR/audit_seq.json" | wc -l)" -eq "$records" ] ||
  fail "--after_sequence 0 does not return the $records records of app demo"
grep -q "$blocked_id" "$TEST_TMPDIR/audit_seq.json" || fail "--after_sequence 0 misses the block-list hit"
latest=$(admin_ctl --json --limit 1 audit query | sed -n 's/.*"nextAfterSequence":"\([0-9]*\)".*/\1/p')
[ -n "$latest" ] && [ "$latest" -ge "$records" ] || fail "no nextAfterSequence in a newest-first page: '$latest'"
# audit follow prints what is written after it starts (and nothing before), until stopped.
admin_ctl --json --poll 100ms audit follow >"$TEST_TMPDIR/follow.json" 2>"$TEST_TMPDIR/follow.err" &
follower=$!
sleep 1
printf '%s\n' '{"text": "mail follow.me@example.com"}' | ctl --json moderate >"$TEST_TMPDIR/follow_moderate.json" ||
  fail "moderate for follow"
follow_id=$(sed -n 's/.*"requestId":"\([0-9a-f]*\)".*/\1/p' "$TEST_TMPDIR/follow_moderate.json" | head -1)
for _ in $(seq 1 50); do grep -q "$follow_id" "$TEST_TMPDIR/follow.json" 2>/dev/null && break; sleep 0.1; done
kill "$follower"; wait "$follower" 2>/dev/null || true
[ -n "$follow_id" ] && grep -q "$follow_id" "$TEST_TMPDIR/follow.json" ||
  fail "audit follow did not print the new record $follow_id: $(cat "$TEST_TMPDIR/follow.json" "$TEST_TMPDIR/follow.err")"
[ "$(grep -c '"requestId"' "$TEST_TMPDIR/follow.json")" -eq 1 ] || fail "audit follow printed older records too"
# Who read the audit trail is logged: the key's label, the filters and how many records.
grep '"rpc":"QueryAudit"' "$TEST_TMPDIR/warden.err" | grep '"key":"e2e-admin"' | grep -c 'category=PII .*records=' >/dev/null ||
  fail "no log line for the admin's audit query: $(grep QueryAudit "$TEST_TMPDIR/warden.err" | head -3)"
if grep -q "warden-demo-admin" "$TEST_TMPDIR/warden.err"; then fail "an API key was logged"; fi
expect_fail "not both" admin_ctl --since 1h --from 2020-01-01T00:00:00Z audit query
# An app id neither configured nor in any record is refused, naming the field ("Demo" is
# not "demo": an empty page would read as "no incidents").
expect_fail 'INVALID_ARGUMENT: app_id "Demo"' admin_ctl audit query --app Demo
# A --limit the server would not honour is a usage error (exit 2), not silently changed.
for bad_limit in 0 -1 1001; do
  code=0
  admin_ctl --limit "$bad_limit" audit query >"$TEST_TMPDIR/cmd.out" 2>"$TEST_TMPDIR/cmd.err" || code=$?
  [ "$code" -eq 2 ] || fail "--limit $bad_limit: exit $code, want 2: $(cat "$TEST_TMPDIR/cmd.err")"
  grep -q -- "--limit must be between 1 and 1000" "$TEST_TMPDIR/cmd.err" || fail "--limit $bad_limit: $(cat "$TEST_TMPDIR/cmd.err")"
done
# --tls_server_name alone means TLS too: against this plaintext server the call fails
# instead of sending the key in clear.
expect_fail UNAVAILABLE ctl --tls_server_name localhost --timeout_ms 20000 moderate hi

# --- Metrics -----------------------------------------------------------------------------
metrics_port=$(sed -n "s|.*metrics on http://127.0.0.1:\([0-9]*\)/metrics|\1|p" "$TEST_TMPDIR/warden.out" | head -1)
if [ -n "$metrics_port" ]; then
  curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$TEST_TMPDIR/metrics.txt" || fail "metrics"
  grep -q warden_requests_total "$TEST_TMPDIR/metrics.txt" || fail "metrics"
  grep -qE '^warden_process_resident_bytes [1-9]' "$TEST_TMPDIR/metrics.txt" || fail "metrics: process memory"
  grep -qE '^warden_queue_depth 0$' "$TEST_TMPDIR/metrics.txt" || fail "metrics: no queue depth on an idle server"
  # A body is refused, not buffered (only GET and HEAD are served), an oversize request
  # head too; silent connections do not hold the endpoint: a scrape answers at once while
  # ten of them are open (each is dropped at its 2 s deadline).
  code=$(head -c 2000000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
      -X POST --data-binary @- "http://127.0.0.1:$metrics_port/metrics")
  [ "$code" = "405" ] || fail "metrics: a 2 MB POST got HTTP $code, expected 405"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" \
      "http://127.0.0.1:$metrics_port/metrics")
  [ "$code" = "431" ] || fail "metrics: a 20 KB request head got HTTP $code, expected 431"
  for fd in 3 4 5 6 7 8 9 10 11 12; do eval "exec $fd<>/dev/tcp/127.0.0.1/$metrics_port"; done
  curl -sf --max-time 5 "http://127.0.0.1:$metrics_port/metrics" >/dev/null || fail "metrics: silent connections blocked a scrape"
  for fd in 3 4 5 6 7 8 9 10 11 12; do eval "exec $fd>&-"; done
fi

stop_warden
echo PASS
