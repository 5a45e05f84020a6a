#!/usr/bin/python3
"""Helper of leave_one_source_out.sh: lists the sources, splits the rows, prints the table.

  loso_table.py sources HELDOUT
      Public sources (every `authored/*` source is ours and is never left out) whose
      held-out rows have >= 10 positives in at least one category, most held-out rows
      first (the largest sources first, for runs cut short). One name a line.
  loso_table.py split TRAIN HELDOUT SOURCE OUT_DIR
      Writes OUT_DIR/train.jsonl (every training row whose `source` is not SOURCE, in the
      original order) and OUT_DIR/heldout.jsonl (the held-out rows of SOURCE), and prints
      how many rows of SOURCE each file holds (the training file must hold 0).
  loso_table.py table LOSO_DIR SOURCE...
      Reads LOSO_DIR/SOURCE/eval_seen.txt (`classifier eval` of the shipped model) and
      eval_unseen.txt (the model trained without SOURCE) and prints one Markdown table:
      per source and per category with >= 10 held-out positives, AUPRC and F1 at the
      model's own thresholds, seen -> unseen, and a per-source macro over those categories.

Standard library only. Rows are matched on the parsed `source` field, not by text search.
"""
import json
import os
import sys

MIN_POSITIVES = 10


def read_rows(path):
    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield line, json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{line_number}: not JSON: {e}")


def is_ours(source):
    return source.startswith("authored/")


def list_sources(heldout):
    """Public sources with >= MIN_POSITIVES held-out positives in some category."""
    rows = {}
    positives = {}
    for _, row in read_rows(heldout):
        source = row.get("source", "")
        if is_ours(source):
            continue
        rows[source] = rows.get(source, 0) + 1
        unknown = set(row.get("unknown", []))
        counts = positives.setdefault(source, {})
        for category in row.get("categories", []):
            if category not in unknown:
                counts[category] = counts.get(category, 0) + 1
    eligible = [s for s in rows if max(positives[s].values(), default=0) >= MIN_POSITIVES]
    skipped = sorted(s for s in rows if s not in eligible)
    print("skipped (< %d held-out positives in every category): %s"
          % (MIN_POSITIVES, " ".join(skipped)), file=sys.stderr)
    for source in sorted(eligible, key=lambda s: (-rows[s], s)):
        print(source)


def split(train, heldout, source, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    kept = removed = 0
    with open(os.path.join(out_dir, "train.jsonl"), "w", encoding="utf-8") as out:
        for line, row in read_rows(train):
            if row.get("source") == source:
                removed += 1
            else:
                out.write(line)
                kept += 1
    held = 0
    with open(os.path.join(out_dir, "heldout.jsonl"), "w", encoding="utf-8") as out:
        for line, row in read_rows(heldout):
            if row.get("source") == source:
                out.write(line)
                held += 1
    # Count again from the written file: the check reads what training will read.
    left = sum(1 for _, row in read_rows(os.path.join(out_dir, "train.jsonl"))
               if row.get("source") == source)
    print(f"{source}: {removed} training rows removed, {kept} kept; "
          f"rows of {source} in the training file: {left}; held-out rows: {held}")
    if left != 0 or removed == 0 or held == 0:
        sys.exit(f"{source}: bad split (left {left}, removed {removed}, held-out {held})")


def parse_eval(path):
    """Returns {category: (positives, f1, auprc)} from the '== all sources' table."""
    result = {}
    in_table = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("== all sources"):
                in_table = True
                continue
            if not in_table:
                continue
            if line.startswith("macro AUPRC") or line.startswith("=="):
                break
            fields = line.split()
            if len(fields) < 7 or fields[0] == "category":
                continue
            try:
                positives = int(fields[1])
                f1, auprc = float(fields[5]), float(fields[6])
            except ValueError:
                continue
            result[fields[0]] = (positives, f1, auprc)
    if not result:
        sys.exit(f"{path}: no '== all sources' table")
    return result


def table(loso_dir, sources):
    print("| source | category | held-out pos | AUPRC seen → unseen | F1 seen → unseen |")
    print("|---|---|---|---|---|")
    totals = []
    for source in sources:
        seen = parse_eval(os.path.join(loso_dir, source, "eval_seen.txt"))
        unseen = parse_eval(os.path.join(loso_dir, source, "eval_unseen.txt"))
        rows = [(c, seen[c], unseen[c]) for c in seen
                if seen[c][0] >= MIN_POSITIVES and c in unseen]
        if not rows:
            continue
        for category, (pos, f1_s, ap_s), (_, f1_u, ap_u) in rows:
            print(f"| {source} | {category} | {pos} | {ap_s:.3f} → {ap_u:.3f} "
                  f"({ap_u - ap_s:+.3f}) | {f1_s:.3f} → {f1_u:.3f} |")
        n = len(rows)
        macro = [sum(r[i][j] for r in rows) / n for i in (1, 2) for j in (2, 1)]
        totals.append(macro)
        print(f"| **{source}** | **macro ({n})** | | **{macro[0]:.3f} → {macro[2]:.3f}** "
              f"({macro[2] - macro[0]:+.3f}) | **{macro[1]:.3f} → {macro[3]:.3f}** |")
    if totals:
        n = len(totals)
        mean = [sum(t[i] for t in totals) / n for i in range(4)]
        print(f"| **mean of the {n} source macros** | | | **{mean[0]:.3f} → {mean[2]:.3f}** "
              f"({mean[2] - mean[0]:+.3f}) | **{mean[1]:.3f} → {mean[3]:.3f}** |")


def main(argv):
    if len(argv) >= 3 and argv[1] == "sources":
        list_sources(argv[2])
    elif len(argv) == 6 and argv[1] == "split":
        split(*argv[2:])
    elif len(argv) >= 3 and argv[1] == "table":
        table(argv[2], argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
