#!/usr/bin/env bash
# Gateway overhead benchmark: starts an optimised warden on the default configuration (in a
# temporary folder) and runs tests/bench:gateway_bench against it. Prints one JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build -c opt //gateway:warden //tests/bench:gateway_bench >/dev/null 2>&1
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
sed -e "s|../../var/demo-model|$PWD/var/demo-model|" -e "s|../../var/audit/warden-audit.db|$work/audit.db|" \
    -e "s|../../policies/|$PWD/policies/|" -e 's|^metrics_listen:.*||' \
    gateway/config/default.textproto >"$work/config.textproto"
sed -i 's/requests_per_minute: 600/requests_per_minute: 0/; s/tokens_per_minute: 200000/tokens_per_minute: 0/' \
    "$work/config.textproto"
bazel-bin/gateway/warden --config "$work/config.textproto" --listen 127.0.0.1:0 --port_file "$work/port" \
    >"$work/out" 2>/dev/null &
pid=$!
for _ in $(seq 1 600); do [ -s "$work/port" ] && break; sleep 0.1; done
bazel-bin/tests/bench/gateway_bench --target "127.0.0.1:$(cat "$work/port")" "$@"
