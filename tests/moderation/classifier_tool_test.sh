#!/bin/bash
# Contract test of `//moderation:classifier`: score (default model and --model), train, eval.
set -euo pipefail
bin="moderation/classifier"
data="tests/data/moderation/tiny_train.jsonl"
tmp="${TEST_TMPDIR:-/tmp}"

out="$(printf '%s\n' '{"text": "I will kill you"}' '{"text": "hello there"}' | "$bin" score)"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] || { echo "expected 2 lines: $out"; exit 1; }
printf '%s\n' "$out" | /usr/bin/python3 -c '
import json, sys
names = ["harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
         "illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions", "sexual",
         "sexual/minors", "violence", "violence/graphic", "prompt-injection", "jailbreak"]
rows = [json.loads(l)["scores"] for l in sys.stdin]
for r in rows:
    assert sorted(r) == sorted(names), sorted(r)
    assert all(0.0 <= v <= 1.0 for v in r.values())
assert rows[0]["violence"] > rows[1]["violence"], rows
'

# --window_words: a threat inside a long neutral text is scored as if alone (the whole text
# dilutes it); short texts score as without the flag; sizes out of bounds are refused. The
# neutral text is five different sentences: the model counts each distinct feature once, so
# one sentence repeated dilutes no more than one copy does.
long="$(/usr/bin/python3 -c '
import json
calm = ("The weather was calm and the lake was quiet all day long. "
        "We walked along the shore, counted the boats and had sandwiches on a bench. "
        "In the afternoon my sister read a novel while the children built a sand castle. "
        "A light breeze came up around four, and the sailing club pulled its dinghies ashore. "
        "Dinner was grilled vegetables, fresh bread and a peach tart from the village bakery. ")
print(json.dumps({"text": calm + "I am going to find you and kill you. " + calm}))
print(json.dumps({"text": "I am going to find you and kill you."}))
')"
whole="$(printf '%s\n' "$long" | "$bin" score)"
windowed="$(printf '%s\n' "$long" | "$bin" score --window_words 64)"
/usr/bin/python3 -c '
import json, sys
whole = [json.loads(l)["scores"] for l in sys.argv[1].splitlines()]
windowed = [json.loads(l)["scores"] for l in sys.argv[2].splitlines()]
assert whole[0]["violence"] < 0.5 * whole[1]["violence"], (whole, "not diluted: the test proves nothing")
assert abs(windowed[0]["violence"] - whole[1]["violence"]) < 1e-6, (windowed[0], whole[1])
assert windowed[1] == whole[1], (windowed[1], whole[1])
' "$whole" "$windowed"
for bad in 8:'between 16 and 4096' 4097:'between 16 and 4096' x:'window_words'; do
  value="${bad%%:*}" expected="${bad#*:}"
  if printf '%s\n' '{"text": "a"}' | "$bin" score --window_words "$value" >/dev/null 2>"$tmp/window.err"; then
    echo "--window_words $value accepted"; exit 1
  fi
  grep -q "$expected" "$tmp/window.err" ||
    { echo "unclear --window_words $value error: $(cat "$tmp/window.err")"; exit 1; }
done

# A malformed line gets an error line and a non-zero exit, the other lines are scored.
set +e
bad="$(printf '%s\n' 'not json' '{"text": "ok"}' | "$bin" score)"
status=$?
set -e
[ "$status" -ne 0 ] || { echo "malformed input must fail"; exit 1; }
printf '%s\n' "$bad" | head -1 | grep -c '"error"' >/dev/null
printf '%s\n' "$bad" | tail -1 | grep -c '"scores"' >/dev/null

# Text that is not Unicode is scored, not refused: an escaped lone surrogate (Python's
# json.dumps writes one for such a string) and raw bytes that are not UTF-8 read as U+FFFD.
odd="$(printf '{"text": "a\\ud800b"}\n{"text": "bad \377\376 bytes"}\n' | "$bin" score)" ||
  { echo "non-Unicode text must be scored: $odd"; exit 1; }
[ "$(printf '%s\n' "$odd" | grep -c '"scores"')" -eq 2 ] || { echo "non-Unicode text not scored: $odd"; exit 1; }

