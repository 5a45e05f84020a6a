# The shipped fast classifier's training recipe (default-v9: v8's recipe and text folding version 3, five more
# authored files, thresholds the median over 101 bootstrap resamples of the development rows), sourced by train_default.sh
# and leave_one_source_out.sh so that both train with the same flags. See MODEL_CARD.md,
# "Choices", for why each flag has its value; changing one changes the shipped model.
#
#   train_recipe CLASSIFIER_BIN TRAIN_FILE MEMBERS_DIR ENSEMBLE_OUT ENSEMBLE_ID
#
# Trains the linear and the bag member into MEMBERS_DIR/{linear,bag}.wmod (seed 1, one
# thread: deterministic) and combines them into ENSEMBLE_OUT, whose thresholds are chosen
# on the development rows of TRAIN_FILE (each category's the median of the best-F0.5 thresholds
# of 101 bootstrap resamples of them: BootstrapMedianThreshold in moderation/metrics.h).
train_recipe() {
  local bin="$1" data="$2" members="$3" out="$4" id="$5"
  "$bin" train --data "$data" --out "$members/linear.wmod" \
    --seed 1 --epochs 6 --learning_rate 0.3 --l2 0.001 --max_positive_weight 1 --length_norm 2 \
    --repeats 1 --source_balance_rows 2000 --group_sources 1 --threshold_beta 0.5 --buckets_log2 17 \
    --id "linear-v9"
  "$bin" train --kind bag --data "$data" --out "$members/bag.wmod" \
    --seed 1 --epochs 6 --learning_rate 0.1 --l2 0.001 --max_positive_weight 1 --length_norm 2 \
    --repeats 1 --source_balance_rows 2000 --group_sources 1 --threshold_beta 0.5 --buckets_log2 17 \
    --dim 32 --hidden 0 --hierarchy 0 --id "bag-v9"
  "$bin" ensemble --linear "$members/linear.wmod" --bag "$members/bag.wmod" --data "$data" \
    --threshold_beta 0.5 --threshold_resamples 101 --hierarchy 0 --id "$id" --out "$out"
}
