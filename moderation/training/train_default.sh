#!/bin/bash
# Reproduces the shipped fast classifier model, moderation/models/default.wmod.
#
#   moderation/training/train_default.sh [DATASETS_DIR] [WORK_DIR]
#
# DATASETS_DIR defaults to ../shared/datasets (relative to the repository root) and is only
# read; WORK_DIR (default ~/.cache/warden/moderation-data) receives the converted JSON lines
# and the two member models, which never enter the repository. The shipped model is an
# ensemble (see MODEL_CARD.md): a linear model and an embedding-bag model trained on the
# same rows, combined into one file whose thresholds are chosen on the development rows.
# Both members count each distinct hashed feature of a text once (--repeats 1, default-v4);
# the bag's L2 is 0.001 (v3: 0.0001), which keeps single rare n-grams from carrying short
# texts now that repeats no longer dilute them (MODEL_CARD.md, "Choices"). All authored files
# count as one source for the source weight (--group_sources 1, default-v6): as separate
# small sources each got the maximum weight 4 and the model learnt their phrasing.
# Training is deterministic (seed 1): the same data and code give a byte-identical model.
# Prints the held-out evaluation at the end.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
datasets="${1:-$repo/../shared/datasets}"
work="${2:-$HOME/.cache/warden/moderation-data}"
cd "$repo"
/usr/bin/python3 moderation/training/prepare.py --datasets "$datasets" --out "$work"
bazel build -c opt --jobs=2 //moderation:classifier
bin="$repo/bazel-bin/moderation/classifier"
"$bin" train --data "$work/train.jsonl" --out "$work/linear.wmod" \
  --seed 1 --epochs 6 --learning_rate 0.3 --l2 0.001 --max_positive_weight 1 --length_norm 2 \
  --repeats 1 --source_balance_rows 2000 --group_sources 1 --threshold_beta 0.5 --buckets_log2 17 \
  --id "linear-v6"
"$bin" train --kind bag --data "$work/train.jsonl" --out "$work/bag.wmod" \
  --seed 1 --epochs 6 --learning_rate 0.1 --l2 0.001 --max_positive_weight 1 --length_norm 2 \
  --repeats 1 --source_balance_rows 2000 --group_sources 1 --threshold_beta 0.5 --buckets_log2 17 \
  --dim 32 --hidden 0 --hierarchy 0 --id "bag-v6"
"$bin" ensemble --linear "$work/linear.wmod" --bag "$work/bag.wmod" --data "$work/train.jsonl" \
  --threshold_beta 0.5 --hierarchy 0 --id "default-v6" --out "$repo/moderation/models/default.wmod"
"$bin" eval --model "$repo/moderation/models/default.wmod" --data "$work/heldout.jsonl"