# Keys the format does not read are named in a warning (a misspelt "labels" would make
# every positive a silent negative), and training still runs.
printf '%s\n' '{"text": "you are awful", "labels": ["harassment"]}' '{"text": "hello there"}' >"$tmp/misspelt.jsonl"
"$bin" train --data "$tmp/misspelt.jsonl" --out "$tmp/misspelt.wmod" --epochs 1 --buckets_log2 10 2>"$tmp/misspelt.err" ||
  { echo "training with an ignored key failed"; exit 1; }
grep -q 'keys ignored: "labels" (1 rows)' "$tmp/misspelt.err" || { echo "no warning for an ignored key: $(cat "$tmp/misspelt.err")"; exit 1; }

# Flag values that used to train something else silently: --source_offsets 7 trained without
# offsets, a NaN weight or an infinite rate trained a model of NaNs.
for bad in "--source_offsets 7" "--max_source_weight nan" "--learning_rate inf" "--l2 -nan"; do
  # shellcheck disable=SC2086
  if "$bin" train --data "$data" --out "$tmp/bad_flag.wmod" --epochs 1 --buckets_log2 10 $bad 2>"$tmp/bad_flag.err"; then
    echo "train accepted $bad"; exit 1
  fi
  grep -q -- "${bad%% *}" "$tmp/bad_flag.err" || { echo "error for $bad does not name the flag: $(cat "$tmp/bad_flag.err")"; exit 1; }
done
[ ! -e "$tmp/bad_flag.wmod" ] || { echo "a refused training wrote a model"; exit 1; }

# train -> eval -> score --model
"$bin" train --data "$data" --out "$tmp/tiny.wmod" --seed 3 --epochs 3 --buckets_log2 12 2>/dev/null
"$bin" train --data "$data" --out "$tmp/tiny2.wmod" --seed 3 --epochs 3 --buckets_log2 12 2>/dev/null
cmp "$tmp/tiny.wmod" "$tmp/tiny2.wmod" || { echo "training is not deterministic"; exit 1; }
report="$("$bin" eval --model "$tmp/tiny.wmod" --data "$data")"
"$bin" eval --model "$tmp/tiny.wmod" --data "$data" --window_words 16 | grep -c "AUPRC" >/dev/null
printf '%s\n' "$report" | grep -c "AUPRC" >/dev/null
printf '%s\n' "$report" | grep -c "calibration" >/dev/null
printf '%s\n' "$report" | grep -c "benign-text check" >/dev/null
printf '%s\n' '{"text": "x"}' | "$bin" score --model "$tmp/tiny.wmod" | grep -c '"jailbreak"' >/dev/null

# The embedding-bag kind and an ensemble of both kinds: deterministic, scored, evaluated.
"$bin" train --kind bag --data "$data" --out "$tmp/bag.wmod" --seed 3 --epochs 3 --buckets_log2 12 --dim 16 2>/dev/null
"$bin" train --kind bag --data "$data" --out "$tmp/bag2.wmod" --seed 3 --epochs 3 --buckets_log2 12 --dim 16 2>/dev/null
cmp "$tmp/bag.wmod" "$tmp/bag2.wmod" || { echo "bag training is not deterministic"; exit 1; }
"$bin" ensemble --linear "$tmp/tiny.wmod" --bag "$tmp/bag.wmod" --data "$data" --out "$tmp/ens.wmod" 2>/dev/null
"$bin" eval --model "$tmp/ens.wmod" --data "$data" | grep -c "AUPRC" >/dev/null
for m in bag ens; do
  printf '%s\n' '{"text": "I will kill you"}' | "$bin" score --model "$tmp/$m.wmod" | grep -c '"violence"' >/dev/null
done
set +e
"$bin" ensemble --linear "$tmp/bag.wmod" --bag "$tmp/bag.wmod" --data "$data" --out "$tmp/x.wmod" 2>/dev/null
status=$?
set -e
[ "$status" -eq 1 ] || { echo "a bag model is not a linear member"; exit 1; }

