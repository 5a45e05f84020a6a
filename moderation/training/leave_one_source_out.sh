#!/bin/bash
# Leave-one-source-out evaluation of the shipped fast classifier's recipe (issue #6).
#
#   moderation/training/leave_one_source_out.sh [DATASETS_DIR] [WORK_DIR] [SOURCE...]
#
# The held-out metrics in MODEL_CARD.md are measured on texts of sources the model trained
# on. This script measures the recipe on a source it never saw: for each public source S it
# trains train_default.sh's two members and ensemble (same flags, seed 1) on train.jsonl
# without any row of S (so the ensemble's thresholds come from rows without S too), then runs
# `classifier eval` of that model and of the shipped moderation/models/default.wmod on S's
# held-out rows, and prints one table (AUPRC and F1 at each model's own thresholds, seen ->
# unseen, per category with >= 10 held-out positives in S, and a macro per source).
#
# DATASETS_DIR and WORK_DIR default as in train_default.sh; prepare.py runs only when
# WORK_DIR has no train.jsonl/heldout.jsonl. Everything is written to WORK_DIR/loso/S/,
# never into the repository. Without SOURCE arguments every public source with >= 10
# held-out positives in some category is run (`loso_table.py sources`), largest first;
# authored/* rows are ours and never left out. A source whose model was already trained on
# byte-identical rows with the same recipe and binary is not trained again (stamp file).
# LOSO_VERIFY_RECIPE=1 first trains on the full train.jsonl and requires a model
# byte-identical to the shipped one (proves the recipe is still the shipped model's).
# Run it with `nice -n 19`: each training takes 1-4 minutes on one core.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
datasets="${1:-$repo/../shared/datasets}"
work="${2:-$HOME/.cache/warden/moderation-data}"
shift $(( $# < 2 ? $# : 2 ))
cd "$repo"
helper="/usr/bin/python3 $repo/moderation/training/loso_table.py"
shipped="$repo/moderation/models/default.wmod"

if [[ ! -s "$work/train.jsonl" || ! -s "$work/heldout.jsonl" ]]; then
  /usr/bin/python3 moderation/training/prepare.py --datasets "$datasets" --out "$work"
fi
bazel build -c opt --jobs=2 //moderation:classifier
# A copy: bazel-bin follows the last build's configuration, so a build started meanwhile
# (another configuration) would take the binary away mid-run.
bin="$work/classifier"
cp -f "$repo/bazel-bin/moderation/classifier" "$bin"

# train_default.sh's recipe (recipe.sh), with this script's output paths and ensemble id.
# shellcheck source=moderation/training/recipe.sh
source "$repo/moderation/training/recipe.sh"
train_variant() {  # TRAIN_FILE OUT_DIR ENSEMBLE_ID
  train_recipe "$bin" "$1" "$2" "$2/default.wmod" "$3"
}

if [[ "${LOSO_VERIFY_RECIPE:-0}" == 1 ]]; then
  mkdir -p "$work/loso/_all"
  train_variant "$work/train.jsonl" "$work/loso/_all" "default-v9" > "$work/loso/_all/train.log" 2>&1 ||
    { echo "recipe check: training failed; see $work/loso/_all/train.log" >&2; exit 1; }
  if ! cmp -s "$work/loso/_all/default.wmod" "$shipped"; then
    echo "recipe check FAILED: the full-data model differs from $shipped" >&2
    exit 1
  fi
  echo "recipe check: the full-data model is byte-identical to the shipped default.wmod"
fi

if (( $# > 0 )); then
  sources=("$@")
else
  mapfile -t sources < <($helper sources "$work/heldout.jsonl")
  (( ${#sources[@]} > 0 )) || { echo "no source to leave out" >&2; exit 1; }
fi
echo "sources: ${sources[*]}"

for source in "${sources[@]}"; do
  if [[ "$source" == authored/* || "$source" == */* || -z "$source" ]]; then
    echo "$source: not a public source name (authored/* rows are ours and stay in)" >&2
    exit 2
  fi
  dir="$work/loso/$source"
  start=$SECONDS
  $helper split "$work/train.jsonl" "$work/heldout.jsonl" "$source" "$dir"
  stamp="$( (cat "$dir/train.jsonl" "$bin"; declare -f train_recipe train_variant) | sha256sum | cut -c1-64)"
  if [[ -s "$dir/default.wmod" && "$(cat "$dir/stamp" 2>/dev/null)" == "$stamp" ]]; then
    echo "$source: model already trained on these rows with this recipe; not retrained"
  else
    rm -f "$dir/stamp"
    if ! train_variant "$dir/train.jsonl" "$dir" "default-v9-without-$source" > "$dir/train.log" 2>&1
    then
      echo "$source: training failed; see $dir/train.log" >&2
      exit 1
    fi
    echo "$stamp" > "$dir/stamp"
    echo "$source: trained in $(( SECONDS - start )) s"
  fi
  "$bin" eval --model "$shipped" --data "$dir/heldout.jsonl" > "$dir/eval_seen.txt"
  "$bin" eval --model "$dir/default.wmod" --data "$dir/heldout.jsonl" > "$dir/eval_unseen.txt"
  rm -f "$dir/train.jsonl"  # 30 MB per source; the stamp keeps its digest
done

echo
echo "AUPRC, and F1 and recall at each model's own thresholds, on each source's held-out rows:"
echo "seen = shipped default.wmod (trained with the source), unseen = same recipe without it."
$helper table "$work/train.jsonl" "$work/loso" "${sources[@]}"
