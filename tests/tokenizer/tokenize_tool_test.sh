#!/usr/bin/env bash
# End-to-end check of the `tokenize` tool contract: JSON lines in, ids out, exit status.
set -euo pipefail
TOOL="model/tokenizer/tokenize"

out="$(printf '{"text": "hello world"}\n{"text": "<|end|>"}\n' | "${TOOL}")"
expected='{"ids": [24912, 2375]}
{"ids": [27, 91, 419, 91, 29]}'
if [[ "${out}" != "${expected}" ]]; then
  echo "unexpected output:"; echo "${out}"; exit 1
fi

out="$(printf '{"text": "hello world"}\n' | "${TOOL}" --tokenizer model/tokenizer/data/o200k_base.tiktoken)"
[[ "${out}" == '{"ids": [24912, 2375]}' ]] || { echo "explicit --tokenizer failed: ${out}"; exit 1; }

if printf '{"text": "a"}\nnot json\n' | "${TOOL}" >/dev/null 2>"${TEST_TMPDIR}/err"; then
  echo "malformed line was accepted"; exit 1
fi
grep -q "line 2" "${TEST_TMPDIR}/err" || { echo "error does not name line 2:"; cat "${TEST_TMPDIR}/err"; exit 1; }

if "${TOOL}" --tokenizer /nonexistent/vocab.tiktoken </dev/null 2>/dev/null; then
  echo "missing vocabulary was accepted"; exit 1
fi
echo PASS
