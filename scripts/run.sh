#!/usr/bin/env bash
# Sets up the machine, builds Warden and starts the gateway on its default configuration
# (gateway/config/default.textproto): demo model, default policies and classifier, SQLite
# audit trail under var/. Extra arguments go to warden (e.g. --listen 127.0.0.1:0).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bazel build -c opt //gateway:warden //gateway:wardenctl //model:oss
exec bazel-bin/gateway/warden --config gateway/config/default.textproto "$@"
