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
# The flags are in recipe.sh (shared with leave_one_source_out.sh).
# Training is deterministic (seed 1): the same data and code give a byte-identical model.
# Prints the held-out evaluation at the end.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
datasets="${1:-$repo/../shared/datasets}"
work="${2:-$HOME/.cache/warden/moderation-data}"
cd "$repo"
/usr/bin/python3 moderation/training/prepare.py --datasets "$datasets" --out "$work"
bazel build -c opt --jobs=2 //moderation:classifier
# A copy: bazel-bin follows the last build's configuration, so a build started meanwhile
# (another configuration) would take the binary away mid-run.
bin="$work/classifier"
cp -f "$repo/bazel-bin/moderation/classifier" "$bin"
# shellcheck source=moderation/training/recipe.sh
source "$repo/moderation/training/recipe.sh"
train_recipe "$bin" "$work/train.jsonl" "$work" "$repo/moderation/models/default.wmod" "default-v9"
"$bin" eval --model "$repo/moderation/models/default.wmod" --data "$work/heldout.jsonl"
