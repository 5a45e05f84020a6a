#!/usr/bin/env python3
"""Out-of-fold first-stage scores for fitting the stacking layer (MODEL_CARD.md, v7).

  out_of_fold.py split --data train.jsonl --folds K --fold k --rest OUT1 --held OUT2
      Writes the rows outside fold k (the fold model trains on them) and the rows of fold k
      (it scores them). A row's fold is (CRC-32 of its key // 100) % K, where the key is the
      row's "group" when it has one (prepare.py: one HateCheck template, one prompt's
      sentences), else its text: a group never straddles the folds, so a fold model has not
      seen the templates of the rows it scores. Independent of the trainers' development
      split (CRC-32 % 100 < 10 of the same key), deterministic, standard library only.
  out_of_fold.py merge --folds K --held_pattern 'fold_{k}.jsonl' --scores_pattern
      'fold_{k}.scores' --out oof.jsonl
      Joins each fold's rows with the scores `classifier score` printed for them, line by
      line, into training rows with one more field, "first_stage": {category: p}.
"""
import argparse
import json
import sys
import zlib


def split_key(row):
    """What the folds hash: the row's group, else its text (as DevSplitKey in C++)."""
    group = row.get("group")
    return group if isinstance(group, str) and group else row["text"]


def fold_of(row, folds):
    return (zlib.crc32(split_key(row).encode("utf-8")) // 100) % folds


def split(args):
    with open(args.data, encoding="utf-8") as src, \
         open(args.rest, "w", encoding="utf-8") as rest, \
         open(args.held, "w", encoding="utf-8") as held:
        for line in src:
            if not line.strip():
                continue
            row = json.loads(line)
            (held if fold_of(row, args.folds) == args.fold else rest).write(line)


def merge(args):
    with open(args.out, "w", encoding="utf-8") as out:
        for k in range(args.folds):
            with open(args.held_pattern.format(k=k), encoding="utf-8") as rows, \
                 open(args.scores_pattern.format(k=k), encoding="utf-8") as scores:
                row_lines = [l for l in rows if l.strip()]
                score_lines = [l for l in scores if l.strip()]
                if len(row_lines) != len(score_lines):
                    sys.exit(f"fold {k}: {len(row_lines)} rows but {len(score_lines)} scores")
                for row_line, score_line in zip(row_lines, score_lines):
                    row = json.loads(row_line)
                    scored = json.loads(score_line)
                    if "scores" not in scored:
                        sys.exit(f"fold {k}: a row was not scored: {scored}")
                    row["first_stage"] = scored["scores"]
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("split")
    s.add_argument("--data", required=True)
    s.add_argument("--folds", type=int, required=True)
    s.add_argument("--fold", type=int, required=True)
    s.add_argument("--rest", required=True)
    s.add_argument("--held", required=True)
    m = sub.add_parser("merge")
    m.add_argument("--folds", type=int, required=True)
    m.add_argument("--held_pattern", required=True)
    m.add_argument("--scores_pattern", required=True)
    m.add_argument("--out", required=True)
    args = parser.parse_args()
    split(args) if args.command == "split" else merge(args)


if __name__ == "__main__":
    main()