# --repeats 1 (each distinct feature counted once) writes format version 3 for both kinds,
# deterministically; the ensemble of such members is version 3 too; --repeats 2 is refused.
"$bin" train --data "$data" --out "$tmp/once.wmod" --seed 3 --epochs 3 --buckets_log2 12 --repeats 1 2>/dev/null
"$bin" train --data "$data" --out "$tmp/once2.wmod" --seed 3 --epochs 3 --buckets_log2 12 --repeats 1 2>/dev/null
cmp "$tmp/once.wmod" "$tmp/once2.wmod" || { echo "--repeats 1 training is not deterministic"; exit 1; }
"$bin" train --kind bag --data "$data" --out "$tmp/bag_once.wmod" --seed 3 --epochs 3 --buckets_log2 12 --dim 16 --repeats 1 2>/dev/null
"$bin" ensemble --linear "$tmp/once.wmod" --bag "$tmp/bag_once.wmod" --data "$data" --out "$tmp/ens_once.wmod" 2>/dev/null
for m in once bag_once ens_once; do
  version="$(od -An -tu4 -j4 -N4 "$tmp/$m.wmod" | tr -d ' ')"
  [ "$version" = 3 ] || { echo "$m.wmod has format version $version, expected 3"; exit 1; }
done
[ "$(od -An -tu4 -j4 -N4 "$tmp/tiny.wmod" | tr -d ' ')" = 1 ] || { echo "tiny.wmod is not version 1"; exit 1; }

# --threshold_resamples (bootstrap-median thresholds, the shipped recipe's 101): the same
# bytes twice; out-of-range or non-numeric counts are refused with the flag's name.
for n in 1 2; do
  "$bin" ensemble --linear "$tmp/once.wmod" --bag "$tmp/bag_once.wmod" --data "$data" \
    --threshold_resamples 31 --out "$tmp/boot$n.wmod" 2>/dev/null
done
cmp "$tmp/boot1.wmod" "$tmp/boot2.wmod" || { echo "--threshold_resamples is not deterministic"; exit 1; }
for bad in -1 10001 x; do
  if "$bin" ensemble --linear "$tmp/once.wmod" --bag "$tmp/bag_once.wmod" --data "$data" \
      --threshold_resamples "$bad" --out "$tmp/x.wmod" 2>"$tmp/resamples.err"; then
    echo "--threshold_resamples $bad accepted"; exit 1
  fi
  grep -q "threshold_resamples" "$tmp/resamples.err" ||
    { echo "unclear --threshold_resamples $bad error: $(cat "$tmp/resamples.err")"; exit 1; }
done
printf '%s\n' '{"text": "I will kill you"}' | "$bin" score --model "$tmp/ens_once.wmod" | grep -c '"violence"' >/dev/null
set +e
"$bin" train --data "$data" --out "$tmp/x.wmod" --repeats 2 2>/dev/null
status=$?
set -e
[ "$status" -ne 0 ] || { echo "--repeats 2 must be refused"; exit 1; }

# --group_sources 1 trains both kinds (one source here, so the same weights as 0) and
# any other value than 0 or 1 is refused.
"$bin" train --data "$data" --out "$tmp/grouped.wmod" --seed 3 --epochs 3 --buckets_log2 12 --group_sources 1 2>/dev/null
"$bin" train --kind bag --data "$data" --out "$tmp/bag_grouped.wmod" --seed 3 --epochs 3 --buckets_log2 12 --dim 16 --group_sources 1 2>/dev/null
"$bin" train --data "$data" --out "$tmp/ungrouped.wmod" --seed 3 --epochs 3 --buckets_log2 12 --group_sources 0 2>/dev/null
cmp "$tmp/grouped.wmod" "$tmp/ungrouped.wmod" || { echo "--group_sources 1 changed a one-source model"; exit 1; }
set +e
"$bin" train --data "$data" --out "$tmp/x.wmod" --group_sources 2 2>/dev/null
status=$?
set -e
[ "$status" -ne 0 ] || { echo "--group_sources 2 must be refused"; exit 1; }

# --stacking 1 (the v7 candidates' stacking layer, moderation/stacking.h): format version 4, deterministic; fitted on
# out-of-fold scored rows with --stacking_data; bad values are refused.
for n in 1 2; do
  "$bin" ensemble --linear "$tmp/once.wmod" --bag "$tmp/bag_once.wmod" --data "$data" \
    --stacking 1 --out "$tmp/stacked$n.wmod" 2>/dev/null
done
cmp "$tmp/stacked1.wmod" "$tmp/stacked2.wmod" || { echo "stacking is not deterministic"; exit 1; }
[ "$(od -An -tu4 -j4 -N4 "$tmp/stacked1.wmod" | tr -d ' ')" = 4 ] || { echo "stacked file is not version 4"; exit 1; }
"$bin" score --model "$tmp/ens_once.wmod" < "$data" > "$tmp/first_stage.txt"
/usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
scores = [json.loads(l)["scores"] for l in open(sys.argv[2])]
assert len(rows) == len(scores)
for row, s in zip(rows * 3, scores * 3):
    row = dict(row); row["first_stage"] = s; print(json.dumps(row))
