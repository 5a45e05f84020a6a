#!/usr/bin/env bash
# Starts the real warden binary on loopback and calls it from separate processes: the
# wardenctl binary and a Python client (health, reflection, auth). Then checks that a
# broken configuration makes warden exit non-zero naming file, line and field.
set -euo pipefail
WARDEN=gateway/warden
WARDENCTL=gateway/wardenctl
source tests/e2e/lib.sh

cat >"$TEST_TMPDIR/config.textproto" <<CONFIG
model { model_dir: "$TEST_TMPDIR/model" create_demo_if_missing: true }
audit { path: "$TEST_TMPDIR/audit.db" }
apps {
  id: "demo"
  api_keys { sha256: "$APP_HASH" role: APP }
}
apps {
  id: "admin"
  api_keys { sha256: "$ADMIN_HASH" role: ADMIN }
}
CONFIG

start_warden "$TEST_TMPDIR/config.textproto"
grep -q "SERVING on 127.0.0.1:0 (port $PORT)" "$TEST_TMPDIR/warden.out" || fail "banner lacks the port"
grep -q "RANDOM demo checkpoint" "$TEST_TMPDIR/warden.out" || fail "banner does not say the demo model is random"
grep -q -- "--model_dir" "$TEST_TMPDIR/warden.out" || fail "banner does not say how to use a real model"

/usr/bin/python3 tests/clients/python_client.py tests/clients/python_stubs.tar "$TARGET" \
    health reflection auth

expect_fail UNAUTHENTICATED "$WARDENCTL" --target "$TARGET" --api_key nope moderate hello
expect_fail PERMISSION_DENIED "$WARDENCTL" --target "$TARGET" --api_key warden-demo-key policies list
WARDEN_API_KEY=warden-demo-admin "$WARDENCTL" --target "$TARGET" --json audit query >"$TEST_TMPDIR/audit.json" || fail "audit query failed"
stop_warden
grep -q "stopped" "$TEST_TMPDIR/warden.out" || fail "no clean stop"

# A broken config: unknown field on line 3, then a semantic error on a known line.
printf 'model { model_dir: "m" }\naudit { path: "a" }\napps { id: "x" no_such_field: 1 }\n' >"$TEST_TMPDIR/bad1.textproto"
if "$WARDEN" --config "$TEST_TMPDIR/bad1.textproto" 2>"$TEST_TMPDIR/bad1.err"; then fail "bad config accepted"; fi
grep -q "bad1.textproto:3:.*no_such_field" "$TEST_TMPDIR/bad1.err" || { cat "$TEST_TMPDIR/bad1.err"; fail "no file:line for unknown field"; }

printf 'model { model_dir: "m" }\naudit { path: "a" }\napps {\n  id: "x"\n  api_keys { sha256: "not-a-hash" role: APP }\n}\n' >"$TEST_TMPDIR/bad2.textproto"
if "$WARDEN" --config "$TEST_TMPDIR/bad2.textproto" 2>"$TEST_TMPDIR/bad2.err"; then fail "bad config accepted"; fi
grep -q "bad2.textproto:5:.*apps\[0\].api_keys\[0\].sha256" "$TEST_TMPDIR/bad2.err" || { cat "$TEST_TMPDIR/bad2.err"; fail "no file:line:field for bad hash"; }
echo "PASS"
