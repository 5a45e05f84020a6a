#!/usr/bin/env bash
# Operator mistakes that warden must refuse at start, before the model loads: exit
# non-zero with a message naming what is wrong (flag, field or file), never serve.
set -euo pipefail
WARDEN=gateway/warden
source tests/e2e/lib.sh
ROOT=$PWD

# A config the mistakes below start from; its model directory does not exist, so a test
# that got as far as the model load would name it (and fail for that reason instead).
write_config() {  # extra config lines
  cat >"$TEST_TMPDIR/config.textproto" <<CONFIG
model { model_dir: "$TEST_TMPDIR/no_model_here" }
audit { path: "$TEST_TMPDIR/audit/audit.db" }
apps { id: "demo" api_keys { sha256: "$APP_HASH" role: APP } }
$1
CONFIG
}

# refused WANT ARGS...: warden with ARGS exits non-zero, says WANT on stderr and never
# reaches the model load.
refused() {
  local want=$1; shift
  if timeout 60 "$WARDEN" "$@" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err"; then
    fail "warden served with: $*"
  fi
  grep -qF -- "$want" "$TEST_TMPDIR/err" || fail "expected '$want' from warden $*, got: $(cat "$TEST_TMPDIR/err")"
  if grep -q "no_model_here" "$TEST_TMPDIR/err"; then fail "the model was loaded before the mistake was found: $*"; fi
  echo "ok: $(grep "^warden:" "$TEST_TMPDIR/err" | head -c 300)"
}

# --listen is checked as the config's listen is: gRPC would serve "127.0.0.1:70000" on
# port 4464 and "localhost" on port 443.
write_config 'metrics_listen: "127.0.0.1:9464"'
refused '--listen: "127.0.0.1:70000": the port must be a number from 0 to 65535' \
    --config "$TEST_TMPDIR/config.textproto" --listen 127.0.0.1:70000
refused '--listen: "localhost" must be HOST:PORT' --config "$TEST_TMPDIR/config.textproto" --listen localhost
refused '--listen 0.0.0.0:9464 uses the port of metrics_listen' \
    --config "$TEST_TMPDIR/config.textproto" --listen 0.0.0.0:9464

# warden takes no operands: a stray one (a path after a flag that takes none) is refused.
write_config ""
refused 'warden: unexpected argument "/models/gpt-oss-20b"' --config "$TEST_TMPDIR/config.textproto" /models/gpt-oss-20b

# An app naming a policy set no policy file defines: the error points at the line.
cat >"$TEST_TMPDIR/config.textproto" <<CONFIG
model { model_dir: "$TEST_TMPDIR/no_model_here" }
audit { path: "$TEST_TMPDIR/audit/audit.db" }
policy_files: "$ROOT/policies/default/pii.textproto"
apps {
  id: "demo"
  api_keys { sha256: "$APP_HASH" role: APP }
  input_policy_sets: ["default-pii", "defualt-secrets"]
  output_policy_sets: "default-pii"
  output_policy_sets: "nope"
}
CONFIG
refused "config.textproto:7:3: apps[0].input_policy_sets[1] (app 'demo'): unknown policy set 'defualt-secrets'" \
    --config "$TEST_TMPDIR/config.textproto"
grep -qF "config.textproto:9:3: apps[0].output_policy_sets[1] (app 'demo'): unknown policy set 'nope'" "$TEST_TMPDIR/err" ||
  fail "second unknown set lacks its line: $(cat "$TEST_TMPDIR/err")"

# TLS material gRPC refuses is found before the model loads, named by its fields, and not
# reported as an address in use; a file that cannot be read names its field.
cd "$TEST_TMPDIR"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout k1.pem -out c1.pem 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout k2.pem -out c2.pem 2>/dev/null
echo "not a certificate" >garbage.pem
cd - >/dev/null
write_config "tls { cert_file: \"$TEST_TMPDIR/c1.pem\" key_file: \"$TEST_TMPDIR/k2.pem\" }"
refused "tls: gRPC refused the certificate (tls.cert_file $TEST_TMPDIR/c1.pem) or its key (tls.key_file $TEST_TMPDIR/k2.pem)" \
    --config "$TEST_TMPDIR/config.textproto" --listen 127.0.0.1:0
if grep -q "cannot listen" "$TEST_TMPDIR/err"; then fail "a TLS mistake reported as an address problem"; fi
write_config "tls { cert_file: \"$TEST_TMPDIR/c1.pem\" key_file: \"$TEST_TMPDIR/k1.pem\" client_ca_file: \"$TEST_TMPDIR/garbage.pem\" }"
refused "or the client CA (tls.client_ca_file $TEST_TMPDIR/garbage.pem)" --config "$TEST_TMPDIR/config.textproto"
write_config "tls { cert_file: \"$TEST_TMPDIR/c1.pem\" key_file: \"$TEST_TMPDIR/missing.pem\" }"
refused "tls.key_file: cannot read $TEST_TMPDIR/missing.pem" --config "$TEST_TMPDIR/config.textproto"

# An LLM policy file that is a directory or empty: refused at start, naming the file (a
# directory read as empty text before, and an empty policy gave the model nothing to judge).
mkdir -p "$TEST_TMPDIR/policy_dir"
: >"$TEST_TMPDIR/empty_policy.md"
for policy in "$TEST_TMPDIR/policy_dir" "$TEST_TMPDIR/empty_policy.md"; do
  cat >"$TEST_TMPDIR/config.textproto" <<CONFIG
model { model_dir: "$TEST_TMPDIR/no_model_here" }
audit { path: "$TEST_TMPDIR/audit/audit.db" }
apps {
  id: "demo"
  api_keys { sha256: "$APP_HASH" role: APP }
  input_moderation { llm_policy_file: "$policy" }
}
CONFIG
  refused "app demo: llm_policy_file: " --config "$TEST_TMPDIR/config.textproto"
  grep -qE "it is a directory|is empty" "$TEST_TMPDIR/err" || fail "policy file $policy: $(cat "$TEST_TMPDIR/err")"
done

echo PASS