' "$data" "$tmp/first_stage.txt" > "$tmp/oof.jsonl"
for n in 1 2; do
  "$bin" ensemble --linear "$tmp/once.wmod" --bag "$tmp/bag_once.wmod" --data "$data" --stacking 1 \
    --stacking_data "$tmp/oof.jsonl" --stacking_inputs partners --out "$tmp/oof$n.wmod" 2>/dev/null
done
cmp "$tmp/oof1.wmod" "$tmp/oof2.wmod" || { echo "out-of-fold stacking is not deterministic"; exit 1; }
printf '%s\n' '{"text": "I will kill you"}' | "$bin" score --model "$tmp/oof1.wmod" | grep -c '"violence"' >/dev/null
for bad in "--stacking 2" "--stacking_inputs some" "--stacking_rows third" "--stacking_l2 0" \
           "--stacking_data $data"; do
  set +e
  "$bin" ensemble --linear "$tmp/once.wmod" --bag "$tmp/bag_once.wmod" --data "$data" \
    --stacking 1 $bad --out "$tmp/x.wmod" 2>/dev/null
  status=$?
  set -e
  [ "$status" -eq 1 ] || { echo "ensemble $bad must be refused"; exit 1; }
done

# --dev_split group: rows without a "group" fall back to the text hash, so on this file
# (no groups) both kinds and the ensemble give the bytes of --dev_split text; grouped rows
# train too; any other value is refused.
for split in text group; do
  "$bin" train --data "$data" --out "$tmp/split_$split.wmod" --seed 3 --epochs 3 --buckets_log2 12 --repeats 1 --dev_split $split 2>/dev/null
  "$bin" train --kind bag --data "$data" --out "$tmp/bag_split_$split.wmod" --seed 3 --epochs 3 --buckets_log2 12 --dim 16 --repeats 1 --dev_split $split 2>/dev/null
  "$bin" ensemble --linear "$tmp/split_$split.wmod" --bag "$tmp/bag_split_$split.wmod" --data "$data" --dev_split $split --out "$tmp/ens_split_$split.wmod" 2>/dev/null
done
for m in split bag_split ens_split; do
  cmp "$tmp/${m}_text.wmod" "$tmp/${m}_group.wmod" || { echo "--dev_split group changed $m without groups"; exit 1; }
done
/usr/bin/python3 -c '
import json, sys
for i, line in enumerate(open(sys.argv[1])):
    row = json.loads(line); row["group"] = "g%d" % (i % 3); print(json.dumps(row))
' "$data" > "$tmp/grouped.jsonl"
"$bin" train --data "$tmp/grouped.jsonl" --out "$tmp/by_group.wmod" --seed 3 --epochs 3 --buckets_log2 12 --dev_split group 2>/dev/null
for cmd in "train --data $data" "ensemble --linear $tmp/once.wmod --bag $tmp/bag_once.wmod --data $data"; do
  set +e
  "$bin" $cmd --dev_split template --out "$tmp/x.wmod" 2>/dev/null
  status=$?
  set -e
  [ "$status" -eq 1 ] || { echo "$cmd --dev_split template must be refused"; exit 1; }
done

# out_of_fold.py folds by "group" when a row has one, else by text: each fold gets whole
# groups, every row lands in exactly one fold, and the same input gives the same folds.
/usr/bin/python3 -c '
import json
for g in range(40):
    for i in range(5):
        print(json.dumps({"text": "case %d.%d" % (g, i), "categories": [], "group": "templ-%d" % g}))
for i in range(100):
    print(json.dumps({"text": "comment %d" % i, "categories": []}))
' > "$tmp/fold_rows.jsonl"
oof="moderation/training/out_of_fold.py"
for k in 0 1 2; do
  /usr/bin/python3 "$oof" split --data "$tmp/fold_rows.jsonl" --folds 3 --fold $k --rest "$tmp/rest_$k.jsonl" --held "$tmp/held_$k.jsonl"
  /usr/bin/python3 "$oof" split --data "$tmp/fold_rows.jsonl" --folds 3 --fold $k --rest "$tmp/rest_again.jsonl" --held "$tmp/held_again.jsonl"
  cmp "$tmp/held_$k.jsonl" "$tmp/held_again.jsonl" || { echo "fold $k is not deterministic"; exit 1; }
