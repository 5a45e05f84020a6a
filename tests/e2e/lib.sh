# Helpers for end-to-end tests that start the real warden binary on a loopback port.
# Source after setting WARDEN, CONFIG and TEST_TMPDIR.

# SHA-256 of the demo keys (warden-demo-key, warden-demo-admin), as configs store them.
APP_HASH=e8868135c5eb574ea37ee82b81bb0dcbde9ac25838f869a7f13b93054c59f3d4
ADMIN_HASH=167091912e7c82a2ddf6ba5ebf764ed299ace364741f07c9c63602ecf4fd24f6

# default_policies_config DEMO_LIMITS: a config serving the demo model with the four default
# policy files, app "demo" (every default set on input, all but injection on output, the
# classifiers blocking, `limits { DEMO_LIMITS }`) and app "admin" (same sets). Needs ROOT.
default_policies_config() {
  local all_sets='["default-pii", "default-secrets", "default-injection", "default-blocklist"]'
  local out_sets='["default-pii", "default-secrets", "default-blocklist"]'
  cat <<CONFIG
model { model_dir: "$TEST_TMPDIR/model" create_demo_if_missing: true }
audit { path: "$TEST_TMPDIR/audit/audit.db" }
policy_files: ["$ROOT/policies/default/pii.textproto", "$ROOT/policies/default/secrets.textproto",
               "$ROOT/policies/default/injection.textproto", "$ROOT/policies/default/blocklist.textproto"]
apps {
  id: "demo"
  api_keys { sha256: "$APP_HASH" role: APP }
  input_policy_sets: $all_sets
  output_policy_sets: $out_sets
  input_moderation { default_action: BLOCK }
  output_moderation { default_action: BLOCK }
  limits { $1 }
}
apps {
  id: "admin"
  api_keys { sha256: "$ADMIN_HASH" role: ADMIN label: "e2e-admin" }
  input_policy_sets: $all_sets
  output_policy_sets: $out_sets
}
CONFIG
}

fail() {
  echo "FAIL: $*" >&2
  # The server's own last words usually say why (sanitizer reports included).
  if [ -s "${TEST_TMPDIR:-/nonexistent}/warden.err" ]; then
    echo "--- warden stderr (last 60 lines, request logs omitted):" >&2
    grep -v '^{"time"' "$TEST_TMPDIR/warden.err" | tail -60 >&2
  fi
  exit 1
}

# start_warden CONFIG: starts the server on 127.0.0.1:0, waits until it writes its port.
start_warden() {
  local config=$1
  rm -f "$TEST_TMPDIR/port"
  "$WARDEN" --config "$config" --listen 127.0.0.1:0 --port_file "$TEST_TMPDIR/port" \
      >"$TEST_TMPDIR/warden.out" 2>"$TEST_TMPDIR/warden.err" &
  WARDEN_PID=$!
  for _ in $(seq 1 600); do
    [ -s "$TEST_TMPDIR/port" ] && break
    kill -0 "$WARDEN_PID" 2>/dev/null || { cat "$TEST_TMPDIR/warden.err" >&2; fail "warden exited early"; }
    sleep 0.1
  done
  [ -s "$TEST_TMPDIR/port" ] || fail "warden did not write its port file"
  PORT=$(cat "$TEST_TMPDIR/port")
  TARGET="127.0.0.1:$PORT"
}

stop_warden() {
  kill -TERM "$WARDEN_PID"
  wait "$WARDEN_PID" || fail "warden exited with status $? after SIGTERM"
}

# expect_fail CODE_SUBSTRING CMD...: runs CMD, wants a non-zero exit and CODE in stderr.
expect_fail() {
  local want=$1; shift
  if "$@" >"$TEST_TMPDIR/cmd.out" 2>"$TEST_TMPDIR/cmd.err"; then
    fail "expected failure ($want) from: $*"
  fi
  grep -q "$want" "$TEST_TMPDIR/cmd.err" || { cat "$TEST_TMPDIR/cmd.err" >&2; fail "expected $want from: $*"; }
}
