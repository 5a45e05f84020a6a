#!/bin/bash
# The scripted_checkpoint command line: writes the three files for a valid script, prints the
# script ids, and exits 2 with a clear message for an ambiguous script or missing flags.
set -u
tool=tests/tools/scripted_checkpoint
out="${TEST_TMPDIR}/ckpt"
fail() { echo "FAIL: $*"; exit 1; }

ids=$("$tool" --out "$out" --script '<|channel|>final<|message|>Hi there.<|return|>') || fail "valid script rejected"
for f in config.json generation_config.json model.safetensors; do
  [[ -s "$out/$f" ]] || fail "missing $f"
done
# <|channel|> final <|message|> ... <|return|>
[[ "$ids" == '{"script_ids": [200005, 17196, 200008, '*', 200002], "landmarks": []}' ]] || fail "ids: $ids"
grep -q '"vocab_size": 201088' "$out/config.json" || fail "vocab size"

printf '%s' '<|channel|>final<|message|>From a file.<|return|>' > "${TEST_TMPDIR}/script.txt"
"$tool" --out "${TEST_TMPDIR}/from_file" --script_file "${TEST_TMPDIR}/script.txt" > /dev/null || fail "--script_file"

"$tool" --out "${TEST_TMPDIR}/bad" --script '<|channel|>analysis<|message|>One.<|end|><|start|>assistant<|channel|>analysis<|message|>Two.<|return|>' 2> "${TEST_TMPDIR}/err"
rc=$?
[[ $rc -eq 2 ]] || fail "ambiguous script: exit $rc"
grep -q "ambiguous" "${TEST_TMPDIR}/err" || fail "message: $(cat "${TEST_TMPDIR}/err")"

"$tool" --script 'x' 2> /dev/null
[[ $? -eq 2 ]] || fail "missing --out accepted"
echo PASS