done
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys, zlib
tmp = sys.argv[1]
rows = [json.loads(l) for l in open(tmp + "/fold_rows.jsonl")]
fold_of = {}
for k in range(3):
    held = [json.loads(l) for l in open("%s/held_%d.jsonl" % (tmp, k))]
    rest = [json.loads(l) for l in open("%s/rest_%d.jsonl" % (tmp, k))]
    assert len(held) + len(rest) == len(rows), k
    assert {r["text"] for r in held}.isdisjoint(r["text"] for r in rest), k
    for r in held:
        assert r["text"] not in fold_of, r
        fold_of[r["text"]] = k
assert len(fold_of) == len(rows)
groups = {}
for r in rows:
    if "group" in r:
        groups.setdefault(r["group"], set()).add(fold_of[r["text"]])
    else:  # no group: the fold of the text hash
        assert fold_of[r["text"]] == (zlib.crc32(r["text"].encode()) // 100) % 3, r
assert all(len(f) == 1 for f in groups.values()), groups
assert len(set.union(*groups.values())) == 3, "every fold gets some groups"
PY

# A corrupt model is a clear error, not a crash.
head -c 100 "$tmp/tiny.wmod" > "$tmp/cut.wmod"
set +e
err="$(printf '%s\n' '{"text": "x"}' | "$bin" score --model "$tmp/cut.wmod" 2>&1)"
status=$?
set -e
[ "$status" -eq 1 ] || { echo "expected exit 1, got $status"; exit 1; }
printf '%s\n' "$err" | grep -c "cut.wmod" >/dev/null

# A misspelt flag is refused, naming it: `score --modle M` scored with the default model and
# `train --epoch 9` trained with the default epochs.
for args in "score --modle $tmp/tiny.wmod" "train --data $data --out $tmp/x.wmod --epoch 9" \
            "eval --model $tmp/tiny.wmod --data $data --hierachy 1" \
            "ensemble --linear $tmp/tiny.wmod --bag $tmp/bag.wmod --data $data --out $tmp/x.wmod --stack 1"; do
  set +e
  err="$(printf '%s\n' '{"text": "x"}' | "$bin" $args 2>&1 >/dev/null)"
  status=$?
  set -e
  [ "$status" -eq 1 ] || { echo "classifier $args: exit $status, want 1"; exit 1; }
  printf '%s\n' "$err" | grep -q "unknown flag --" || { echo "classifier $args: $err"; exit 1; }
done
# A data file without rows (empty, or a directory) is refused: eval printed a 0-row report
# with exit 0. So is an eval --hierarchy other than 0 or 1 (it evaluated without the cap).
: > "$tmp/empty.jsonl"
for args in "eval --model $tmp/tiny.wmod --data $tmp/empty.jsonl" "eval --model $tmp/tiny.wmod --data $tmp" \
            "train --data $tmp --out $tmp/x.wmod" "eval --model $tmp/tiny.wmod --data $data --hierarchy 2"; do
  set +e
  err="$("$bin" $args 2>&1 >/dev/null)"
  status=$?
  set -e
  [ "$status" -eq 1 ] || { echo "classifier $args: exit $status, want 1"; exit 1; }
  printf '%s\n' "$err" | grep -qE "holds no rows|is a directory|must be 0 or 1" || { echo "classifier $args: $err"; exit 1; }
done
# Scores that cannot be written are an error, not exit 0 with the scores lost.
set +e
printf '%s\n' '{"text": "x"}' | "$bin" score >/dev/full 2>"$tmp/full.err"
status=$?
set -e
[ "$status" -eq 1 ] && grep -q "writing the scores" "$tmp/full.err" || { echo "score >/dev/full: exit $status"; exit 1; }

# Asked-for help is usage on stdout and exit 0, for the tool and for each command.
for args in "--help" "help" "-h" "score --help" "train --help" "eval -h"; do
  "$bin" $args 2>/dev/null | grep -q "^usage: classifier score" || { echo "classifier $args: no usage on stdout"; exit 1; }
done
echo PASS
