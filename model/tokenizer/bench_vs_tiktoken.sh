#!/usr/bin/env bash
# Runs //model/tokenizer:tokenizer_bench and the npm `tiktoken` 1.0.22 package (Rust core
# compiled to WebAssembly) on the same corpus in one go and prints both results.
#
# The npm package is installed in a scratch directory outside the repository
# (default ~/.cache/warden-tiktoken, override with WARDEN_TIKTOKEN_DIR). The corpus is
# built by tokenizer_bench from the shared directory (default: ../shared next to the
# workspace, override with SHARED_DIR) and written to the scratch directory.
#
# Usage: model/tokenizer/bench_vs_tiktoken.sh
set -euo pipefail

WORKSPACE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SHARED="${SHARED_DIR:-${WORKSPACE}/../shared}"
SCRATCH="${WARDEN_TIKTOKEN_DIR:-${HOME}/.cache/warden-tiktoken}"
CORPUS="${SCRATCH}/corpus.txt"

mkdir -p "${SCRATCH}"
if [[ ! -f "${SCRATCH}/node_modules/tiktoken/package.json" ]]; then
  (cd "${SCRATCH}" && { [[ -f package.json ]] || npm init -y >/dev/null; } &&
    npm install --no-audit --no-fund --silent tiktoken@1.0.22 >&2)
fi

cat > "${SCRATCH}/bench.js" <<'JS'
// Same measurements as tokenizer_bench for the tiktoken WASM build.
const fs = require("fs");
const now = () => Number(process.hrtime.bigint()) / 1e6;  // ms
const t0 = now();
const { get_encoding } = require("tiktoken");
const enc = get_encoding("o200k_base");
const loadMs = now() - t0;
const text = fs.readFileSync(process.argv[2], "utf8");
const bytes = Buffer.byteLength(text, "utf8");
const f0 = now();
const tokens = enc.encode_ordinary(text).length;
const firstMs = now() - f0;
let passes = 0;
const s0 = now();
const c0 = process.cpuUsage();
while (now() - s0 < 1000) { enc.encode_ordinary(text); passes++; }
const seconds = (now() - s0) / 1000;
const cpu = process.cpuUsage(c0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(JSON.stringify({
  package: "tiktoken@" + JSON.parse(fs.readFileSync(require.resolve("tiktoken").replace(/[^/]*$/, "package.json"), "utf8")).version,
  corpus_bytes: bytes,
  corpus_tokens: tokens,
  load_ms: loadMs,
  first_pass_ms: firstMs,
  whole_process_mb_per_s: bytes / ((loadMs + firstMs) / 1000) / 1e6,
  encode_mb_per_s_1_thread: passes * bytes / seconds / 1e6,
  encode_mb_per_cpu_s_1_thread: passes * bytes / cpuSeconds / 1e6,
}, null, 2));
enc.free();
JS

cd "${WORKSPACE}"
echo "== warden //model/tokenizer:tokenizer_bench (C++) =="
CPP_JSON="$(bazel run -c opt //model/tokenizer:tokenizer_bench -- \
  --shared_dir="${SHARED}" --write_corpus="${CORPUS}" 2>/dev/null)"
echo "${CPP_JSON}"
echo "== npm tiktoken (WASM), same corpus =="
NODE_JSON="$(node "${SCRATCH}/bench.js" "${CORPUS}")"
echo "${NODE_JSON}"
echo "== ratio (warden / tiktoken) =="
node -e '
const c = JSON.parse(process.argv[1]), n = JSON.parse(process.argv[2]);
const r = (k) => (c[k] / n[k]).toFixed(2);
console.log(JSON.stringify({
  same_token_count: c.corpus_tokens === n.corpus_tokens,
  encode_speedup_1_thread: Number(r("encode_mb_per_s_1_thread")),
  encode_speedup_per_cpu_second: Number(r("encode_mb_per_cpu_s_1_thread")),
  whole_process_speedup: Number(r("whole_process_mb_per_s")),
}, null, 2));' "${CPP_JSON}" "${NODE_JSON}"
