#!/usr/bin/env bash
# End-to-end through the real engine with a scripted checkpoint (tests/tools): greedy
# decoding emits a known harmony completion, so the output checks can be verified on the
# real path: analysis channel hidden, a PII value spread over many streamed tokens
# redacted, a block-list term mid-stream ends the stream with nothing unchecked sent.
set -euo pipefail
WARDEN=gateway/warden
WARDENCTL=gateway/wardenctl
source tests/e2e/lib.sh
ROOT=$PWD
OPEN_HASH=$(printf %s open-key | sha256sum | cut -d' ' -f1)

ANALYSIS="Checking the contact details first."
# Longer than the policy filters' hold-back window (distinct words: the scripted model
# follows bigram contexts), so text is released while the model is still generating.
WORDS="Alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu. Mercury Venus Earth Mars Jupiter Saturn Uranus Neptune Pluto Ceres Vesta Pallas Juno Hygiea Eris Haumea Makemake Sedna Quaoar Orcus Gonggong Salacia Varuna Ixion Chaos Huya Dysnomia Weywot Vanth Namaka Hiiaka Charon Nix Hydra Kerberos Styx Triton Nereid Proteus Larissa Galatea Despina Thalassa Naiad."
FINAL_CLEAN="Sure. ${WORDS} You can write to alice.smith@example.org about it."
FINAL_BLOCK=" Then dagnabbit happens and more words follow here."
tests/tools/scripted_checkpoint --out "$TEST_TMPDIR/model" \
  --script "<|channel|>analysis<|message|>${ANALYSIS}<|end|><|start|>assistant<|channel|>final<|message|>${FINAL_CLEAN}${FINAL_BLOCK}<|return|>" \
  >/dev/null || fail "scripted checkpoint"

cat >"$TEST_TMPDIR/config.textproto" <<CONFIG
model { model_dir: "$TEST_TMPDIR/model" }
audit { path: "$TEST_TMPDIR/audit.db" }
policy_files: ["$ROOT/policies/default/pii.textproto", "$ROOT/policies/default/blocklist.textproto"]
apps {
  id: "demo"
  api_keys { sha256: "$APP_HASH" role: APP }
  output_policy_sets: ["default-pii", "default-blocklist"]
  output_moderation { disabled: true }
  input_moderation { disabled: true }
}
apps {
  id: "open"
  api_keys { sha256: "$OPEN_HASH" role: APP }
  output_policy_sets: ["default-pii"]
  output_moderation { disabled: true }
  input_moderation { disabled: true }
  allow_analysis: true
  retention: FULL
}
apps {
  id: "admin"
  api_keys { sha256: "$ADMIN_HASH" role: ADMIN }
}
CONFIG
start_warden "$TEST_TMPDIR/config.textproto"
ctl() { "$WARDENCTL" --target "$TARGET" "$@"; }

# 1. Block mid-stream: the stream ends with BLOCKED; the released text is a prefix of the
#    redacted clean part; no piece of the blocked term or what follows was sent.
WARDEN_API_KEY=warden-demo-key ctl --temperature 0 --max_tokens 200 --analysis generate --prompt "Contact?" \
  >"$TEST_TMPDIR/stream.out"
cat "$TEST_TMPDIR/stream.out"
grep -q -- "-- BLOCKED" "$TEST_TMPDIR/stream.out" || fail "stream not blocked"
streamed=$(sed '/^-- /d' "$TEST_TMPDIR/stream.out" | tr -d '\n')
expected_clean="Sure. ${WORDS} You can write to [EMAIL] about it."
case "$expected_clean Then " in
  "$streamed"*) ;;
  *) fail "streamed text is not a prefix of the checked text: '$streamed'" ;;
esac
for leak in alice example.org dagn dagnabbit "more words" "$ANALYSIS"; do
  if grep -qF "$leak" "$TEST_TMPDIR/stream.out"; then fail "leaked '$leak'"; fi
