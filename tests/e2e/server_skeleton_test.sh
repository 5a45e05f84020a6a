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
metrics_listen: "127.0.0.1:0"
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
grep -q "SERVING on 127.0.0.1:$PORT (port $PORT)" "$TEST_TMPDIR/warden.out" || fail "banner lacks the bound port"
METRICS_PORT=$(sed -n 's|.*metrics on http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$TEST_TMPDIR/warden.out")
[ -n "$METRICS_PORT" ] || fail "banner lacks the metrics port"

# A second server on a port in use must not start (gRPC's and cpp-httplib's SO_REUSEPORT
# would let it, and the kernel would share connections between the two).
sed "s|audit.db|audit2.db|" "$TEST_TMPDIR/config.textproto" >"$TEST_TMPDIR/second.textproto"
if "$WARDEN" --config "$TEST_TMPDIR/second.textproto" --listen "127.0.0.1:$PORT" \
    >"$TEST_TMPDIR/second.out" 2>"$TEST_TMPDIR/second.err"; then
  fail "a second server started on port $PORT"
fi
grep -c "cannot listen on 127.0.0.1:$PORT" "$TEST_TMPDIR/second.err" >/dev/null || { cat "$TEST_TMPDIR/second.err"; fail "no 'cannot listen' for a port in use"; }
sed "s|metrics_listen: \"127.0.0.1:0\"|metrics_listen: \"127.0.0.1:$METRICS_PORT\"|" "$TEST_TMPDIR/second.textproto" >"$TEST_TMPDIR/third.textproto"
if "$WARDEN" --config "$TEST_TMPDIR/third.textproto" --listen 127.0.0.1:0 \
    >"$TEST_TMPDIR/third.out" 2>"$TEST_TMPDIR/third.err"; then
  fail "a second server started with metrics port $METRICS_PORT"
fi
grep -c "cannot listen on 127.0.0.1:$METRICS_PORT for metrics" "$TEST_TMPDIR/third.err" >/dev/null || { cat "$TEST_TMPDIR/third.err"; fail "no 'cannot listen' for a metrics port in use"; }
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
