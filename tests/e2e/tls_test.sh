#!/usr/bin/env bash
# TLS and mutual TLS from the config: a CA, a server and a client certificate made with
# openssl; wardenctl connects with and without a client certificate.
set -euo pipefail
WARDEN=gateway/warden
WARDENCTL=gateway/wardenctl
source tests/e2e/lib.sh
cd "$TEST_TMPDIR"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out ca.pem 2>/dev/null
for who in server client; do
  openssl req -newkey rsa:2048 -nodes -subj /CN=$who -keyout $who.key -out $who.csr 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >$who.ext
  openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile $who.ext -out $who.pem 2>/dev/null
done
cd - >/dev/null
write_config() {
  cat >"$TEST_TMPDIR/config.textproto" <<CONFIG
model { model_dir: "$TEST_TMPDIR/model" create_demo_if_missing: true }
audit { path: "$TEST_TMPDIR/audit.db" }
tls { cert_file: "$TEST_TMPDIR/server.pem" key_file: "$TEST_TMPDIR/server.key" $1 }
apps { id: "demo" api_keys { sha256: "$APP_HASH" role: APP } }
CONFIG
}
ctl() { "$WARDENCTL" --target "localhost:$PORT" --api_key warden-demo-key "$@"; }

# TLS: a client trusting the CA gets through; a plaintext client does not.
write_config ""
start_warden "$TEST_TMPDIR/config.textproto"
ctl --ca_file "$TEST_TMPDIR/ca.pem" moderate "hello" >/dev/null || fail "TLS client refused"
expect_fail UNAVAILABLE ctl moderate "hello"
# A TLS flag never falls back: an unreadable CA file or a lone certificate is an error.
if ctl --ca_file "$TEST_TMPDIR/no-such-ca.pem" moderate "hello" 2>"$TEST_TMPDIR/ctl.err"; then
  fail "wardenctl went on without its CA file"
fi
grep -q "cannot read --ca_file" "$TEST_TMPDIR/ctl.err" || fail "no reason: $(cat "$TEST_TMPDIR/ctl.err")"
if ctl --cert_file "$TEST_TMPDIR/client.pem" moderate "hello" 2>"$TEST_TMPDIR/ctl.err"; then
  fail "wardenctl used a certificate without its key"
fi
grep -q "must be given together" "$TEST_TMPDIR/ctl.err" || fail "no reason: $(cat "$TEST_TMPDIR/ctl.err")"
stop_warden

# Mutual TLS: a client certificate signed by the CA is required.
write_config "client_ca_file: \"$TEST_TMPDIR/ca.pem\""
start_warden "$TEST_TMPDIR/config.textproto"
ctl --ca_file "$TEST_TMPDIR/ca.pem" --cert_file "$TEST_TMPDIR/client.pem" --key_file "$TEST_TMPDIR/client.key" \
  moderate "hello" >/dev/null || fail "mTLS client refused"
expect_fail UNAVAILABLE ctl --ca_file "$TEST_TMPDIR/ca.pem" moderate "hello"
stop_warden
echo PASS