done
[ ${#streamed} -gt 10 ] || fail "nothing released before the block: '$streamed'"

# 2. Unary, app allows analysis and keeps full content: the email is redacted in the final
#    text (it spans many tokens, i.e. many streamed pieces); the analysis is returned.
WARDEN_API_KEY=open-key ctl --json --stream=false --temperature 0 --max_tokens 200 --analysis generate \
  --prompt "Contact?" >"$TEST_TMPDIR/open.json"
grep -q '\[EMAIL\]' "$TEST_TMPDIR/open.json" || fail "email not redacted: $(cat "$TEST_TMPDIR/open.json")"
if grep -q "alice.smith" "$TEST_TMPDIR/open.json"; then fail "email leaked"; fi
grep -qF "$ANALYSIS" "$TEST_TMPDIR/open.json" || fail "allowed analysis missing"
grep -q "dagnabbit" "$TEST_TMPDIR/open.json" || fail "open app has no block list; the word should pass"
# FULL retention keeps what the model wrote (for audits), the response still redacted.
open_id=$(sed -n 's/.*"requestId":"\([0-9a-f]*\)".*/\1/p' "$TEST_TMPDIR/open.json")
WARDEN_API_KEY=warden-demo-admin ctl --json audit show "$open_id" >"$TEST_TMPDIR/open_record.json"
grep -q '"retention":"FULL"' "$TEST_TMPDIR/open_record.json" || fail "retention not recorded"
grep -q "alice.smith@example.org" "$TEST_TMPDIR/open_record.json" || fail "FULL retention lost the model's text"

# 3. Same app without asking for analysis: hidden.
WARDEN_API_KEY=open-key ctl --json --stream=false --temperature 0 --max_tokens 200 generate \
  --prompt "Contact?" >"$TEST_TMPDIR/noanalysis.json"
if grep -qF "$ANALYSIS" "$TEST_TMPDIR/noanalysis.json"; then fail "analysis returned unasked"; fi

# 4. The audit records are complete: the blocked stream is recorded with its decision.
WARDEN_API_KEY=warden-demo-admin ctl --json audit query --app demo >"$TEST_TMPDIR/audit.json"
grep -q '"finishReason":"BLOCKED"' "$TEST_TMPDIR/audit.json" || fail "blocked stream not audited"
grep -q '"ruleId":"blocklist.demo"' "$TEST_TMPDIR/audit.json" || fail "rule not audited"
if grep -q "alice.smith" "$TEST_TMPDIR/audit.json"; then fail "PII in the redacted audit trail"; fi
stop_warden

# 5. A tool call comes back structured, its arguments checked like any output.
tests/tools/scripted_checkpoint --out "$TEST_TMPDIR/tool_model" \
  --script '<|channel|>analysis<|message|>Need weather.<|end|><|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>{"city":"Paris","reply_to":"bob@example.com"}<|call|>' \
  >/dev/null || fail "scripted tool checkpoint"
sed -i "s|$TEST_TMPDIR/model\"|$TEST_TMPDIR/tool_model\"|" "$TEST_TMPDIR/config.textproto"
start_warden "$TEST_TMPDIR/config.textproto"
WARDEN_API_KEY=warden-demo-key ctl --json --stream=false --temperature 0 --max_tokens 100 generate \
  --prompt "Weather in Paris?" >"$TEST_TMPDIR/tool.json"
grep -q '"finishReason":"TOOL_CALL"' "$TEST_TMPDIR/tool.json" || fail "no TOOL_CALL: $(cat "$TEST_TMPDIR/tool.json")"
grep -q '"recipient":"functions.get_weather"' "$TEST_TMPDIR/tool.json" || fail "tool call recipient"
grep -q 'Paris' "$TEST_TMPDIR/tool.json" || fail "tool call arguments"
grep -q '\[EMAIL\]' "$TEST_TMPDIR/tool.json" || fail "tool call arguments not checked"
if grep -q "bob@example.com" "$TEST_TMPDIR/tool.json"; then fail "PII in tool call arguments"; fi
stop_warden
echo PASS
