#!/usr/bin/env bash
# Faults against the real warden binary:
#  1. a corrupt checkpoint at start: exit non-zero with a clear message, never serve;
#  2. an invalid policy reload during traffic: refused with reasons, old policies stay,
#     traffic continues (admin RPC and SIGHUP);
#  3. the audit disk fills up (a file-size limit on the server): requests fail closed with
#     UNAVAILABLE, the server stays up, and every acknowledged request is in the file.
set -euo pipefail
WARDEN=gateway/warden
WARDENCTL=gateway/wardenctl
source tests/e2e/lib.sh
ROOT=$PWD
write_config() {  # model_dir audit_path policy_file
  cat >"$TEST_TMPDIR/config.textproto" <<CONFIG
model { model_dir: "$1" create_demo_if_missing: true }
audit { path: "$2" }
policy_files: "$3"
apps { id: "demo" api_keys { sha256: "$APP_HASH" role: APP } input_policy_sets: "default-pii" }
apps { id: "admin" api_keys { sha256: "$ADMIN_HASH" role: ADMIN } }
CONFIG
}
cp "$ROOT/policies/default/pii.textproto" "$TEST_TMPDIR/pii.textproto"

# 1. Corrupt checkpoint: a demo checkpoint, then its weights truncated.
write_config "$TEST_TMPDIR/model" "$TEST_TMPDIR/audit1.db" "$TEST_TMPDIR/pii.textproto"
start_warden "$TEST_TMPDIR/config.textproto"
stop_warden
truncate -s 100000 "$TEST_TMPDIR/model/model.safetensors"
if "$WARDEN" --config "$TEST_TMPDIR/config.textproto" --listen 127.0.0.1:0 2>"$TEST_TMPDIR/corrupt.err"; then
  fail "warden served a truncated checkpoint"
fi
grep -q "model.safetensors" "$TEST_TMPDIR/corrupt.err" || fail "no file named: $(cat "$TEST_TMPDIR/corrupt.err")"
echo "corrupt checkpoint: $(head -c 300 "$TEST_TMPDIR/corrupt.err")"

# 1b. Policy mistakes are reported before the model loads (minutes on a real checkpoint),
#     every one of them: two unknown set ids, and a model directory that does not exist.
cat >"$TEST_TMPDIR/bad_sets.textproto" <<CONFIG
model { model_dir: "$TEST_TMPDIR/no_model_here" }
audit { path: "$TEST_TMPDIR/audit_bad.db" }
policy_files: "$TEST_TMPDIR/pii.textproto"
apps { id: "a" api_keys { sha256: "$APP_HASH" role: APP } input_policy_sets: ["no-such-set", "other-missing-set"] }
apps { id: "b" output_policy_sets: "third-missing-set" }
CONFIG
if "$WARDEN" --config "$TEST_TMPDIR/bad_sets.textproto" --listen 127.0.0.1:0 2>"$TEST_TMPDIR/bad_sets.err"; then
  fail "warden served with unknown policy sets"
fi
grep -q "no-such-set" "$TEST_TMPDIR/bad_sets.err" || fail "first unknown set not named: $(cat "$TEST_TMPDIR/bad_sets.err")"
grep -q "other-missing-set" "$TEST_TMPDIR/bad_sets.err" || fail "second unknown set not named: $(cat "$TEST_TMPDIR/bad_sets.err")"
grep -q "third-missing-set" "$TEST_TMPDIR/bad_sets.err" || fail "third unknown set not named: $(cat "$TEST_TMPDIR/bad_sets.err")"
grep -q "apps\[0\].input_policy_sets\[1\] (app 'a').*other-missing-set" "$TEST_TMPDIR/bad_sets.err" ||
  fail "unknown set's field not named: $(cat "$TEST_TMPDIR/bad_sets.err")"
grep -q "apps\[1\].output_policy_sets\[0\] (app 'b').*third-missing-set" "$TEST_TMPDIR/bad_sets.err" ||
  fail "unknown output set's field not named: $(cat "$TEST_TMPDIR/bad_sets.err")"
if grep -q "no_model_here" "$TEST_TMPDIR/bad_sets.err"; then fail "the model was loaded before the policies were checked"; fi
echo "unknown policy sets: $(head -c 300 "$TEST_TMPDIR/bad_sets.err")"

# 2. Invalid reload during traffic.
write_config "$TEST_TMPDIR/model2" "$TEST_TMPDIR/audit2.db" "$TEST_TMPDIR/pii.textproto"
start_warden "$TEST_TMPDIR/config.textproto"
ctl() { "$WARDENCTL" --target "$TARGET" "$@"; }
version=$(WARDEN_API_KEY=warden-demo-admin ctl --json policies list | sed -n 's/.*"policyVersion":"\([0-9a-f]*\)".*/\1/p')
( for _ in $(seq 1 40); do WARDEN_API_KEY=warden-demo-key ctl moderate "mail x@example.com" >/dev/null || exit 1; done ) &
traffic=$!
printf 'id: "default-pii"\nrules { id: "broken" regex { pattern: "(unclosed" } }\n' >"$TEST_TMPDIR/pii.textproto"
if WARDEN_API_KEY=warden-demo-admin ctl --json policies reload >"$TEST_TMPDIR/reload.json"; then fail "bad reload accepted"; fi
grep -q '"reloaded"' "$TEST_TMPDIR/reload.json" && fail "reload claims success"
grep -q "missing )" "$TEST_TMPDIR/reload.json" || fail "RE2's reason missing: $(cat "$TEST_TMPDIR/reload.json")"
if WARDEN_API_KEY=warden-demo-admin ctl --json policies validate "$TEST_TMPDIR/pii.textproto" >"$TEST_TMPDIR/validate.json"; then
  fail "validate accepted a broken file"
fi
grep -q '"line":2' "$TEST_TMPDIR/validate.json" || fail "validate lacks the line: $(cat "$TEST_TMPDIR/validate.json")"
kill -HUP "$WARDEN_PID"
sleep 0.5
grep -q "policy reload refused" "$TEST_TMPDIR/warden.err" || fail "SIGHUP reload not refused"
wait "$traffic" || fail "traffic failed during the bad reload"
now=$(WARDEN_API_KEY=warden-demo-admin ctl --json policies list | sed -n 's/.*"policyVersion":"\([0-9a-f]*\)".*/\1/p')
[ "$now" = "$version" ] || fail "policy version changed from $version to $now"
WARDEN_API_KEY=warden-demo-key ctl --json moderate "mail x@example.com" | grep -c EMAIL >/dev/null || fail "old policies not in force"
stop_warden

# 3. Disk full for the audit file: limit the server's file size.
write_config "$TEST_TMPDIR/model2" "$TEST_TMPDIR/audit3.db" "$ROOT/policies/default/pii.textproto"
: >"$TEST_TMPDIR/acked.txt"
(
  ulimit -f 200  # 200 blocks of 512 bytes: ~100 KB for the database and its WAL.
  start_warden "$TEST_TMPDIR/config.textproto"
  echo "$WARDEN_PID" >"$TEST_TMPDIR/pid3"
  echo "$PORT" >"$TEST_TMPDIR/port3"
  wait "$WARDEN_PID"
) &
for _ in $(seq 1 600); do [ -s "$TEST_TMPDIR/port3" ] && break; sleep 0.1; done
TARGET="127.0.0.1:$(cat "$TEST_TMPDIR/port3")"
unavailable=0
for i in $(seq 1 400); do
  if WARDEN_API_KEY=warden-demo-key ctl --json moderate "record number $i $(head -c 600 /dev/zero | tr '\0' x)" \
      >"$TEST_TMPDIR/m.json" 2>"$TEST_TMPDIR/m.err"; then
    sed -n 's/.*"requestId":"\([0-9a-f]*\)".*/\1/p' "$TEST_TMPDIR/m.json" >>"$TEST_TMPDIR/acked.txt"
  else
    grep -q UNAVAILABLE "$TEST_TMPDIR/m.err" || fail "expected UNAVAILABLE, got $(cat "$TEST_TMPDIR/m.err")"
    unavailable=$((unavailable + 1))
    [ "$unavailable" -ge 3 ] && break
  fi
done
[ "$unavailable" -ge 3 ] || fail "the audit file never filled up"
kill -0 "$(cat "$TEST_TMPDIR/pid3")" || fail "warden died when the disk filled"
acked=$(wc -l <"$TEST_TMPDIR/acked.txt")
kill -TERM "$(cat "$TEST_TMPDIR/pid3")"; wait || true
# Restart without the limit: every acknowledged request is there.
start_warden "$TEST_TMPDIR/config.textproto"
missing=0
while read -r id; do
  WARDEN_API_KEY=warden-demo-admin ctl audit show "$id" >/dev/null 2>&1 || missing=$((missing + 1))
done <"$TEST_TMPDIR/acked.txt"
stop_warden
echo "disk full: $acked acknowledged, $unavailable refused (UNAVAILABLE), $missing missing"
[ "$missing" -eq 0 ] || fail "$missing acknowledged requests lost"
echo PASS
